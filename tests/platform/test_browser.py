"""The web pages in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

Each role logs in through the form and walks every page; figures shown must equal the store's,
out-of-scope firms must be absent and their URLs must give the 404 page. Screenshots go to
test-artifacts/screenshots/; with QUNLIAN_UPDATE_DOC_IMAGES=1 the main ones are copied to docs/img/.
Skipped when the playwright package or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest
from browser_support import BROWSER_MARKS, DOC_IMAGES, SHOTS, Visit, numbers, serve

from web_helpers import PASSWORD, VISIBLE, WebStore

pytestmark = BROWSER_MARKS


@pytest.fixture
def live_server(web_store: WebStore) -> Iterator[str]:
    with serve(web_store.engine) as url:
        yield url


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_walks_every_page(browser, live_server, web_store, role):
    v = Visit(browser, live_server, role)
    v.login(web_store.users[role])
    visible = {web_store.uscc[k] for k in VISIBLE[role]}
    hidden = set(web_store.uscc.values()) - visible

    page = v.go("/")
    if role == "enterprise":  # a firm's 驾驶舱 is its own page
        assert page.url.endswith(f"/enterprises/{next(iter(visible))}")
    else:
        assert page.get_by_test_id("kpi-enterprises").inner_text() == str(len(visible))
        assert page.get_by_test_id("kpi-towns").inner_text() == "3"
    v.shot("home")

    if role != "department":
        page = v.go("/enterprises?sort=uscc")
        shown = page.locator("tr[data-uscc]").evaluate_all("rows => rows.map(r => r.dataset.uscc)")
        assert set(shown) == visible
        v.shot("enterprises")
        first = sorted(visible)[0]
        page = v.go(f"/enterprises/{first}")
        assert page.get_by_test_id("uscc").inner_text() == first
        page.wait_for_selector("[data-chart] canvas")  # ECharts drew the per-mu chart
        v.shot("enterprise")
    else:
        assert v.page.locator("nav.nav a[href='/enterprises']").count() == 0

    page = v.go("/towns")
    v.shot("towns")
    page = v.go("/towns/danghu")
    v.shot("town")
    page = v.go("/chains")
    page = v.go("/chains/4q8l")
    v.shot("chains")
    page_text = page.content()
    for code in hidden:
        assert code not in page_text
    for code in hidden:  # out of scope: absent everywhere, and its URL is the 404 page
        page = v.go(f"/enterprises/{code}", expect=404)
        assert page.get_by_test_id("error-page").is_visible()
    if hidden:
        v.shot("404")
    v.close()


def test_figures_in_the_browser_equal_the_store(browser, live_server, web_store):
    from sqlalchemy import select

    from qunlian.platform.db import session_factory
    from qunlian.enterprises.models import Enterprise, EnterpriseYear

    v = Visit(browser, live_server, "analyst")
    v.login("analyst1")
    page = v.go("/enterprises?year=2023")
    with session_factory(web_store.engine)() as s:
        rows = s.execute(
            select(Enterprise.uscc, EnterpriseYear.land_mu, EnterpriseYear.output_wan, EnterpriseYear.tax_wan)
            .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
            .where(EnterpriseYear.year == 2023)
        ).all()
    assert rows
    for uscc, land, output, tax in rows:
        row = page.locator(f"tr[data-uscc='{uscc}']")
        assert numbers(row.locator("td[data-col=land_mu]").inner_text()) == land
        assert numbers(row.locator("td[data-col=output_wan]").inner_text()) == output
        assert numbers(row.locator("td[data-col=tax_wan]").inner_text()) == tax
        per_mu = numbers(row.locator("td[data-col=tax_per_mu]").inner_text())
        assert per_mu == (round(tax / land, 2) if land else None)
    v.close()


def test_htmx_search_sort_and_escaping(browser, live_server, web_store):
    v = Visit(browser, live_server, "admin")
    v.login("admin1")
    page = v.go("/enterprises")
    # the firm whose name holds HTML is shown as text, and no script ran
    assert page.get_by_text("<script>alert('x')</script>精密&机械有限公司").count() == 1
    page.fill("[data-testid=q]", "光")
    page.wait_for_function("() => location.search.includes('q=%E5%85%89')")  # HTMX pushed the filtered URL
    page.wait_for_function("() => document.querySelectorAll('tr[data-uscc]').length === 2")
    assert page.title().startswith("企业")  # a fragment was swapped, not a whole new page
    page.fill("[data-testid=q]", "")
    page.wait_for_function("() => document.querySelectorAll('tr[data-uscc]').length === 5")
    page.click("a[data-sort=tax_per_mu]")
    page.wait_for_function("() => location.search.includes('sort=tax_per_mu')")
    page.click("a[data-sort=tax_per_mu]")
    page.wait_for_function("() => location.search.includes('desc=1')")
    page.wait_for_function(f"() => document.querySelector('tr[data-uscc]').dataset.uscc === '{web_store.uscc['e1']}'")
    page.select_option("[data-testid=town-filter]", "zhapu")
    page.wait_for_function("() => document.querySelectorAll('tr[data-uscc]').length === 2")
    v.shot("enterprises-filtered")
    with page.expect_download() as dl:
        page.click("[data-testid=export]")
    assert dl.value.suggested_filename.endswith(".xlsx")
    docs = v.go("/api/docs")
    docs.wait_for_selector(".swagger-ui .opblock")
    # the site's own header with its navigation: a way back from the API docs
    assert docs.locator("header.topbar a.brand").get_attribute("href") == "/"
    assert docs.locator("header.topbar nav a[href='/enterprises']").count() == 1
    v.shot("api-docs")
    v.close()


def test_language_switch_and_logout(browser, live_server):
    v = Visit(browser, live_server, "en")
    v.login("admin1")
    page = v.go("/towns")
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url.endswith("/towns")
    assert page.locator("nav.nav").inner_text().split() == ["Overview", "Enterprises", "Compare", "regions", "Towns", "Chains",
                                                            "Plan", "targets", "Task", "ledger", "Per-mu", "evaluation", "Data",
                                                            "import", "Users", "Audit", "log", "API", "docs"]
    v.shot("towns-en")
    page.click("[data-testid=logout]")
    page.wait_for_url(re.compile(r".*/login$"))
    v.go("/", expect=200)  # redirected to the login page
    assert v.page.url.startswith(live_server + "/login")
    v.close()


def test_login_failures_in_the_browser(browser, live_server):
    v = Visit(browser, live_server, "login")
    page = v.go("/login")
    v.shot("login")
    for _ in range(5):
        page.fill("input[name=username]", "town1")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=login-error]")
    page.fill("input[name=username]", "town1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=登录失败次数过多")
    v.errors.clear()  # the 401/429 answers are logged by the browser as failed loads
    v.close()


def test_copy_main_screenshots_to_docs():
    """Runs last in this module: with QUNLIAN_UPDATE_DOC_IMAGES=1, refresh docs/img from this run."""
    if os.environ.get("QUNLIAN_UPDATE_DOC_IMAGES") != "1":
        pytest.skip("set QUNLIAN_UPDATE_DOC_IMAGES=1 to refresh docs/img")
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    main = ["login-login", "admin-home", "admin-enterprises", "admin-enterprise", "admin-towns", "admin-town",
            "admin-chains", "town-enterprises", "town-404", "admin-enterprises-filtered", "en-towns-en",
            "admin-api-docs"]  # fmt: skip
    for name in main:
        shutil.copyfile(SHOTS / f"{name}.png", DOC_IMAGES / f"{name}.png")
