"""Loader behaviour: idempotent reload, strict schemas, the 4q8l contract, GB/T 4754 codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qunlian.platform.i18n import explain
from qunlian.targets.plans.loader import (
    PlanDataError,
    _plans_dir,
    list_plan_files,
    load_plan,
    load_reference_data,
    parse_file,
    read_system_files,
)
from qunlian.targets.plans.schema import NodeSpec, PlanFile, SystemFile, TargetSpec, parse_target_text
from qunlian.platform.db import transaction
from qunlian.chains.models import ChainNode
from qunlian.platform.models import AuditLog
from qunlian.regions.models import Park, Town
from qunlian.targets.models import Indicator, Plan, PlanTask, Project, Target

# The shared reference table; the package carries an identical copy for installs without it.
_SHARED = Path("/work/shared/reference/gbt4754-2017.csv")
GBT4754 = _SHARED if _SHARED.exists() else Path(__file__).parents[2] / "src/qunlian/core/reference_data/gbt4754-2017.csv"
MODELS = (Plan, Indicator, Target, PlanTask, Project, Town, Park, ChainNode)


def _counts(engine) -> dict[str, int]:
    with transaction(engine) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_reload_is_idempotent_and_updates_in_place(engine):
    with transaction(engine) as s:
        summary = load_reference_data(s, actor="test")
    assert "55" in summary and "62" in summary
    first = _counts(engine)
    with transaction(engine) as s:
        ids = {i.code: i.id for i in s.scalars(select(Indicator))}
        # a user edit of a loaded row is put back by the next load, on the same row
        s.scalar(select(Target).where(Target.text == "[20]")).value = 99
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
    assert _counts(engine) == first
    assert first == {
        "plans": 4, "indicators": 13 + 32 + 10 + 9, "targets": 228, "plan_tasks": 62, "projects": 55,
        "towns": 8, "parks": 18, "chain_nodes": 13 + 25 + 10,
    }  # fmt: skip
    with transaction(engine) as s:
        assert {i.code: i.id for i in s.scalars(select(Indicator))} == ids
        assert s.scalar(select(Target).where(Target.text == "[20]")).value == 20
        audits = list(s.scalars(select(AuditLog).where(AuditLog.action == "reference.load")))
        assert len(audits) == 2 and audits[0].actor == "test" and audits[0].detail["projects"] == 55


def test_load_plan_alone_brings_the_towns(engine):
    with transaction(engine) as s:
        plan = load_plan(s, "pinghu-clusters-2023-2027")
        assert len(plan.tasks) == 62
        assert s.scalar(select(func.count()).select_from(Town)) == 8
    with transaction(engine) as s, pytest.raises(PlanDataError, match="pinghu-mfg-14th"):
        load_plan(s, "no-such-plan")


def test_list_plan_files():
    assert [p.name for p in list_plan_files()] == [
        "jiaxing-clusters-2022.yaml",
        "pinghu-clusters-2023-2027.yaml",
        "pinghu-mfg-14th.yaml",
        "zhejiang-amb-14th.yaml",
    ]


def test_unknown_key_is_rejected_with_file_and_key_path():
    text = (_plans_dir() / "pinghu-mfg-14th.yaml").read_text(encoding="utf-8")
    bad = text.replace("    nature: 预期性\n", "    nature: 预期性\n    natrue: 约束性\n", 1)
    with pytest.raises(PlanDataError) as exc:
        parse_file(PlanFile, "pinghu-mfg-14th.yaml", bad)
    msg = str(exc.value)
    assert "pinghu-mfg-14th.yaml" in msg and "indicators.0.natrue" in msg and "未知的键" in msg
    english = explain(exc.value, "en")
    assert english.startswith("data file pinghu-mfg-14th.yaml rejected") and "unknown key 'natrue'" in english


def test_top_level_unknown_key_and_bad_value():
    with pytest.raises(PlanDataError, match=r"x\.yaml: extra: .*未知的键"):
        parse_file(PlanFile, "x.yaml", "code: a\nextra: 1\n")
    text = (_plans_dir() / "zhejiang-amb-14th.yaml").read_text(encoding="utf-8")
    with pytest.raises(PlanDataError, match=r"zhejiang-amb-14th.yaml: indicators.1.targets.2025"):
        parse_file(PlanFile, "zhejiang-amb-14th.yaml", text.replace('targets: {2025: "33"}', "targets: {2025: 33}"))


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("29", "value", 29.0),
        ("19.48", "value", 19.48),
        ("33.3左右", "value", 33.3),
        (">50", "lower_bound", 50.0),
        ("50%以上", "lower_bound", 50.0),
        ("[20]", "cumulative", 20.0),
        ("[16]以上", "cumulative", 16.0),
        ("完成上级下达任务", "qualitative", None),
        ("待嘉兴市发改委确定后另行下达", "qualitative", None),
    ],
)
def test_target_text_rules(text, kind, value):
    assert parse_target_text(text) == (kind, value)


def test_explicit_target_must_agree_with_its_text():
    with pytest.raises(ValueError, match="does not appear"):
        TargetSpec(text="29", kind="value", value=30)
    with pytest.raises(ValueError):
        TargetSpec(text="约30", kind=None)  # digits but no rule: must be written out


def _gbt_classes() -> set[str]:
    with GBT4754.open(encoding="utf-8") as f:
        return {r["class"] for r in csv.DictReader(f) if r["class"]}


def test_every_industry_code_exists_in_gbt4754():
    classes = _gbt_classes()
    for sf in read_system_files():
        for node in sf.root.walk():
            assert set(node.industry_codes) <= classes, (sf.system, node.code, set(node.industry_codes) - classes)


def test_a_code_not_in_gbt4754_is_rejected():
    from qunlian.targets.plans.loader import _check_industry_codes

    node = NodeSpec(
        code="x",
        name="x",
        level="system",
        children=[NodeSpec(code="y", name="y", level="chain", industry_codes=["3999"])],
    )
    with pytest.raises(PlanDataError, match=r"f.yaml: root.children.0.industry_codes.0: '3999'"):
        _check_industry_codes("f.yaml", node, "root")
    with pytest.raises(PlanDataError, match="root.level"):
        parse_file(SystemFile, "f.yaml", "system: s\nsource: []\nroot: {code: s, name: s, level: chain}\n")


def test_4q8l_contract(engine):
    """Other modules rely on: root level=system; 4 clusters; 8 chains (5 key, 3 incubating), each with
    a non-empty list of 4-digit GB/T 4754 codes and its cluster as parent."""
    with transaction(engine) as s:
        load_reference_data(s)
    classes = _gbt_classes()
    with transaction(engine) as s:
        nodes = list(s.scalars(select(ChainNode).where(ChainNode.system == "4q8l")))
        roots = [n for n in nodes if n.level == "system"]
        assert len(roots) == 1 and roots[0].parent_id is None
        clusters = {n.name for n in nodes if n.level == "cluster" and n.parent_id == roots[0].id}
        assert clusters == {"新一代信息技术", "高端装备", "新材料", "生命健康"}
        chains = [n for n in nodes if n.level == "chain"]
        assert {n.name: n.kind for n in chains} == {
            "光电通信": "key", "新能源汽车": "key", "高档数控机床": "key", "C3及关联产品": "key", "生物医药": "key",
            "航空航天": "incubating", "功能性膜材料": "incubating", "电子化学品": "incubating",
        }  # fmt: skip
        for n in chains:
            assert n.parent.level == "cluster", n.name
            assert n.industry_codes and all(len(c) == 4 and c.isdigit() and c in classes for c in n.industry_codes)
        all_codes = [c for n in chains for c in n.industry_codes]
        assert len(all_codes) == len(set(all_codes)), "a code belongs to at most one chain"

        i1212 = {
            n.name: n.kind
            for n in s.scalars(select(ChainNode).where(ChainNode.system == "1212", ChainNode.level == "cluster"))
        }
        assert i1212 == {
            "数字产业": "先导",
            "先进装备制造": "主导",
            "新材料": "主导",
            "时尚智造": "优势",
            "新能源": "未来",
            "生命健康": "未来",
        }
        for n in s.scalars(select(ChainNode).where(ChainNode.system == "1212", ChainNode.level == "cluster")):
            assert n.industry_codes and set(n.industry_codes) <= classes
