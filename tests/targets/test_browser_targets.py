"""The 驾驶舱, targets, task-ledger and import pages in a real browser (Debian's Chromium + Playwright).

Walks the cockpit, a plan's status page, an indicator, the town decomposition, the task ledger
(closing a task) and an import (a broken file, then a good one, confirmed), checking the figures
shown against the store. Screenshots go to test-artifacts/screenshots/; with
QUNLIAN_UPDATE_DOC_IMAGES=1 the main ones are copied to docs/img/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import BROWSER_MARKS, DOC_IMAGES, SHOTS, Visit, numbers, serve
from sqlalchemy import select
from demo_store import CLUSTERS, DemoStore, demo_store

from qunlian.accounts.service import principal_of
from qunlian.core.uscc import make_uscc
from qunlian.platform.db import session_factory

pytestmark = BROWSER_MARKS

# the guide's 驾驶舱 and targets pictures come from the real demo county (scripts/doc-images.py);
# these show the ledger and import flows, whose figures do not depend on the store's size
MAIN_SHOTS = ["tasks-ledger", "tasks-closed", "imports-problems", "imports-preview", "imports-done"]


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStore]:
    store, drop = demo_store(tmp_path_factory, "targets-browser")
    yield store
    drop()


@pytest.fixture
def live(demo: DemoStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from argon2 import PasswordHasher

    from qunlian.accounts import passwords

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(tmp_path / "data"))  # uploads kept between preview and confirm
    with serve(demo.engine) as url:
        yield url


def _session(demo: DemoStore):
    return session_factory(demo.engine)()


def test_cockpit_targets_and_towns(browser, live, demo):
    from qunlian.targets.service import plan_status
    from qunlian.per_mu.service import class_mix_in_scope as muni_class_mix
    from qunlian.targets.service import chain_strength, latest_period
    from qunlian.accounts.models import User

    v = Visit(browser, live, "home")
    v.login("admin1")
    with _session(demo) as s:
        admin = principal_of(s.scalar(select(User).where(User.username == "admin1")))
        latest = latest_period(s, CLUSTERS)
        rows = plan_status(s, CLUSTERS, as_of=latest)
        mix = muni_class_mix(s, admin)
        chains = chain_strength(s, admin)

    page = v.go("/")
    key = page.locator(f"[data-testid=key-indicators] table[data-plan='{CLUSTERS}']")
    for r in (r for r in rows if r["table"] == "附件1"):
        row = key.locator(f"tr[data-indicator='{r['code']}']")
        assert row.get_attribute("data-status") == r["status"]
        shown = row.locator("td[data-col=actual]").inner_text().split("\n")[0]
        assert numbers(re.sub(r"[^\d.,—-]", "", shown) or "—") == (None if r["actual"] is None
                                                                   else round(r["actual"], 2))
    for g, n in mix["grades"].items():
        assert page.locator(f"[data-grade='{g}'] strong").inner_text() == str(n)
    # the cockpit leads: KPI cards with their sparklines drawn, the charts; the chain table is one click away
    assert page.locator("[data-testid=cockpit-kpis] .spark canvas").count() >= 4
    assert page.locator("[data-testid=mix-chart] canvas").count() == 1
    page.locator("[data-testid=chain-strength] > summary").click()
    for ch in chains["chains"]:
        row = page.locator(f"[data-testid=chain-strength] tr[data-chain='{ch['code']}']")
        assert row.locator("td[data-col=firms]").inner_text() == str(ch["firms"])
        assert row.locator("td[data-col=above]").inner_text() == str(ch["above_scale"])
    v.shot("admin")

    v.name = "targets"
    v.go("/targets")
    v.shot("plans")
    page = v.go(f"/targets/{CLUSTERS}")
    for r in rows:
        row = page.locator(f"[data-testid=status-table] tr[data-indicator='{r['code']}']")
        assert row.get_attribute("data-status") == r["status"]
        assert numbers(row.locator("td[data-col=actual]").inner_text()) == (
            None if r["actual"] is None else round(r["actual"], 2))
    # the as-of selector submits itself
    page.select_option("[data-testid=as-of]", "2023Q1")
    page.wait_for_url(re.compile(r".*as_of=2023Q1.*"))
    assert "139.4%" in page.locator("tr[data-indicator='tax-per-mu']").inner_text()
    page = v.go(f"/targets/{CLUSTERS}")
    v.shot("plan")
    page.click("tr[data-indicator='tax-per-mu'] a")
    page.wait_for_selector("[data-testid=indicator-chart] canvas")
    v.shot("indicator")

    page = v.go(f"/targets/{CLUSTERS}/towns?period=2023")
    assert page.locator("[data-testid=target-map] .tile").count() == 8
    page.select_option("[data-testid=map-indicator]", "t23-mfg-investment")
    page.wait_for_url(re.compile(r".*indicator=t23-mfg-investment.*"))
    assert page.locator("[data-testid=reconcile] tr[data-indicator='t23-mfg-investment']").get_attribute(
        "data-verdict") == "equal"
    page.select_option("[data-testid=map-indicator]", "t23-tax-per-mu")
    page.wait_for_url(re.compile(r".*indicator=t23-tax-per-mu.*"))
    v.shot("towns")
    v.go("/targets/alignment")
    v.shot("alignment")
    v.close()

    t = Visit(browser, live, "targets")
    t.login("town1")
    page = t.go(f"/targets/{CLUSTERS}/towns?period=2023")
    assert page.locator("[data-light=hidden]").count() == 7
    assert page.get_by_test_id("ranking").count() == 0
    t.shot("town-user")
    t.close()


def test_task_ledger_close_in_the_browser(browser, live, demo):
    from qunlian.targets.models import Plan, PlanTask

    with _session(demo) as s:
        seq = s.scalar(select(PlanTask.seq).join(Plan).where(Plan.code == CLUSTERS, PlanTask.status == "open")
                       .order_by(PlanTask.seq).limit(1))
    v = Visit(browser, live, "tasks")
    v.login("analyst1")
    page = v.go(f"/tasks?plan={CLUSTERS}")
    assert page.locator("section.task").count() == 62
    v.go(f"/tasks?plan={CLUSTERS}&unit=市经信局")
    v.shot("ledger")  # filtered by lead unit: the whole ledger makes a very long picture
    page = v.go(f"/tasks?plan={CLUSTERS}")
    card = page.locator(f"#task-{seq}")
    # a real evidence file through the file picker, then downloaded back byte for byte
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    card.locator("details:has([data-testid=evidence-form-%d]) > summary" % seq).click()
    upload = card.get_by_test_id(f"evidence-form-{seq}")
    upload.locator("input[type=file]").set_input_files(
        files=[{"name": "验收报告.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    upload.locator("input[name=description]").fill("整治验收报告")
    upload.locator("button[type=submit]").click()
    page.wait_for_selector(f"[data-testid=evidence-{seq}]")
    card = page.locator(f"#task-{seq}")
    card.locator(f"[data-testid=evidence-{seq}] > summary").click()
    link = card.locator(f"[data-testid=evidence-{seq}] a", has_text="验收报告.pdf")
    with page.expect_download() as got:
        link.click()
    assert Path(got.value.path()).read_bytes() == pdf and got.value.suggested_filename == "验收报告.pdf"
    card.screenshot(path=str(SHOTS / "tasks-evidence.png"))
    card.locator("details:has([data-testid=close-form-%d]) > summary" % seq).click()
    form = card.get_by_test_id(f"close-form-{seq}")
    form.locator("textarea[name=note]").fill("已完成低效用地整治 2100 亩")
    form.locator("textarea[name=evidence]").fill("验收报告.pdf")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))  # 销号 asks first: "no" sends nothing
    form.locator("button[type=submit]").click()
    page.wait_for_timeout(300)
    assert asked and f"任务 {seq} 销号" in asked[0]
    assert page.locator(f"#task-{seq}[data-status=closed]").count() == 0
    page.once("dialog", lambda d: d.accept())
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"#task-{seq}[data-status=closed]")
    assert page.get_by_test_id("task-done").is_visible()
    with _session(demo) as s:
        task = s.scalar(select(PlanTask).join(Plan).where(Plan.code == CLUSTERS, PlanTask.seq == seq))
        assert task.status == "closed" and task.closed_by == "analyst1" and task.closed_at is not None
    page = v.go(f"/tasks?plan={CLUSTERS}&status=closed")
    assert page.locator(f"#task-{seq}[data-status=closed]").count() == 1
    page.locator(f"#task-{seq} details summary").first.click()  # its progress notes, with the closure
    v.shot("closed")
    v.close()


def test_import_broken_then_good_file(browser, live, demo, tmp_path):
    from qunlian.enterprises.models import Enterprise, EnterpriseYear
    from qunlian.platform.models import ImportBatch

    code = make_uscc("330482", "MA2D201X")
    broken = tmp_path / "企业数据-有误.csv"
    broken.write_text("统一社会信用代码,企业名称,年度,镇街道,税收,用地面积（亩）\n"
                      f"{code},<i>浏览器</i>测试有限公司,2023,不存在镇,很多,10\n"
                      "123,某公司,20x3,当湖街道,1,-5\n", encoding="utf-8")
    good = tmp_path / "企业数据.csv"
    good.write_text("统一社会信用代码,企业名称,年度,镇街道,税收（万元）,用地面积（亩）\n"
                    f"{code},浏览器测试有限公司,2023,当湖街道,88.5,12\n", encoding="utf-8")
    v = Visit(browser, live, "imports")
    v.login("admin1")
    page = v.go("/imports")
    page.set_input_files("[data-testid=file]", str(broken))
    page.fill("[data-testid=source]", "税务局")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=import-problems]")
    v.errors.clear()  # the 400 answer is logged by the browser as a failed load
    assert page.locator("[data-testid=import-problems] tbody tr").count() >= 4
    assert page.locator("i", has_text="浏览器").count() == 0  # HTML in a cell never becomes markup
    v.shot("problems")
    page.set_input_files("[data-testid=file]", str(good))
    page.fill("[data-testid=source]", "税务局")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=import-preview]")
    assert page.get_by_test_id("preview-rows").inner_text() == "1"
    v.shot("preview")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=import-done]")
    with _session(demo) as s:
        y = s.scalar(select(EnterpriseYear).join(Enterprise).where(Enterprise.uscc == code))
        assert y is not None and y.tax_wan == 88.5 and y.land_mu == 12
        batch = s.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert batch.filename == good.name and batch.created_by == "admin1"
    assert page.locator(f"[data-testid=batches] tr[data-batch='{batch.id}']").count() == 1
    v.shot("done")
    v.close()


def test_copy_main_screenshots_to_docs():
    """Runs last in this module: with QUNLIAN_UPDATE_DOC_IMAGES=1, refresh docs/img from this run."""
    if os.environ.get("QUNLIAN_UPDATE_DOC_IMAGES") != "1":
        pytest.skip("set QUNLIAN_UPDATE_DOC_IMAGES=1 to refresh docs/img")
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    for name in MAIN_SHOTS:
        shutil.copyfile(SHOTS / f"{name}.png", DOC_IMAGES / f"{name}.png")


# a heading that shows a code where a name belongs: a plan code, 4q8l, demo-pinghu …
CODE_LIKE = re.compile(r"\b(?:[a-z0-9]+-){1,}[a-z0-9]+\b|\b4q8l\b|\b1212\b")


@pytest.mark.parametrize("role", ["admin", "analyst", "department", "town", "chain", "enterprise"])
def test_every_role_lands_on_a_useful_first_page(browser, live, demo, role):
    """Issue #13: each demo role's first page has at least one chart drawn and no code-like heading;
    the enterprise lands on its own page, the chain user sees its chain."""
    v = Visit(browser, live, f"first-{role}")
    v.login(demo.users[role])
    page = v.go("/")
    page.wait_for_selector("[data-chart] canvas", timeout=10_000)
    assert page.locator("[data-chart] canvas").count() >= 1
    headings = page.locator("h1, h2, h3").all_inner_texts()
    assert headings and not [h for h in headings if CODE_LIKE.search(h)], headings
    if role == "enterprise":
        assert "/enterprises/" in page.url and page.get_by_test_id("muni-block").count() == 1
    if role == "chain":
        assert page.get_by_test_id("chain-home-link").count() == 1
    v.shot("landing")
    v.close()
