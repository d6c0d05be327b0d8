"""Data notes (数据说明) on the shipped plan data (issue #11 item 5): the notes as data, their check
against the plans, the service API, the `qunlian plans notes` command and the pages that show them."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner
from web_helpers import PASSWORD, login, make_client

from qunlian.accounts.models import User
from qunlian.accounts.passwords import hash_password
from qunlian.cli import app
from qunlian.platform.db import transaction
from qunlian.targets.plans.loader import PlanDataError, load_reference_data
from qunlian.targets.plans.notes import check_shipped_notes, note_files, read_notes_text
from qunlian.targets.service import notes_by_item, notes_for, notes_on_indicator

CLUSTERS = "pinghu-clusters-2023-2027"  # 003
MFG14 = "pinghu-mfg-14th"  # 000
SEEDS = Path(__file__).parents[3] / "shared" / "seeds"

# the issue's list: note id → (plan, item kind, item key, note kind)
ISSUE_NOTES = {
    "clusters-land-5000-vs-2000": (CLUSTERS, "task", "1", "contradiction"),  # 003: 5000 亩 vs 2000 亩
    "clusters-tengnuo-vs-tenghuan": (CLUSTERS, "task", "1", "contradiction"),  # 空间腾挪 vs 空间腾换
    "clusters-zhuazhua-vs-qianghua": (CLUSTERS, "task", "9", "contradiction"),  # 狠抓 vs 强化招大育强
    "clusters-shigeyi-vs-shiyige": (CLUSTERS, "task", "9", "contradiction"),  # 001 十一个 vs 003 十个一
    "clusters-annex3-row10-sum": (CLUSTERS, "indicator", "t23-zhejiang-made-standards", "contradiction"),
    "clusters-annex3-row11-sum": (CLUSTERS, "indicator", "t23-pinzibiao-firms", "contradiction"),
    "mfg-rd-intensity-1-52-vs-4": (MFG14, "indicator", "rd-intensity", "contradiction"),  # 1.52 % vs ≈ 4 %
    "mfg-fashion-127-4-vs-100": (MFG14, "plan", MFG14, "contradiction"),  # 127.4 亿 vs 保持在100亿元
    "mfg-project9-115-vs-110": (MFG14, "project", "9", "doubtful_reading"),
}
# the words each side of the issue's notes must quote (the note cites where the seed prints them)
ISSUE_QUOTES = {
    "clusters-land-5000-vs-2000": ["5000亩以上", "2000亩以上"],
    "clusters-tengnuo-vs-tenghuan": ["空间腾挪", "空间腾换"],
    "clusters-zhuazhua-vs-qianghua": ["狠抓招大育强", "强化招大育强"],
    "clusters-shigeyi-vs-shiyige": ["“十一个”", "“十个一”"],
    "clusters-annex3-row10-sum": ["“浙江制造”标准(项) | 1 | 2 | 1 | 2 | 2 | 2 | 1 | 1 | 5"],
    "clusters-annex3-row11-sum": ["认证企业(家) | 1 | 2 | 1 | 2 | 2 | 2 | 1 | 1 | 7"],
    "mfg-rd-intensity-1-52-vs-4": ["1.52%", "48.55 亿元", "1217. 8亿元"],
    "mfg-fashion-127-4-vs-100": ["96亿元", "31.4亿元", "保持在 100 亿元"],
    "mfg-project9-115-vs-110": ["115", "110"],
}
NOTE_KEYS = {"id", "plan", "item_kind", "item_key", "kind", "text_zh", "text_en", "sources"}


def _all_notes() -> list[dict]:
    return [n for code in (CLUSTERS, MFG14) for n in notes_for(code)]


# --------------------------------------------------------------------------- the notes as data


def test_every_note_of_the_issue_exists_and_resolves():
    notes = {n["id"]: n for n in _all_notes()}
    for note_id, (plan, item_kind, item_key, kind) in ISSUE_NOTES.items():
        n = notes[note_id]
        assert (n["plan"], n["item_kind"], n["item_key"], n["kind"]) == (plan, item_kind, item_key, kind), note_id
        assert n["item_label"] and n["text_zh"] and n["text_en"]
        quoted = " ".join(s["quote"] for s in n["sources"])
        assert all(w in quoted for w in ISSUE_QUOTES[note_id]), note_id
        if kind == "contradiction":
            assert len(n["sources"]) >= 2  # both sides cited
    assert check_shipped_notes() == len(notes) == len({n["id"] for n in _all_notes()})
    assert [p.name for p in note_files()] == [f"{CLUSTERS}.yaml", f"{MFG14}.yaml"]


def test_001_note_names_why_it_sits_on_003_task_9():
    n = next(n for n in notes_for(CLUSTERS, "task", 9) if n["id"] == "clusters-shigeyi-vs-shiyige")
    assert {s["seed"][:3] for s in n["sources"]} == {"001", "003"}
    assert "001 不是载入的规划" in n["text_zh"] and "not a loaded plan" in n["text_en"]
    assert "十个一" in n["text_zh"] and "十一个" in n["text_zh"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed texts (shared/seeds) are not beside the checkout")
def test_every_quote_is_the_seeds_own_text():
    def flat(text: str) -> str:
        return re.sub(r"\s+", " ", text)

    for n in _all_notes():
        for s in n["sources"]:
            seed = flat((SEEDS / s["seed"]).read_text(encoding="utf-8"))
            assert seed.count(flat(s["quote"])) == 1, (n["id"], s["quote"])  # found, and only once


def test_filters_and_grouping():
    assert [n["id"] for n in notes_for(CLUSTERS, "task", "1")] == ["clusters-land-5000-vs-2000",
                                                                  "clusters-tengnuo-vs-tenghuan"]
    assert notes_for(CLUSTERS, "task", 1) == notes_for(CLUSTERS, "task", "1")
    assert notes_for(CLUSTERS, "project") == [] and notes_for("zhejiang-amb-14th") == []
    assert [n["id"] for n in notes_on_indicator(MFG14, "rd-intensity")] == ["mfg-rd-intensity-1-52-vs-4"]
    index = notes_by_item(CLUSTERS)
    assert sorted(index) == ["indicator:t23-pinzibiao-firms", "indicator:t23-zhejiang-made-standards",
                             "task:1", "task:9"]
    notes_for(CLUSTERS)[0]["text_zh"] = "changed"  # callers get copies
    assert notes_for(CLUSTERS)[0]["text_zh"] != "changed"


# --------------------------------------------------------------------------- refusals


NOTE = """plan: pinghu-clusters-2023-2027
notes:
  - id: test-note
    item: {ITEM}
    kind: doubtful_reading
    text_zh: 测试
    text_en: test
    sources:
      - {seed: 003_86af085e02e72586.txt, section: 附件3, quote: 测试}
