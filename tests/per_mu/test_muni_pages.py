"""亩均评价 pages and API, in process (TestClient), on a small demo county with two saved runs.

The store is built once per test session and copied for this module (load_demo at a small scale, then
two runs of the demo method through the engine's public API and the 整治 ledger) on SQLite, or on PostgreSQL when
QUNLIAN_TEST_DATABASE_URL points at one. Expected figures are always read from the engine's API,
never written into the test.
"""

from __future__ import annotations

import collections
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from bad_numbers import BAD_NUMBERS
from shared_stores import copy_of
from web_helpers import PASSWORD, csrf_of, login, make_client

from qunlian.platform.db import session_factory, transaction

TEST_DB_URL = os.environ.get("QUNLIAN_TEST_DATABASE_URL", "")
ROLES = ("admin", "analyst", "department", "town", "chain", "enterprise")


@dataclass
class MuniStore:
    engine: Engine
    runs: list[int] = field(default_factory=list)  # [2022 run, 2023 run]
    users: dict[str, str] = field(default_factory=dict)  # role → username
    town: str = ""  # the town user's town (name)
    other_town: str = ""  # a town with graded firms that is not the town user's
    town_firm: str = ""  # the enterprise user's firm (in the town user's town, graded below A)
    other_firm: str = ""  # a graded firm of the other town
    chain_ids: set[int] = field(default_factory=set)  # enterprise ids in the chain user's scope


def build_muni_store(engine: Engine, scale: float = 0.03) -> MuniStore:
    """Demo county at ``scale``, 亩均 runs for 2022 and 2023 (demo-pinghu), the ledger, one user per role."""
    from argon2 import PasswordHasher

    from qunlian.per_mu.runs import evaluate_store, run_results, update_ledger
    from qunlian.demo.load import load_demo
    from qunlian.accounts.models import User
    from qunlian.chains.models import ChainNode
    from qunlian.enterprises.models import Enterprise
    from qunlian.regions.models import Town
    from qunlian.chains.service import subtree_ids

    load_demo(engine, seed=2024, scale=scale)
    store = MuniStore(engine)
    for year in (2022, 2023):
        store.runs.append(evaluate_store(engine, "demo-pinghu", year, actor="analyst1").id)
    with transaction(engine) as s:
        update_ledger(s, store.runs[-1], "analyst1")
        rows = run_results(s, store.runs[-1]).to_pylist()
        graded = [r for r in rows if r["final_grade"] and not r.get("tenant_note")]
        by_town = collections.Counter(r["town"] for r in graded)
        (town, _n), (other, _m) = by_town.most_common(2)
        store.town, store.other_town = town, other
        mine = sorted((r for r in graded if r["town"] == town and r["final_grade"] != "A" and r.get("tax_wan")),
                      key=lambda r: r["uscc"])
        store.town_firm = mine[0]["uscc"]
        store.other_firm = sorted(r["uscc"] for r in graded if r["town"] == other)[0]
        town_id = s.scalar(select(Town.id).where(Town.name == town))
        ent_id = s.scalar(select(Enterprise.id).where(Enterprise.uscc == store.town_firm))
        # the 4q8l chain with most graded firms
        graded_ids = {r["enterprise_id"] for r in graded}
        best, best_ids = None, set()
        for node in s.scalars(select(ChainNode).where(ChainNode.system == "4q8l", ChainNode.level == "chain")):
            from qunlian.chains.models import EnterpriseChainNode

            ids = set(s.scalars(select(EnterpriseChainNode.enterprise_id).where(
                EnterpriseChainNode.node_id.in_(subtree_ids(s, node.id)))))
            if len(ids & graded_ids) > len(best_ids & graded_ids):
                best, best_ids = node, ids
        assert best is not None
        store.chain_ids = best_ids
        pw = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)  # cheap: tests check behaviour
        users = [
            User(username="admin1", role="admin", password_hash=pw, display_name="管理员"),
            User(username="analyst1", role="analyst", password_hash=pw, display_name="分析员"),
            User(username="dept1", role="department", password_hash=pw, department="市科技局", display_name="科技局"),
            User(username="town1", role="town", password_hash=pw, town_id=town_id, display_name=town),
            User(username="chain1", role="chain", password_hash=pw, chain_node_id=best.id, display_name=best.name),
            User(username="ent1", role="enterprise", password_hash=pw, enterprise_id=ent_id, display_name="企业"),
        ]
        s.add_all(users)
        store.users = {u.role: u.username for u in users}
    return store


