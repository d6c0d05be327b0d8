"""The import as a bureau clerk does it, in Debian's Chromium: download the tax template from the page,
fill it in (as Excel or WPS would save it), upload, read what changes, confirm, see the history; and a
broken file's validation report downloaded from the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from browser_support import BROWSER_MARKS, Visit, serve

from web_helpers import WebStore

pytestmark = BROWSER_MARKS


@pytest.fixture
def live_server(web_store: WebStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(tmp_path / "data"))
    with serve(web_store.engine) as url:
        yield url


def test_template_fill_preview_confirm_history_in_the_browser(browser, live_server, web_store, tmp_path):
    v = Visit(browser, live_server, "import-admin")
    v.login(web_store.users["admin"])
    page = v.go("/imports")
    with page.expect_download() as info:
        page.get_by_test_id("template-tax").click()
    template = tmp_path / info.value.suggested_filename
    info.value.save_as(template)
    assert template.name == "模板-税收数据-tax-v2026.1.xlsx"
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    firm = web_store.uscc["e1"]
    ws["A4"], ws["C4"], ws["D4"] = firm, 2023, 812.5  # 税收 in 万元 as the unit row says
    filled = tmp_path / "平湖税务局-2023.xlsx"
    wb.save(filled)

    page.set_input_files("[data-testid=file]", str(filled))
    page.fill("[data-testid=source]", "税务局")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=import-preview]")
    change = page.locator(f"[data-testid=preview-changes] tr[data-uscc='{firm}'][data-field='tax_wan']")
    assert "750" in change.locator("td.old").inner_text() and "812.5" in change.locator("td.new").inner_text()
    assert "税收数据" in page.get_by_test_id("preview-template").inner_text()
    v.shot("preview")
    page.get_by_test_id("confirm").click()
    page.wait_for_selector("[data-testid=import-done]")
    page = v.go(f"/enterprises/{firm}")
    page.get_by_test_id("history-link").click()
    page.wait_for_selector("[data-testid=revisions]")
    assert "812.5" in page.get_by_test_id("revisions").inner_text()
    v.shot("history")

    broken = tmp_path / "有错.xlsx"
    ws["C4"] = "二〇二三"
    wb.save(broken)
    page = v.go("/imports")
    page.set_input_files("[data-testid=file]", str(broken))
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=import-problems]")
    with page.expect_download() as info:
        page.get_by_test_id("report-link").click()
    report = tmp_path / "report.xlsx"
    info.value.save_as(report)
    sheet = openpyxl.load_workbook(report).worksheets[0]
    assert sheet["C4"].comment is not None and "年度" in sheet["C4"].comment.text
    v.close()
