"""亩均评价 pages in a real browser (Debian's Chromium via Playwright, as tests/web/test_browser.py).

Walks /muni, a run page (filters through HTMX, sorting) and an enterprise's simulator; the
figures shown are checked against the engine's API; screenshots go to test-artifacts/screenshots/
(the guide's 亩均 pictures come from the real demo county: scripts/doc-images.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import BROWSER_MARKS, Visit, numbers, serve
from .test_muni_pages import MuniStore, muni  # noqa: F401  (module fixture: a copy of the session's 亩均 store)

from qunlian.platform.db import session_factory

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def live_server(muni: MuniStore) -> Iterator[str]:
    with serve(muni.engine) as url:
        yield url


def rows_of(muni: MuniStore, run_id: int) -> list[dict]:
    from qunlian.per_mu.runs import run_results

    with session_factory(muni.engine)() as s:
        return run_results(s, run_id).to_pylist()


def test_runs_and_run_page(browser, live_server, muni):
    v = Visit(browser, live_server, "muni-admin")
    v.login("admin1")
    page = v.go("/muni")
    assert page.locator("tr[data-run]").count() == len(muni.runs)
    v.shot("runs")

    run_id = muni.runs[-1]
    rows = rows_of(muni, run_id)
    page = v.go(f"/muni/runs/{run_id}")
    page.wait_for_selector("[data-testid=mix-chart] canvas")
    page.wait_for_selector("[data-testid=town-chart] canvas")
    classed = [r for r in rows if r["final_grade"] and not r.get("tenant_note")]
    for g in "ABCD":
        n = sum(r["final_grade"] == g for r in classed)
        assert page.get_by_test_id(f"kpi-grade-{g}").inner_text() == str(n)
    assert numbers(page.get_by_test_id("kpi-firms").inner_text()) == len(rows)
    # figures of the shown rows equal the engine's (scores 1 decimal, 万元/亩 2 decimals)
    by_uscc = {r["uscc"]: r for r in rows}
    for tr in page.locator("#muni-results tr[data-uscc]").all()[:20]:
        r = by_uscc[tr.get_attribute("data-uscc")]
        assert numbers(tr.locator("td[data-col=final_score]").inner_text()) == (
            None if r["final_score"] is None else round(r["final_score"], 1))
        assert numbers(tr.locator("td[data-col=tax_per_mu]").inner_text()) == (
            None if r["tax_per_mu__value"] is None else round(r["tax_per_mu__value"], 2))
    v.shot("run")

    # HTMX filter: grade D only, the URL follows, a fragment is swapped
    page.select_option("[data-testid=muni-grade]", "D")
    page.wait_for_function("() => location.search.includes('grade=D')")
    want = {r["uscc"] for r in rows if r["final_grade"] == "D"}
    page.wait_for_function(f"() => document.querySelectorAll('#muni-results tr[data-uscc]').length === {min(len(want), 50)}")
    shown = set(page.locator("#muni-results tr[data-uscc]").evaluate_all("rows => rows.map(r => r.dataset.uscc)"))
    assert shown == want
    assert page.title().startswith("亩均评价")
    page.select_option("[data-testid=muni-grade]", "")
    # as a user would: the unfiltered table is back before a column is clicked (a link of the old,
    # filtered table would carry grade=D)
    page.wait_for_function("() => !location.search.includes('grade=D')")
    page.wait_for_function(f"() => document.querySelectorAll('#muni-results tr[data-uscc]').length === {min(len(rows), 50)}")
    page.click("#muni-results a[data-sort=score]")
    page.wait_for_function("() => location.search.includes('sort=score')")
    v.shot("run-sorted")
    v.close()


def test_town_user_run_page_is_scoped(browser, live_server, muni):
    v = Visit(browser, live_server, "muni-town")
    v.login("town1")
    run_id = muni.runs[-1]
    page = v.go(f"/muni/runs/{run_id}")
    towns = set(page.locator("[data-testid=by-town] tr[data-group]").evaluate_all("rows => rows.map(r => r.dataset.group)"))
    assert towns == {muni.town}
    mine = [r for r in rows_of(muni, run_id) if r["town"] == muni.town]
    assert numbers(page.get_by_test_id("kpi-firms").inner_text()) == len(mine)
    assert muni.other_firm not in page.content()
    v.shot("run-town")
    v.go(f"/enterprises/{muni.other_firm}", expect=404)
    v.close()


def test_enterprise_simulator(browser, live_server, muni):
    from qunlian.per_mu.runs import load_evaluation
    from qunlian.per_mu.simulate import simulate

    v = Visit(browser, live_server, "muni-enterprise")
    v.login("ent1")
    page = v.go(f"/enterprises/{muni.town_firm}")
    page.wait_for_selector("[data-testid=muni-block]")
    assert page.locator("[data-testid=muni-explain] tr[data-indicator]").count() >= 2
    with session_factory(muni.engine)() as s:
        ev = load_evaluation(s, muni.runs[-1])
        row = ev.row(muni.town_firm)
        field = page.get_by_test_id("sim-tax_wan")
        new_tax = round(row["tax_wan"] * 2.5, 2)
        want = simulate(ev, muni.town_firm, {"tax_wan": new_tax})
    field.fill(str(new_tax))
    page.get_by_test_id("sim-submit").click()
    page.wait_for_selector("[data-testid=sim-score]")
    assert numbers(page.get_by_test_id("sim-score").inner_text()) == round(want.score, 1)
    assert page.get_by_test_id("sim-grade").inner_text() == (want.grade or "—")
    assert page.url.endswith(f"/enterprises/{muni.town_firm}")  # the partial was swapped in place
    # a bad value: the field's error in place of the old result (a 400 answer is swapped too)
    field.fill("abc")
    page.get_by_test_id("sim-submit").click()
    page.wait_for_selector("[data-testid=sim-errors]")
    assert "不是数字" in page.get_by_test_id("sim-errors").inner_text()
    assert page.get_by_test_id("sim-score").count() == 0  # the stale result is gone
    field.fill(str(new_tax))
    page.get_by_test_id("sim-submit").click()
    page.wait_for_selector("[data-testid=sim-score]")
    # the levers are fetched when their block scrolls into view (HTMX), not with the page
    page.locator("[data-testid=muni-levers-block], [data-testid=muni-levers-slot]").first.scroll_into_view_if_needed()
    page.wait_for_selector("[data-testid=muni-levers-block]")
    assert page.locator("[data-testid=muni-levers-slot]").count() == 0
    assert page.locator("[data-testid=muni-levers] tr[data-lever]").count() == 6
    page.locator("#muni").scroll_into_view_if_needed()
    v.shot("simulator")
    v.close()
