"""/audit in Debian's Chromium: the chain's status arrives by HTMX after the page, the filters submit,
and the user guide's picture (docs/img/audit-log.png, refreshed with QUNLIAN_UPDATE_DOC_IMAGES=1)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from audit_helpers import write
from browser_support import BROWSER_MARKS, DOC_IMAGES, Visit, serve
from web_helpers import WebStore

pytestmark = BROWSER_MARKS


@pytest.fixture
def live_server(web_store: WebStore) -> Iterator[str]:
    write(web_store.engine, 3, actor="cli", action="targets.task.close", note="已完成")
    with serve(web_store.engine) as url:
        yield url


def test_admin_reads_the_log_and_its_chain_status(browser, live_server, web_store):
    v = Visit(browser, live_server, "admin")
    v.login("admin1")
    page = v.go("/audit")
    status = page.get_by_test_id("chain-status")
    status.wait_for()  # swapped in by HTMX after the page loaded
    assert status.get_attribute("data-ok") == "true" and page.get_by_test_id("head-hash").inner_text()
    assert page.locator("tr[data-entry]").count() == 4  # three lines and this login
    page.select_option("select[name=action]", "targets.task.close")
    page.wait_for_url("**/audit?*action=targets.task.close*")
    assert page.locator("tr[data-entry]").count() == 3
    assert page.locator("tr[data-entry]").evaluate_all("rows => rows.map(r => r.dataset.action)") == ["targets.task.close"] * 3
    shot = v.shot("audit")
    if os.environ.get("QUNLIAN_UPDATE_DOC_IMAGES") == "1":
        shutil.copyfile(shot, DOC_IMAGES / "audit-log.png")
    v.close()


def test_the_link_is_only_for_admins(browser, live_server, web_store):
    v = Visit(browser, live_server, "analyst")
    v.login("analyst1")
    assert v.page.locator("nav.nav a[href='/audit']").count() == 0
    v.go("/audit", expect=403)
    v.close()
