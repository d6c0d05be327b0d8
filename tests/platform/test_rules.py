"""The one strict YAML loader (qunlian.platform.rules): repeated keys at any depth, unknown keys named
with file, key path and line, a source required, dated versions; and every shipped file goes through it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from qunlian.core.errors import ValidationFailed
from qunlian.platform import rules
from qunlian.platform.rules import Dated, RulesError, Source, Strict, StrictValues
from qunlian.platform.i18n import translate


class Item(StrictValues):
    code: str
    weight: float


class Preset(Dated):
    title: str
    items: list[Item] = Field(default_factory=list)


GOOD = """\
id: demo-rule
version: "2024.1"
effective: {from_year: 2024, to_year: 2025}
sources:
  - title: 某县亩均效益评价办法
    publisher: 某县经信局
    doc_number: 某经信〔2024〕1号
    published: 2024-03-01
    seed: 000_x.txt
    sections: [附件1]
title: 示例
items:
  - {code: tax, weight: 30}
  - {code: land, weight: 20}
"""


def refused(text: str, model: type = Preset, file: str = "f.yaml", **kw) -> RulesError:
    with pytest.raises(RulesError) as info:
        rules.parse(model, text, file, **kw)
    exc = info.value
    assert isinstance(exc, ValidationFailed) and exc.problems
    assert all(p.file == file for p in exc.problems)
    return exc


def test_a_dated_version_is_parsed():
    p = rules.parse(Preset, GOOD, "f.yaml")
    assert (p.id, p.version, p.label()) == ("demo-rule", "2024.1", "demo-rule@2024.1")
    assert p.effective.contains(2024) and p.effective.contains(2025) and not p.effective.contains(2026)
    assert p.effective.overlaps(rules.Period(from_year=2025)) and not p.effective.overlaps(rules.Period(from_year=2026))
    src = p.sources[0]
    assert src.published == dt.date(2024, 3, 1)
    assert src.cite() == "《某县亩均效益评价办法》，某经信〔2024〕1号，2024-03-01；附件1（seed 000_x.txt）"
    assert [i.weight for i in p.items] == [30.0, 20.0]


def test_an_unquoted_version_and_a_reversed_period_are_refused():
    exc = refused(GOOD.replace('version: "2024.1"', "version: 2024"))
    p = exc.problems[0]
    assert p.column == "version" and p.row == 2 and "引号" in p.fix
    exc = refused(GOOD.replace("to_year: 2025", "to_year: 2023"))
    assert exc.problems[0].column == "effective" and "before from_year" in exc.problems[0].message


@pytest.mark.parametrize("sources", [None, "sources: []\n", "sources:\n  - {title: '  '}\n", "sources:\n  - {note: x}\n"])
def test_a_missing_or_empty_source_is_refused(sources):
    head, _, rest = GOOD.partition("sources:\n")
    rest = rest[rest.index("title: 示例"):]
    text = head + (sources or "") + rest
    exc = refused(text)
    assert any(p.column and p.column.startswith("sources") for p in exc.problems), str(exc)


def test_unknown_key_is_named_with_file_key_path_and_line():
    text = GOOD.replace("{code: land, weight: 20}", "{code: land, weight: 20, wieght: 2}")
    exc = refused(text, file="methods/county.yaml")
    (p,) = exc.problems
    assert p.column == "items[1:land].wieght" and p.row == 14
    assert "未知的键" in p.message and "wieght" in p.message and p.fix
    assert translate(p.message, "en") == "unknown key 'wieght' (not allowed here)"
    line = str(exc).splitlines()[1]
    assert line.startswith("  - methods/county.yaml: items[1:land].wieght: 未知的键") and "第 14 行" in line
    # the same error with dotted paths (plan data)
    (q,) = refused(text, paths="dotted").problems
    assert q.column == "items.1.wieght"


def test_a_quoted_number_is_not_a_number_in_strict_values():
    (p,) = refused(GOOD.replace("weight: 30", 'weight: "30"')).problems
    assert p.column == "items[0:tax].weight" and p.value == "30" and "数字" in p.fix


def test_every_problem_is_reported_at_once():
    text = GOOD.replace("title: 示例\n", "").replace("weight: 30", "weight: x") + "colour: red\n"
    exc = refused(text)
    assert {p.column for p in exc.problems} == {"title", "items[0:tax].weight", "colour"}


def test_duplicate_keys_are_refused_at_any_depth():
    text = GOOD.replace("    publisher: 某县经信局\n", "    publisher: 某县经信局\n    publisher: 另一个\n")
    (p,) = refused(text).problems
    assert "重复的键" in p.message and "'publisher'" in p.message and translate(p.message, "en") == "duplicate key 'publisher'"
    assert (p.row, p.column) == (7, "sources[0].publisher") and "第 6 行" in p.message
    top = refused(GOOD + "title: again\n").problems[0]
    assert (top.row, top.column) == (15, "title")


def test_keys_that_only_look_alike_are_not_duplicates():
    data, _ = rules.parse_yaml('a: {2025: x, "2025": y}\nb: [{k: 1}, {k: 2}]\n', "f.yaml")
    assert data == {"a": {2025: "x", "2025": "y"}, "b": [{"k": 1}, {"k": 2}]}


def test_yaml_errors_and_non_mappings():
    exc = refused("id: x\n  bad: [\n")
    assert "YAML" in exc.problems[0].message and exc.problems[0].row
    assert "键值表" in refused("- a\n- b\n").problems[0].message
    assert translate(refused("").problems[0].message, "en") == "the top level must be a mapping"
    with pytest.raises(RulesError, match="python/object"):  # safe types only: refused, never run
        rules.parse(Preset, "id: !!python/object/apply:os.system ['echo unsafe']\n", "f.yaml")


def test_load_names_the_file_and_subclasses_name_their_kind(tmp_path: Path):
    class MyError(RulesError):
        kind = "测试文件"

    with pytest.raises(MyError) as info:
        rules.load(Preset, tmp_path / "missing.yaml", error=MyError)
    assert "测试文件" in str(info.value) and "missing.yaml" in str(info.value)
    f = tmp_path / "ok.yaml"
    f.write_text(GOOD, encoding="utf-8")
    assert rules.load(Preset, f).id == "demo-rule"


def test_strict_trims_text_and_forbids_extra():
    class Row(Strict):
        name: str

    assert Row.model_validate({"name": "  平湖 "}).name == "平湖"
    with pytest.raises(ValueError):
        Row.model_validate({"name": "a", "x": 1})
    with pytest.raises(ValueError):
        Source.model_validate({"title": ""})


# --------------------------------------------------------------------------- properties

KEYS = st.text("abcdefghij_", min_size=1, max_size=6).filter(lambda k: k not in ("y", "n") and k[0] != "_")
TREES = st.recursive(
    st.integers(-1000, 1000),
    lambda inner: st.dictionaries(KEYS, inner, min_size=1, max_size=4),
    max_leaves=20,
).filter(lambda t: isinstance(t, dict))


def _emit(tree: dict, indent: int, lines: list[str], dup: tuple[tuple[str, ...], str] | None,
          path: tuple[str, ...], found: list) -> None:
    for k, v in tree.items():
        if isinstance(v, dict):
            lines.append(f"{' ' * indent}{k}:")
            _emit(v, indent + 2, lines, dup, (*path, k), found)
        else:
            lines.append(f"{' ' * indent}{k}: {v}")
    if dup is not None and dup[0] == path:
        lines.append(f"{' ' * indent}{dup[1]}: 0")
        found.append(len(lines))


def _mappings(tree: dict, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict]]:
    out = [(path, tree)]
    for k, v in tree.items():
        if isinstance(v, dict):
            out += _mappings(v, (*path, k))
    return out


@settings(max_examples=60, deadline=None)
@given(TREES)
def test_yaml_without_repeats_reads_back_exactly(tree):
    lines: list[str] = []
    _emit(tree, 0, lines, None, (), [])
    assert rules.parse_yaml("\n".join(lines) + "\n", "f.yaml")[0] == tree
    assert yaml.safe_load("\n".join(lines)) == tree


@settings(max_examples=60, deadline=None)
@given(TREES, st.data())
def test_a_repeated_key_anywhere_is_named_with_its_line_and_path(tree, data):
    path, mapping = data.draw(st.sampled_from(_mappings(tree)))
    key = data.draw(st.sampled_from(sorted(mapping)))
    lines: list[str] = []
    found: list[int] = []
    _emit(tree, 0, lines, (path, key), (), found)
    with pytest.raises(RulesError) as info:
        rules.parse_yaml("\n".join(lines) + "\n", "f.yaml")
    (p,) = info.value.problems
    assert (p.file, p.row, p.column) == ("f.yaml", found[0], ".".join((*path, key)))
    assert repr(key) in p.message


# --------------------------------------------------------------------------- the shipped files


def test_every_shipped_preset_and_data_file_is_dated_or_cited():
    from qunlian.demo.generator import load_calibration
    from qunlian.per_mu.presets import PRESETS, load_all
    from qunlian.targets.concepts import CONCEPTS_FILE, _ConceptFile
    from qunlian.targets.lights import load_status_rules
    from qunlian.regions.service import read_hierarchy, read_town_file
    from qunlian.targets.plans.loader import plan_codes, read_plan_file, read_system_files

    from qunlian.accounts.policy import load_policy
    from qunlian.platform.numbers import plausible
    from qunlian.targets.views_preset import targets_views

    dated = [*load_all([PRESETS]).values(), load_status_rules(), load_calibration(), rules.load(_ConceptFile, CONCEPTS_FILE),
             plausible(), targets_views(), load_policy().rules]
    for d in dated:
        assert isinstance(d, Dated) and d.id and d.version and d.effective.from_year and d.sources, d
        assert all(s.title for s in d.sources)
    cited = [read_plan_file(c) for c in plan_codes()] + [read_town_file(), *read_system_files()]
    for c in cited:
        assert isinstance(c, rules.Cited) and c.sources and all(s.title and s.seed for s in c.sources)
    # the hierarchy cites the division-code standard, which is not a seed: it says where the codes come from
    hierarchy = read_hierarchy()
    assert hierarchy.sources and all(s.title and (s.seed or s.note) for s in hierarchy.sources)
    # qunlian's own conventions say so in their sources
    for d in (load_status_rules(), rules.load(_ConceptFile, CONCEPTS_FILE), load_calibration(), plausible(),
              targets_views(), load_policy().rules):
        assert any(s.title.startswith("qunlian") for s in d.sources)