@pytest.fixture(scope="module")
def muni(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MuniStore]:
    """This module's copy of the session's 亩均 store (built once per session, see shared_stores)."""
    store, drop = copy_of(MuniStore, build_muni_store, tmp_path_factory.mktemp("muni"), tmp_path_factory.getbasetemp())
    yield store
    drop()


@pytest.fixture(scope="module")
def clients(muni: MuniStore) -> dict[str, object]:
    """One logged-in TestClient per role."""
    out = {}
    for role, username in muni.users.items():
        c = make_client(muni.engine)
        assert login(c, username).status_code == 303
        out[role] = c
    return out


def results(muni: MuniStore, run_id: int) -> list[dict]:
    from qunlian.per_mu.runs import run_results

    with session_factory(muni.engine)() as s:
        return run_results(s, run_id).to_pylist()


def scoped(muni: MuniStore, role: str, run_id: int) -> list[dict]:
    rows = results(muni, run_id)
    if role in ("admin", "analyst"):
        return rows
    if role == "town":
        return [r for r in rows if r["town"] == muni.town]
    if role == "chain":
        return [r for r in rows if r["enterprise_id"] in muni.chain_ids]
    if role == "enterprise":
        return [r for r in rows if r["uscc"] == muni.town_firm]
    return []


def kpi(html: str, testid: str) -> str:
    m = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert m, testid
    return m.group(1).strip()


def tokens(c) -> str:
    return csrf_of(c.get("/enterprises").text)


# --------------------------------------------------------------------------- pages per role


