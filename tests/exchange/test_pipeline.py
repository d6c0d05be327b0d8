"""The one import pipeline: every changed value in the preview, history kept per figure, one batch per
preview (a unique constraint, also under concurrent confirms), validation reports that re-import."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunlian.cli import app as cli_app
from qunlian.core.errors import ValidationFailed
from qunlian.enterprises.enterprise_years import AlreadyConfirmed, import_enterprise_years, write_report
from qunlian.enterprises.history import figures_as_of, revisions
from qunlian.enterprises.models import Enterprise, EnterpriseYear, FigureRevision
from qunlian.platform.db import session_factory
from qunlian.platform.models import ImportBatch


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _tax_file(tmp_path: Path, store, tax1: float, tax2: float, name: str = "tax.csv") -> Path:
    return _csv(tmp_path / name, "统一社会信用代码,年度,税收（万元）,用电量（万千瓦时）\n"
                f"{store.uscc['e1']},2023,{tax1},500\n{store.uscc['e2']},2023,{tax2},80\n")


def _count(engine, model) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_preview_lists_every_changed_value_old_and_new(web_store, tmp_path: Path):
    import_enterprise_years(web_store.engine, _tax_file(tmp_path, web_store, 750, 90, "a.csv"))
    preview = import_enterprise_years(web_store.engine, _tax_file(tmp_path, web_store, 760.5, 90, "b.csv"), dry_run=True)
    assert [(c.uscc, c.year, c.field, c.old, c.new) for c in preview.changes] == [
        (web_store.uscc["e1"], 2023, "tax_wan", 750.0, 760.5)]
    assert preview.changes[0].name == "平湖光联通信有限公司"
    assert (preview.cells_changed, preview.cells_unchanged, preview.years_replaced) == (1, 3, 1)


def test_a_corrected_figure_keeps_its_history_and_shows_as_it_stood(web_store, tmp_path: Path):
    first = import_enterprise_years(web_store.engine, _tax_file(tmp_path, web_store, 700, 90, "a.csv"))
    with session_factory(web_store.engine)() as s:
        between = s.get(ImportBatch, first.batch_id).created_at
    time.sleep(0.05)
    import_enterprise_years(web_store.engine, _tax_file(tmp_path, web_store, 712, 90, "b.csv"))
    with session_factory(web_store.engine)() as s:
        eid = s.scalar(select(Enterprise.id).where(Enterprise.uscc == web_store.uscc["e1"]))
        history = [(r.field, r.old, r.new) for r in revisions(s, eid) if r.field == "tax_wan"]
        assert history == [("tax_wan", 700.0, 712.0), ("tax_wan", 750.0, 700.0)]  # newest first, seed value 750
        assert figures_as_of(s, eid, between)[2023]["tax_wan"] == 700.0
        assert figures_as_of(s, eid, between - dt.timedelta(days=1))[2023]["tax_wan"] == 750.0
        assert figures_as_of(s, eid, None)[2023]["tax_wan"] == 712.0


def test_one_preview_is_one_batch_even_when_confirmed_twice(web_store, tmp_path: Path):
    f = _tax_file(tmp_path, web_store, 801, 91)
    import_enterprise_years(web_store.engine, f, preview_token="t" * 32)
    batches, years = _count(web_store.engine, ImportBatch), _count(web_store.engine, FigureRevision)
    with pytest.raises(AlreadyConfirmed):  # the same preview again, after the store changed
        import_enterprise_years(web_store.engine, _tax_file(tmp_path, web_store, 802, 92, "c.csv"),
                                preview_token="t" * 32)
    assert (_count(web_store.engine, ImportBatch), _count(web_store.engine, FigureRevision)) == (batches, years)


def test_two_people_confirming_one_preview_at_once_make_one_batch(web_store, tmp_path: Path):
    f = _tax_file(tmp_path, web_store, 901, 99)
    before = _count(web_store.engine, ImportBatch)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        start.wait()
        try:
            res = import_enterprise_years(web_store.engine, f, preview_token="same-preview")
            # the one that comes second after the first committed finds nothing to change
            outcomes.append("unchanged" if res.unchanged else "imported")
        except AlreadyConfirmed:
            outcomes.append("already")
        except Exception as exc:  # shown in the assertion below: a lock error here would be a bug
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) in (["already", "imported"], ["imported", "unchanged"])
    assert _count(web_store.engine, ImportBatch) == before + 1


def test_the_validation_report_marks_the_cells_and_reimports_once_fixed(web_store, tmp_path: Path):
    bad = tmp_path / "坏.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "税收"
    ws.append(["统一社会信用代码", "年度", "税收（万元）", "镇街道"])
    ws.append([web_store.uscc["e1"], 2023, "很多", "当湖街道"])
    ws.append([web_store.uscc["e2"], 2023, 12, "不存在镇"])
    wb.save(bad)
    with pytest.raises(ValidationFailed) as exc:
        import_enterprise_years(web_store.engine, bad)
    report = tmp_path / "report.xlsx"
    write_report(bad, exc.value.problems, report)
    out = openpyxl.load_workbook(report)
    data, listing = out["税收"], out["问题清单"]
    assert data["C2"].fill.fgColor.rgb.endswith("FFC7CE") and "数字" in data["C2"].comment.text
    assert data["D3"].fill.fgColor.rgb.endswith("FFC7CE") and "不存在镇" in data["D3"].comment.text
    assert data["A2"].comment is None and data["B2"].fill.fgColor.rgb in ("00000000", None)
    assert listing.max_row == 1 + len(exc.value.problems)
    data["C2"], data["D3"] = 760, "乍浦镇"  # the person fixes the red cells and re-imports the report
    out.save(report)
    res = import_enterprise_years(web_store.engine, report)
    assert res.years_replaced == 2 and res.batch_id is not None


def test_cli_report_changes_and_chinese_headers(web_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUNLIAN_DATABASE_URL", web_store.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    bad = _csv(tmp_path / "bad.csv", f"统一社会信用代码,年度,税收（万元）\n{web_store.uscc['e1']},2023,abc\n")
    r = runner.invoke(cli_app, ["import", "enterprise-years", str(bad), "--report", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 1 and (tmp_path / "r.xlsx").is_file()
    assert openpyxl.load_workbook(tmp_path / "r.xlsx")["问题清单"].max_row == 2
    r = runner.invoke(cli_app, ["import", "enterprise-years", str(_tax_file(tmp_path, web_store, 751, 90)), "--changes"])
    assert r.exit_code == 0, r.output
    assert "tax_wan: 750.0 → 751.0" in r.output
    out = tmp_path / "zh.csv"
    r = runner.invoke(cli_app, ["export", "enterprise-years", "--year", "2023", "--output", str(out), "--headers", "zh"])
    assert r.exit_code == 0, r.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["统一社会信用代码", "企业名称", "年度"] and "税收（万元）" in header
    again = import_enterprise_years(web_store.engine, out)  # Chinese headings import back unchanged
    assert again.unchanged and again.cells_changed == 0
    r = runner.invoke(cli_app, ["export", "enterprise-years", "--year", "2023", "--output", str(out), "--headers", "fr"])
    assert r.exit_code == 2
    with session_factory(web_store.engine)() as s:
        assert s.scalar(select(EnterpriseYear.tax_wan).join(Enterprise).where(
            Enterprise.uscc == web_store.uscc["e1"], EnterpriseYear.year == 2023)) == 751.0