"""


@pytest.mark.parametrize(("item", "named"), [
    ("{kind: task, seq: 63}", "没有序号为 63 的任务"),
    ("{kind: project, seq: 1}", "没有序号为 1 的重点项目"),
    ("{kind: indicator, code: no-such}", "没有指标 'no-such'"),
    ("{kind: town_cell, indicator: t23-va-growth, town: 乍浦镇}", "没有镇街道 '乍浦镇' 的目标格"),
])
def test_a_note_on_a_missing_item_is_refused_naming_the_note_and_the_item(item, named):
    with pytest.raises(PlanDataError) as exc:
        read_notes_text(NOTE.replace("{ITEM}", item), f"{CLUSTERS}.yaml")
    msg = str(exc.value)
    assert f"{CLUSTERS}.yaml: notes.0.item: 数据说明 test-note：" in msg and named in msg, msg


def test_valid_items_of_every_kind_resolve():
    for item, key in (("{kind: plan}", CLUSTERS), ("{kind: indicator, code: cluster-output}", "cluster-output"),
                      ("{kind: town_cell, indicator: t23-digital-mfg-va-growth, town: 当湖街道}",  # a "-" cell
                       "t23-digital-mfg-va-growth/当湖街道")):
        [n] = read_notes_text(NOTE.replace("{ITEM}", item), "x.yaml")
        assert n["item_key"] == key and n["item_label"]


@pytest.mark.parametrize(("change", "reason"), [
    (("kind: doubtful_reading", "kind: contradiction"), "at least two sources"),
    (("kind: doubtful_reading", "kind: doubtful"), "notes.0.kind"),
    (("text_en: test", "text_en: test\n    txet_en: x"), "未知的键 'txet_en'"),
    (("003_86af085e02e72586.txt", "003.txt"), "notes.0.sources.0.seed"),
    (("{ITEM}", "{kind: task, code: x}"), "notes.0.item.task"),
    (("plan: pinghu-clusters-2023-2027", "plan: no-such-plan"), "没有规划 'no-such-plan'"),
])
def test_schema_is_strict(change, reason):
    text = NOTE.replace(*change).replace("{ITEM}", "{kind: plan}")
    with pytest.raises(PlanDataError, match=re.escape(reason)):
        read_notes_text(text, "x.yaml")


def test_duplicate_note_ids_are_refused():
    one = NOTE.replace("{ITEM}", "{kind: plan}")
    two = one + one[one.index("  - id"):]
    with pytest.raises(PlanDataError, match="duplicate notes.id: test-note"):
        read_notes_text(two, "x.yaml")


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_json_lists_the_notes_with_the_contracted_keys():
    result = runner.invoke(app, ["plans", "notes", CLUSTERS, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["id"] for d in data] == [n["id"] for n in notes_for(CLUSTERS)]
    for d in data:
        assert set(d) == NOTE_KEYS
        assert all(set(s) == {"seed", "section", "quote"} for s in d["sources"])
    land = data[0]
    assert (land["plan"], land["item_kind"], land["item_key"], land["kind"]) == (CLUSTERS, "task", "1",
                                                                                "contradiction")
    assert json.loads(runner.invoke(app, ["plans", "notes", "zhejiang-amb-14th", "-f", "json"]).output) == []


def test_cli_text_and_unknown_plan(monkeypatch):
    out = runner.invoke(app, ["plans", "notes", MFG14]).output
    assert "[mfg-project9-115-vs-110] 存疑读法" in out and "平台载入 115 亿元" in out
    assert "000_fb6d13befd55cb52.txt" in out
    monkeypatch.setenv("QUNLIAN_LANG", "en")
    assert "The platform loads 115 亿元" in runner.invoke(app, ["plans", "notes", MFG14]).output
    bad = runner.invoke(app, ["plans", "notes", "no-such-plan"])
    assert bad.exit_code == 2 and "pinghu-mfg-14th" in bad.output


# --------------------------------------------------------------------------- pages


@pytest.fixture
def analyst(loaded: Engine):
    with transaction(loaded) as s:
        s.add(User(username="analyst1", role="analyst", password_hash=hash_password(PASSWORD), display_name="分析员"))
    c = make_client(loaded)
    assert login(c, "analyst1").status_code == 303
    return c


def _note_ids(html: str) -> list[str]:
    return re.findall(r'data-note="([^"]+)"', html)


def test_plan_page_lists_the_plans_notes_and_marks_the_items(analyst):
    html = analyst.get(f"/targets/{MFG14}").text
    card = re.search(r'<section class="card" id="data-notes".*?</section>', html, re.DOTALL).group(0)
    assert "数据说明" in card
    assert _note_ids(card) == [n["id"] for n in notes_for(MFG14)]
    assert "000_fb6d13befd55cb52.txt" in card and "48.55 亿元" in unescape(card)
    assert f'href="/targets/{MFG14}/indicators/rd-intensity"' in card
    row = re.search(r'<tr data-indicator="rd-intensity".*?</tr>', html, re.DOTALL).group(0)
    assert 'data-note="mfg-rd-intensity-1-52-vs-4"' in row and "原文矛盾" in row
    assert 'id="data-notes"' not in analyst.get("/targets/zhejiang-amb-14th").text  # no notes, no card


def test_plan_page_in_english_shows_the_english_text(analyst):
    analyst.cookies.set("lang", "en")
    html = unescape(analyst.get(f"/targets/{MFG14}").text)
    n = notes_for(MFG14, "project", 9)[0]
    assert n["text_en"] in html and n["text_zh"] not in html


def test_towns_page_marks_annex3_rows_10_and_11(analyst):
    html = analyst.get(f"/targets/{CLUSTERS}/towns?year=2023").text
    for code, note in (("t23-zhejiang-made-standards", "clusters-annex3-row10-sum"),
                       ("t23-pinzibiao-firms", "clusters-annex3-row11-sum")):
        row = re.search(rf'<tr data-indicator="{code}" data-verdict="exceeds".*?</tr>', html, re.DOTALL).group(0)
        assert f'data-note="{note}"' in row
        text = notes_for(CLUSTERS, "indicator", code)[0]["text_zh"]
        assert text in unescape(row)  # reachable: in the marker's title and its opened line
        target_row = re.search(rf'<tr data-target-row="{code}".*?</tr>', html, re.DOTALL).group(0)
        assert f'data-note="{note}"' in target_row
    other = re.search(r'<tr data-indicator="t23-mfg-investment".*?</tr>', html, re.DOTALL).group(0)
    assert "data-note=" not in other


def test_indicator_and_task_pages_show_their_notes(analyst):
    html = analyst.get(f"/targets/{CLUSTERS}/indicators/t23-pinzibiao-firms").text
    assert 'data-testid="note-mark"' in html and 'data-testid="indicator-notes"' in html
    assert _note_ids(html) == ["clusters-annex3-row11-sum"]
    tasks = analyst.get(f"/tasks?plan={CLUSTERS}").text
    one = re.search(r'<section class="card task[^"]*" id="task-1".*?</section>', tasks, re.DOTALL).group(0)
    assert _note_ids(one) == ["clusters-land-5000-vs-2000", "clusters-tengnuo-vs-tenghuan"]
    two = re.search(r'<section class="card task[^"]*" id="task-2".*?</section>', tasks, re.DOTALL).group(0)
    assert "data-note=" not in two


def test_init_checks_the_notes(engine: Engine):
    from sqlalchemy import select

    from qunlian.platform.models import AuditLog

    with transaction(engine) as s:
        load_reference_data(s, actor="test")
    with transaction(engine) as s:
        log = s.scalar(select(AuditLog).where(AuditLog.action == "reference.load"))
        assert log.detail["data_notes"] == len(_all_notes())