def test_runs_page_per_role(muni, clients):
    for role in ("admin", "analyst", "town", "chain"):
        r = clients[role].get("/muni")
        assert r.status_code == 200, role
        for run_id in muni.runs:
            assert f'data-run="{run_id}"' in r.text
        nav = re.search(r'<nav class="nav".*?</nav>', r.text, re.S).group(0)
        assert 'href="/muni"' in nav
    assert clients["department"].get("/muni").status_code == 403
    r = clients["enterprise"].get("/muni", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/enterprises/{muni.town_firm}#muni"
    assert make_client(muni.engine).get("/muni", follow_redirects=False).status_code == 303  # login first


@pytest.mark.parametrize("role", ["admin", "analyst", "town", "chain"])
def test_run_page_class_mix_equals_the_engine(muni, clients, role):
    run_id = muni.runs[-1]
    rows = scoped(muni, role, run_id)
    assert rows
    page = clients[role].get(f"/muni/runs/{run_id}")
    assert page.status_code == 200
    html = page.text
    assert kpi(html, "kpi-firms") == f"{len(rows):,}"
    counted = [r for r in rows if r["final_grade"] and not r.get("tenant_note")]
    mix = collections.Counter(r["final_grade"] for r in counted)
    for g in "ABCD":
        assert kpi(html, f"kpi-grade-{g}") == str(mix.get(g, 0))
        assert kpi(html, f"kpi-share-{g}") == f"{mix.get(g, 0) / len(counted) * 100:.1f} %"
    assert 'data-testid="mix-chart"' in html and 'data-testid="by-town"' in html
    towns_shown = set(re.findall(r'<tr data-group="([^"]*)"', html.split('data-testid="by-town"')[1].split("</table>")[0]))
    assert towns_shown == {r["town"] or "" for r in rows if not r.get("tenant_note")}
    # every firm the role may not see is absent from the page
    hidden = {r["uscc"] for r in results(muni, run_id)} - {r["uscc"] for r in rows}
    assert not [u for u in hidden if u in html]
    # warnings: the engine's, restricted to the role's firms
    from qunlian.per_mu.runs import run_warnings

    with session_factory(muni.engine)() as s:
        warns = [w for w in run_warnings(s, run_id) if w.uscc in {r["uscc"] for r in rows}]
    for kind in ("grade_fell", "near_boundary", "remediation"):
        assert kpi(html, f"warn-count-{kind}") == str(sum(w.kind == kind for w in warns))
    # ledger: all towns for city-wide users, own town for town users, hidden for chain users
    if role == "chain":
        assert 'data-testid="ledger-hidden"' in html
    elif role == "town":
        ledger_towns = re.findall(r'<tr data-town="([^"]*)"', html.split('data-testid="ledger"')[1].split("</table>")[0]) \
            if 'data-testid="ledger"' in html else []
        assert set(ledger_towns) <= {muni.town}
    else:
        assert 'data-testid="ledger"' in html
    # measures: placeholder amounts are labelled as such
    assert 'data-testid="measures"' in html and 'data-testid="placeholder"' in html
    assert ("adjust-form" in html) == (role in ("admin", "analyst"))


def test_measure_amounts_equal_the_engine(muni, clients):
    from qunlian.per_mu.outputs import measures
    from qunlian.per_mu.runs import get_run, run_method, run_results

    run_id = muni.runs[-1]
    with session_factory(muni.engine)() as s:
        method = run_method(get_run(s, run_id))
        fm = measures(run_results(s, run_id), method, grade_column="final_grade")
    html = clients["analyst"].get(f"/muni/runs/{run_id}").text
    for code in ("land_use_tax_relief", "differential_power_price_d"):
        total = sum(m.amount_wan or 0 for m in fm if m.code == code)
        row = re.search(rf'<tr data-measure="{code}">.*?</tr>', html, re.S).group(0)
        amount = re.search(r'data-col="amount">\s*([^<\s]+)', row).group(1)
        assert amount == f"{total:,.2f}"


def test_enterprise_and_department_have_no_run_pages(muni, clients):
    run_id = muni.runs[-1]
    for path in (f"/muni/runs/{run_id}", f"/muni/runs/{run_id}/export.xlsx"):
        assert clients["enterprise"].get(path).status_code == 404
        assert clients["department"].get(path).status_code == 403
    assert clients["admin"].get("/muni/runs/999999").status_code == 404


# --------------------------------------------------------------------------- scoping


def test_town_user_cannot_see_another_town_by_any_url(muni, clients):
    c = clients["town"]
    run_id = muni.runs[-1]
    other = muni.other_firm
    assert other not in c.get(f"/muni/runs/{run_id}").text
    for q in (f"?town={muni.other_town}", f"?q={other}", "?grade=none", "?page=2", "?sort=score&desc=true"):
        page = c.get(f"/muni/runs/{run_id}{q}").text  # (the query itself is echoed in the page's links)
        assert f'data-uscc="{other}"' not in page and f"/enterprises/{other}" not in page
    assert c.get(f"/enterprises/{other}").status_code == 404
    token = tokens(c)
    r = c.post(f"/muni/simulate/{other}", data={"csrf_token": token, "run": run_id, "tax_wan": "1"})
    assert r.status_code == 404
    wb = load_workbook(io.BytesIO(c.get(f"/muni/runs/{run_id}/export.xlsx").content))
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert other not in cells and muni.town_firm in cells
    # API: the same scope
    api = api_client(muni, "town1")
    body = api.get(f"/api/muni/runs/{run_id}/results?page_size=1000").json()
    assert {i["town"] for i in body["items"]} == {muni.town}
    assert api.get(f"/api/muni/runs/{run_id}/results?q={other}").json()["total"] == 0
    detail = api.get(f"/api/muni/runs/{run_id}").json()
    assert detail["scope"] == "scoped" and detail["firms"] is None
    assert detail["class_mix"]["firms"] == len(scoped(muni, "town", run_id))
    ents = api.get("/api/enterprises", params={"grade": "A", "year": 2023, "page_size": 500}).json()
    assert all(i["town"] == muni.town for i in ents["items"])


def test_enterprise_user_sees_only_its_own_row(muni, clients):
    c = clients["enterprise"]
    page = c.get(f"/enterprises/{muni.town_firm}")
    assert page.status_code == 200 and 'data-testid="muni-block"' in page.text
    assert 'data-testid="sim-form"' in page.text and 'data-testid="muni-levers-slot"' in page.text
    assert 'href="/muni/runs/' not in page.text  # no link to run-level pages
    assert c.get(f"/enterprises/{muni.other_firm}").status_code == 404
    levers = c.get(f"/enterprises/{muni.town_firm}/muni-levers", headers={"HX-Request": "true"})
    assert levers.status_code == 200 and 'data-testid="muni-levers"' in levers.text
    assert c.get(f"/enterprises/{muni.other_firm}/muni-levers", headers={"HX-Request": "true"}).status_code == 404
    api = api_client(muni, "ent1")
    body = api.get(f"/api/muni/runs/{muni.runs[-1]}/results").json()
    assert [i["uscc"] for i in body["items"]] == [muni.town_firm]
    assert api.get(f"/api/muni/runs/{muni.runs[-1]}").json()["class_mix"]["firms"] == 1


# --------------------------------------------------------------------------- results table


def test_results_filter_sort_paginate_and_htmx_partial(muni, clients):
    c = clients["admin"]
    run_id = muni.runs[-1]
    rows = results(muni, run_id)
    html = c.get(f"/muni/runs/{run_id}?sort=score&desc=true").text
    shown = re.findall(r'<tr data-uscc="([^"]+)">', html.split('id="muni-results"')[1])
    # highest 调档后 score first (ties: larger USCC first, the reverse of the ascending order), firms
    # without a score last: the first page is exactly the top of that order
    scored = sorted((r for r in rows if r["final_score"] is not None), key=lambda r: (r["final_score"], r["uscc"]),
                    reverse=True)
    unscored = sorted(r["uscc"] for r in rows if r["final_score"] is None)
    assert shown == ([r["uscc"] for r in scored] + unscored)[: len(shown)]
    assert len(shown) == min(50, len(rows))
    assert f"共 {len(rows)} 家企业" in html
    page2 = c.get(f"/muni/runs/{run_id}?page=2").text
    shown2 = re.findall(r'<tr data-uscc="([^"]+)">', page2.split('id="muni-results"')[1])
    assert shown2 and not set(shown2) & set(re.findall(r'<tr data-uscc="([^"]+)">', c.get(f"/muni/runs/{run_id}").text.split('id="muni-results"')[1]))
    for grade in ("A", "D"):
        part = c.get(f"/muni/runs/{run_id}?grade={grade}", headers={"HX-Request": "true", "HX-Target": "muni-results"})
        assert part.status_code == 200 and "<html" not in part.text
        got = set(re.findall(r'<tr data-uscc="([^"]+)">', part.text))
        assert got == {r["uscc"] for r in rows if r["final_grade"] == grade}
    part = c.get(f"/muni/runs/{run_id}?town={muni.town}&part=above",
                 headers={"HX-Request": "true", "HX-Target": "muni-results"}).text
    want = {r["uscc"] for r in rows if r["town"] == muni.town and r["part"] == "above"}
    assert f"共 {len(want)} 家企业" in part


def test_scores_and_units_are_shown_with_their_precision(muni, clients):
    run_id = muni.runs[-1]
    row = next(r for r in results(muni, run_id) if r["uscc"] == muni.town_firm)
    html = clients["analyst"].get(f"/muni/runs/{run_id}?q={muni.town_firm}").text
    tr = re.search(rf'<tr data-uscc="{muni.town_firm}">.*?</tr>', html, re.S).group(0)
    assert re.search(r'data-col="final_score"><strong>([^<]+)<', tr).group(1) == f"{row['final_score']:,.1f}"
    assert re.search(r'data-col="tax_per_mu">([^<]+)<', tr).group(1) == f"{row['tax_per_mu__value']:,.2f}"
    assert "亩均税收（万元/亩）" in html


# --------------------------------------------------------------------------- adjustment


def test_adjustment_needs_csrf_role_and_reason_and_is_shown_and_audited(muni, clients):
    from qunlian.platform.models import AuditLog

    run_id = muni.runs[0]  # the 2022 run: the 2023 figures the other tests check stay as evaluated
    row = next(r for r in results(muni, run_id) if r["final_grade"] and not r.get("tenant_note"))
    c = clients["analyst"]
    form = {"uscc": row["uscc"], "points": "5", "grade": "", "reason": "技改项目投产"}
    assert c.post(f"/muni/runs/{run_id}/adjust", data=form).status_code == 403  # no CSRF token
    assert c.post(f"/muni/runs/{run_id}/adjust", data={**form, "csrf_token": "forged"}).status_code == 403
    town = clients["town"]
    assert town.post(f"/muni/runs/{run_id}/adjust", data={**form, "csrf_token": tokens(town)}).status_code == 403
    token = tokens(c)
    bad = c.post(f"/muni/runs/{run_id}/adjust", data={**form, "reason": " ", "csrf_token": token})
    assert bad.status_code == 400 and "调整必须写明理由" in bad.text
    bad = c.post(f"/muni/runs/{run_id}/adjust", data={**form, "points": "five", "csrf_token": token})
    assert bad.status_code == 400
    ok = c.post(f"/muni/runs/{run_id}/adjust", data={**form, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    after = next(r for r in results(muni, run_id) if r["uscc"] == row["uscc"])
    assert after["adjustment"] == pytest.approx(5.0) and after["adjustment_reason"] == "技改项目投产"
    html = c.get(ok.headers["location"]).text
    tr = re.search(rf'<tr data-uscc="{row["uscc"]}">.*?</tr>', html, re.S).group(0)
    assert "+5.0" in tr and "人工调整：技改项目投产" in tr
    assert f"{after['final_score']:,.1f}" in tr
    with session_factory(muni.engine)() as s:
        lines = s.scalars(select(AuditLog).where(AuditLog.action == "muni.adjust")).all()
    assert any(a.actor == "analyst1" for a in lines)


def test_adjustment_refuses_every_non_number_and_stores_nothing(muni, clients):
    """Issue #12: points=nan stored score NULL and classed a B firm D. Each bad value is a 400 with
    the validator's message, and no adjustment row is written."""
    from qunlian.per_mu.models import MuniAdjustment

    run_id = muni.runs[0]
    row = next(r for r in results(muni, run_id) if r["final_grade"] and not r.get("tenant_note"))
    c = clients["analyst"]
    token = tokens(c)

    def count() -> int:
        with session_factory(muni.engine)() as s:
            return len(s.scalars(select(MuniAdjustment).where(MuniAdjustment.run_id == run_id)).all())

    before = count()
    for bad in (*BAD_NUMBERS, "5000"):
        r = c.post(f"/muni/runs/{run_id}/adjust", data={"uscc": row["uscc"], "points": bad, "grade": "",
                                                        "reason": "核实", "csrf_token": token})
        assert r.status_code == 400 and "加减分" in r.text, bad
        assert ("必须是有限的数字" in r.text) == (bad in ("nan", "inf", "-inf")), bad
    assert count() == before


def test_simulator_refuses_every_non_number_in_every_field(muni, clients):
    from qunlian.per_mu.fields import SIMULATED

    c = clients["town"]
    run_id = muni.runs[-1]
    headers = {"X-CSRF-Token": tokens(c), "HX-Request": "true"}
    sim_row = next(r for r in results(muni, run_id) if r["uscc"] == muni.town_firm)
    fields = [f for f in SIMULATED if f in sim_row]
    assert len(fields) >= 5
    for col in fields:
        for bad in (*BAD_NUMBERS, "-5"):
            r = c.post(f"/muni/simulate/{muni.town_firm}", data={"run": run_id, col: bad}, headers=headers)
            assert r.status_code == 400 and 'data-testid="sim-errors"' in r.text, (col, bad)
    for bad_run in (*BAD_NUMBERS, "99999999999"):
        r = c.post(f"/muni/simulate/{muni.town_firm}", data={"run": bad_run, "tax_wan": "1"}, headers=headers)
        assert r.status_code == 404, bad_run


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("role", ["admin", "town"])
def test_gongshi_export_opens_and_has_the_right_rows(muni, clients, role):
    run_id = muni.runs[-1]
    r = clients[role].get(f"/muni/runs/{run_id}/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    rows = scoped(muni, role, run_id)
    assert wb.sheetnames == ["规上工业企业", "规下工业企业（用地 3 亩及以上）", "未参评企业"]
    for name, part in (("规上工业企业", "above"), ("规下工业企业（用地 3 亩及以上）", "below")):
        data = list(wb[name].iter_rows(min_row=3, values_only=True))
        want = {x["uscc"]: x for x in rows if x["part"] == part and not x["excluded_reason"]}
        assert {d[2] for d in data} == set(want)
        for d in data:
            assert d[5] == want[d[2]]["final_grade"]
    excluded = list(wb["未参评企业"].iter_rows(min_row=2, values_only=True))
    assert {d[0] for d in excluded} == {x["uscc"] for x in rows if x["excluded_reason"]}
    from qunlian.platform.models import AuditLog

    with session_factory(muni.engine)() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "muni.export", AuditLog.actor == muni.users[role])).first()


# --------------------------------------------------------------------------- profile and simulator


def test_profile_history_explanation_and_levers(muni, clients):
    from qunlian.per_mu.runs import load_evaluation
    from qunlian.per_mu.simulate import levers

    html = clients["town"].get(f"/enterprises/{muni.town_firm}").text
    hist = html.split('data-testid="muni-history"')[1].split("</table>")[0]
    for run_id in muni.runs:
        row = next((r for r in results(muni, run_id) if r["uscc"] == muni.town_firm), None)
        if row is None:
            continue
        tr = re.search(rf'<tr data-run="{run_id}">.*?</tr>', hist, re.S).group(0)
        if row["final_score"] is not None:
            assert f'data-col="final_score">{row["final_score"]:,.1f}<' in tr
    latest = next(r for r in results(muni, muni.runs[-1]) if r["uscc"] == muni.town_firm)
    explain = html.split('data-testid="muni-explain"')[1].split("</table>")[0]
    codes = re.findall(r'<tr data-indicator="([^"]+)">', explain)
    assert "tax_per_mu" in codes
    for code in codes:
        tr = re.search(rf'<tr data-indicator="{code}">.*?</tr>', explain, re.S).group(0)
        assert f'data-col="points">{latest[code + "__points"]:,.1f}<' in tr
        if latest[code + "__benchmark"] is not None:
            assert f'data-col="benchmark">{latest[code + "__benchmark"]:,.2f}<' in tr
    # the levers are not computed with the page: the block asks for them (HTMX, when scrolled into view)
    assert 'data-lever="tax"' not in html
    slot = re.search(r'<div id="muni-levers-block" hx-get="([^"]+)"', html).group(1)
    assert slot == f"/enterprises/{muni.town_firm}/muni-levers?run={muni.runs[-1]}"
    part = clients["town"].get(slot, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    with session_factory(muni.engine)() as s:
        lv = {x.lever: x for x in levers(load_evaluation(s, muni.runs[-1]), muni.town_firm)}
    tax = re.search(r'<tr data-lever="tax">.*?</tr>', part.text, re.S).group(0)
    if lv["tax"].needed is not None:
        assert f'data-col="needed">{lv["tax"].needed:,.2f}<' in tax
    # without JavaScript the heading links to a page of its own with the same table
    full = clients["town"].get(slot)
    assert full.status_code == 200 and "<html" in full.text and 'data-lever="tax"' in full.text


def test_levers_partial_is_scoped(muni, clients):
    """The levers answer 404 exactly where the profile does: out of scope, missing, no such run."""
    path = f"/enterprises/{muni.other_firm}/muni-levers"
    assert clients["town"].get(path).status_code == 404  # another town's firm
    assert clients["enterprise"].get(path).status_code == 404
    assert clients["department"].get(path).status_code == 404
    assert clients["analyst"].get(path).status_code == 200
    assert clients["town"].get("/enterprises/91330482MA2B999X00/muni-levers").status_code == 404
    assert clients["town"].get(f"/enterprises/{muni.town_firm}/muni-levers?run=999999").status_code == 404
    for role in ("chain", "town", "enterprise", "analyst"):  # whatever the role: the profile's answer
        for firm in (muni.town_firm, muni.other_firm):
            want = clients[role].get(f"/enterprises/{firm}").status_code
            assert clients[role].get(f"/enterprises/{firm}/muni-levers").status_code == want


def test_simulator_partial(muni, clients):
    from qunlian.per_mu.runs import load_evaluation
    from qunlian.per_mu.simulate import simulate

    c = clients["enterprise"]
    run_id = muni.runs[-1]
    with session_factory(muni.engine)() as s:
        ev = load_evaluation(s, run_id)
        row = ev.row(muni.town_firm)
        new_tax = row["tax_wan"] * 3
        want = simulate(ev, muni.town_firm, {"tax_wan": new_tax})
    data = {"run": run_id, "tax_wan": f"{new_tax}"}
    assert c.post(f"/muni/simulate/{muni.town_firm}", data=data).status_code == 403  # no CSRF token
    r = c.post(f"/muni/simulate/{muni.town_firm}", data=data, headers={"X-CSRF-Token": tokens(c), "HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    assert kpi(r.text, "sim-score") == f"{want.score:,.1f}"
    assert kpi(r.text, "sim-grade") == (want.grade or "—")
    assert kpi(r.text, "sim-before") == f"{row['final_score']:,.1f}" or kpi(r.text, "sim-before") == f"{row['total_score']:,.1f}"
    bad = c.post(f"/muni/simulate/{muni.town_firm}", data={"run": run_id, "tax_wan": "lots"},
                 headers={"X-CSRF-Token": tokens(c)})
    assert bad.status_code == 400 and 'data-testid="sim-errors"' in bad.text


def test_simulator_form_sent_unchanged_gives_the_firms_own_score(muni, clients):
    """The form is pre-filled with the firm's figures as they are stored (no rounding, no exponent), so
    pressing 模拟 without a change reproduces the evaluated score. A large firm: its revenue has more
    digits than a short format keeps."""
    import html as html_lib
    import re

    from qunlian.per_mu.runs import load_evaluation, run_results

    c = clients["analyst"]
    with session_factory(muni.engine)() as s:
        rows = [r for r in run_results(s, muni.runs[-1]).to_pylist() if r["final_grade"] and not r.get("tenant_note")]
        firm = max(rows, key=lambda r: r.get("main_revenue_wan") or 0)["uscc"]
        row = load_evaluation(s, muni.runs[-1]).row(firm)
    assert row["main_revenue_wan"] >= 10_000
    page = c.get(f"/enterprises/{firm}").text
    form = page[page.index('data-testid="sim-form"'):]
    form = form[:form.index("</form>")]
    fields = {k: html_lib.unescape(v) for k, v in re.findall(r'<input name="([a-z_]+)" value="([^"]*)"', form)}
    assert fields and all("e+" not in v and "," not in v for v in fields.values())
    for column, shown in fields.items():  # each figure as stored, not rounded to a few digits
        stored = row.get(column)
        assert (shown == "") == (stored is None), column
        if stored is not None:
            assert float(shown) == pytest.approx(stored, rel=1e-9, abs=1e-6), column
    r = c.post(f"/muni/simulate/{firm}", data=fields | {"run": str(muni.runs[-1])},
               headers={"X-CSRF-Token": tokens(c), "HX-Request": "true"})
    assert r.status_code == 200
    assert kpi(r.text, "sim-score") == kpi(r.text, "sim-before")


# --------------------------------------------------------------------------- API


def api_client(muni: MuniStore, username: str):
    c = make_client(muni.engine)
    tok = c.post("/api/token", json={"username": username, "password": PASSWORD}).json()["access_token"]
    c.headers["Authorization"] = f"Bearer {tok}"
    return c


def test_api_runs_run_and_results(muni):
    api = api_client(muni, "analyst1")
    runs = api.get("/api/muni/runs").json()
    assert {r["id"] for r in runs} == set(muni.runs) and all(r["firms"] for r in runs)
    assert [r["id"] for r in api.get("/api/muni/runs?year=2022").json()] == [muni.runs[0]]
    run_id = muni.runs[-1]
    rows = results(muni, run_id)
    detail = api.get(f"/api/muni/runs/{run_id}").json()
    assert detail["scope"] == "city" and detail["year"] == 2023 and detail["class_mix"]["firms"] == len(rows)
    mix = collections.Counter(r["final_grade"] for r in rows if r["final_grade"] and not r.get("tenant_note"))
    assert {g["grade"]: g["firms"] for g in detail["class_mix"]["grades"]} == {g: mix.get(g, 0) for g in "ABCD"}
    page1 = api.get(f"/api/muni/runs/{run_id}/results?page_size=20").json()
    page2 = api.get(f"/api/muni/runs/{run_id}/results?page_size=20&page=2").json()
    assert page1["total"] == len(rows) and len(page1["items"]) == 20
    assert not {i["uscc"] for i in page1["items"]} & {i["uscc"] for i in page2["items"]}
    a = api.get(f"/api/muni/runs/{run_id}/results?grade=A&page_size=1000").json()
    assert {i["uscc"] for i in a["items"]} == {r["uscc"] for r in rows if r["final_grade"] == "A"}
    one = next(i for i in a["items"])
    assert set(one["indicators"]["tax_per_mu"]) == {"value", "benchmark", "points", "status"}
    assert api.get("/api/muni/runs/999999").status_code == 404
    assert api.get("/api/muni/runs/999999/results").status_code == 404
    assert make_client(muni.engine).get("/api/muni/runs").status_code == 401
    # grade filter of the enterprise list: the newest run of the year, classes after adjustment
    ents = api.get("/api/enterprises", params={"grade": "A", "year": 2023, "page_size": 500}).json()
    assert {i["uscc"] for i in ents["items"]} == {r["uscc"] for r in rows if r["final_grade"] == "A"}
    assert api.get("/api/enterprises", params={"grade": "A", "year": 2019}).json()["total"] == 0
    spec = api.get("/api/openapi.json").json()
    for path in ("/api/muni/runs", "/api/muni/runs/{run_id}", "/api/muni/runs/{run_id}/results"):
        assert path in spec["paths"]
    assert "grade" in {p["name"] for p in spec["paths"]["/api/enterprises"]["get"]["parameters"]}
    assert not any(p.startswith("/muni") for p in spec["paths"])


def test_enterprise_list_grade_filter_page(muni, clients):
    rows = results(muni, muni.runs[-1])
    html = clients["admin"].get("/enterprises?grade=D&year=2023&sort=uscc").text
    shown = set(re.findall(r'<tr data-uscc="([^"]+)">', html))
    assert shown == {r["uscc"] for r in rows if r["final_grade"] == "D"}
    assert 'data-testid="grade-filter"' in html


def test_english_run_page(muni):
    c = make_client(muni.engine)
    login(c, "admin1")
    c.cookies.set("lang", "en")
    html = c.get(f"/muni/runs/{muni.runs[-1]}").text
    assert "Class mix" in html and "Differentiated measures" in html and "example amount" in html
    html = c.get(f"/enterprises/{muni.town_firm}").text
    assert "Performance simulator" in html
