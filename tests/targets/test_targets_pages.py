"""The targets, task-ledger and 驾驶舱 pages, forms and API, in process, on a small demo county.

The store (module scope: it takes seconds to build) is the demo at scale 0.1 with the seeds' plans,
the seed actuals, the demo actuals of 003 and 000, one 亩均 run, and one user per role. Tests that
write (actuals, tasks) use their own indicator or task so that the order of tests does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from bad_numbers import BAD_NUMBERS
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_helpers import PASSWORD, csrf_of, make_client

from qunlian.accounts.service import principal_of
from qunlian.platform.web.deps import COUNT_UNITS
from qunlian.platform.db import session_factory
from qunlian.platform.i18n import translate, with_translation
from qunlian.accounts.models import User
from qunlian.platform.models import AuditLog
from qunlian.targets.models import Actual, Indicator, Plan, PlanTask

from demo_store import CLUSTERS, MFG14, DemoStore, demo_store, client_for  # noqa: F401

SRC = Path(__file__).parents[2] / "src" / "qunlian"


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStore]:
    store, drop = demo_store(tmp_path_factory, "targets-web")
    yield store
    drop()


def _status(demo: DemoStore, plan: str, **kw):
    from qunlian.targets.service import plan_status

    with session_factory(demo.engine)() as s:
        return plan_status(s, plan, **kw)


def _latest(demo: DemoStore, plan: str, town: str | None = None) -> str | None:
    from qunlian.targets.service import latest_period

    with session_factory(demo.engine)() as s:
        return latest_period(s, plan, town)


def _count(demo: DemoStore, model) -> int:
    with session_factory(demo.engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- who may see what


@pytest.mark.parametrize("role,expect", [("admin", 200), ("analyst", 200), ("department", 200), ("town", 200),
                                         ("chain", 403), ("enterprise", 403)])
def test_targets_pages_per_role(demo, role, expect):
    c = client_for(demo, demo.users[role])
    for path in ("/targets", f"/targets/{CLUSTERS}", f"/targets/{CLUSTERS}/towns", "/targets/alignment",
                 f"/targets/{CLUSTERS}/indicators/tax-per-mu", "/tasks"):
        assert c.get(path).status_code == expect, path
    nav = re.search(r'<nav class="nav".*?</nav>', c.get("/").text, re.S).group(0)
    assert ('href="/targets"' in nav) == (expect == 200)
    assert ('href="/imports"' in nav) == (role in ("admin", "analyst"))


def test_anonymous_is_sent_to_login(demo):
    c = make_client(demo.engine)
    r = c.get(f"/targets/{CLUSTERS}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_unknown_plan_and_indicator_are_404(demo):
    c = client_for(demo, "analyst1")
    assert c.get("/targets/no-such-plan").status_code == 404
    assert c.get(f"/targets/{CLUSTERS}/indicators/nope").status_code == 404
    assert c.get(f"/targets/{MFG14}/towns").status_code == 404  # 000 is not decomposed to towns
    assert c.get(f"/targets/{CLUSTERS}?as_of=garbage").status_code == 400


# --------------------------------------------------------------------------- pages show the service's figures


def test_plans_list_and_status_page_equal_the_service(demo):
    c = client_for(demo, "analyst1")
    page = c.get("/targets").text
    assert CLUSTERS in page and MFG14 in page and "/targets/alignment" in page
    latest = _latest(demo, CLUSTERS)
    rows = _status(demo, CLUSTERS, as_of=latest)
    html = c.get(f"/targets/{CLUSTERS}").text
    assert f'<option value="{latest}" selected>' in html
    for r in rows:
        m = re.search(rf'<tr data-indicator="{re.escape(r["code"])}" data-status="(\w+)">(.*?)</tr>', html, re.S)
        assert m, r["code"]
        assert m.group(1) == r["status"]
        if r["actual"] is not None:  # a whole count reads "34", anything else with two decimals
            whole = r["unit"] in COUNT_UNITS and float(r["actual"]).is_integer()
            shown = f"{int(r['actual']):,}" if whole else f"{r['actual']:,.2f}"
            assert re.search(rf'data-col="actual">{re.escape(shown)}<', m.group(2)), (r["code"], shown)
        if r["completion"] is not None:
            assert f"{r['completion'] * 100:.1f}%" in m.group(2)
    # a quarter: 2023Q1 亩均税收 12.2 against the pro-rated annual target, never the full year
    q1 = c.get(f"/targets/{CLUSTERS}?as_of=2023Q1").text
    row = re.search(r'<tr data-indicator="tax-per-mu".*?</tr>', q1, re.S).group(0)
    assert "12.20" in row and "139.4%" in row


def test_status_page_in_english_uses_the_english_reason(demo):
    c = client_for(demo, "analyst1")
    c.cookies.set("lang", "en")
    html = c.get(f"/targets/{CLUSTERS}").text
    assert "Completion" in html and "Projected at milestone" in html
    rows = _status(demo, CLUSTERS, as_of=_latest(demo, CLUSTERS))
    some = next(r for r in rows if r["status"] != "grey")
    english = translate(some["reason"], "en")  # the reason is a message: rendered per language, no reason_en
    assert "reason_en" not in some and english != str(some["reason"])
    assert english in html.replace("&#39;", "'") and str(some["reason"]) not in html


def test_indicator_page_chart_and_history(demo):
    c = client_for(demo, "analyst1")
    html = c.get(f"/targets/{CLUSTERS}/indicators/tax-per-mu").text
    assert 'data-chart="' in html and "data-testid=\"history\"" in html
    with session_factory(demo.engine)() as s:
        ind = s.scalar(select(Indicator).join(Plan).where(Plan.code == CLUSTERS, Indicator.code == "tax-per-mu"))
        n = s.scalar(select(func.count()).select_from(Actual).where(Actual.indicator_id == ind.id,
                                                                    Actual.town_id.is_(None)))
    assert html.count("data-revision=") == n
    assert "2023Q1" in html and "12.20" in html


def test_town_decomposition_page(demo):
    from qunlian.targets.service import reconcile_plan

    c = client_for(demo, "analyst1")
    html = c.get(f"/targets/{CLUSTERS}/towns?year=2023&period=2023&indicator=t23-tax-per-mu").text
    with session_factory(demo.engine)() as s:
        rec = reconcile_plan(s, CLUSTERS, 2023)
    for r in rec:
        assert f'data-indicator="{r["code"]}" data-verdict="{r["verdict"]}"' in html
    assert 'data-verdict="equal"' in html and 'data-verdict="exceeds"' in html
    assert html.count('class="tile light-bg-') == 8  # the schematic map, 8 towns
    assert 'data-testid="ranking"' in html and 'data-testid="rollup"' in html


def test_alignment_flags_differences(demo):
    c = client_for(demo, "dept2")
    html = c.get("/targets/alignment").text
    assert 'data-flagged="1"' in html and "不一致" in html


# --------------------------------------------------------------------------- town users: their own town only


def test_town_user_sees_own_town_status_and_not_others(demo):
    c = client_for(demo, "town1")
    html = c.get(f"/targets/{CLUSTERS}").text
    assert "<h2>当湖街道 ·" in html
    assert 'value="jingkai"' not in html  # no other town offered
    assert c.get(f"/targets/{CLUSTERS}?town=jingkai").status_code == 404
    assert c.get(f"/targets/{CLUSTERS}/indicators/t23-tax-per-mu?town=jingkai").status_code == 404
    assert c.get(f"/targets/{CLUSTERS}/indicators/t23-tax-per-mu?town=danghu").status_code == 200
    towns = c.get(f"/targets/{CLUSTERS}/towns?period=2023&indicator=t23-tax-per-mu").text
    assert 'data-testid="own-town-only"' in towns and 'data-testid="ranking"' not in towns
    assert towns.count('data-light="hidden"') == 7
    # another town's actuals are not in the roll-up table
    from qunlian.targets.service import town_rollup

    with session_factory(demo.engine)() as s:
        other = next(r for r in town_rollup(s, CLUSTERS, "2023") if r["towns"].get("经开区") is not None)
    row = re.search(rf'<tr data-indicator="{other["code"]}">.*?</tr>', towns, re.S).group(0)
    assert re.search(r'data-town="jingkai">—<', row)


# --------------------------------------------------------------------------- entering an actual


def _form(c: TestClient, path: str) -> str:
    return csrf_of(c.get(path).text)


def test_enter_actual_csrf_validation_and_success(demo):
    c = client_for(demo, "analyst1")
    token = _form(c, f"/targets/{MFG14}/actuals/new")
    before = _count(demo, Actual)
    data = {"indicator": "labour-productivity", "period": "2024", "value": "30.5", "source": "测试来源"}
    assert c.post(f"/targets/{MFG14}/actuals", data=data).status_code == 403  # no CSRF token
    assert _count(demo, Actual) == before
    bad = {**data, "csrf_token": token, "period": "2099", "unit": "万元/人", "value": "abc"}
    r = c.post(f"/targets/{MFG14}/actuals", data=bad)
    assert r.status_code == 400 and 'data-testid="problems"' in r.text
    assert "不在规划期内" in r.text and "数值不是数字" in r.text
    assert _count(demo, Actual) == before
    r = c.post(f"/targets/{CLUSTERS}/actuals", data={**data, "indicator": "t23-tax-per-mu", "town": "不存在镇",
                                                      "csrf_token": token})
    assert r.status_code == 400 and "未知镇街道" in r.text
    r = c.post(f"/targets/{MFG14}/actuals", data={**data, "unit": "万元/亩", "csrf_token": token})
    assert r.status_code == 400 and "不能换算" in r.text and _count(demo, Actual) == before
    # one validator for every number (issue #12): nothing stored for any of them
    for value in BAD_NUMBERS:
        r = c.post(f"/targets/{MFG14}/actuals", data={**data, "value": value, "csrf_token": token})
        assert r.status_code == 400 and 'data-testid="problems"' in r.text and "数值" in r.text, value
    assert _count(demo, Actual) == before
    # HTML in a field is shown as text
    r = c.post(f"/targets/{MFG14}/actuals", data={**data, "period": "<b>x</b>", "csrf_token": token})
    assert "<b>x</b>" not in r.text and "&lt;b&gt;x&lt;/b&gt;" in r.text
    r = c.post(f"/targets/{MFG14}/actuals", data={**data, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    assert _count(demo, Actual) == before + 1
    page = c.get(r.headers["location"]).text
    assert 'data-testid="saved"' in page and "30.50" in page and "测试来源" in page
    with session_factory(demo.engine)() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "targets.actuals",
                                                                         AuditLog.actor == "analyst1")) >= 1


def test_department_enters_only_its_own_indicators(demo):
    with session_factory(demo.engine)() as s:
        inds = s.scalars(select(Indicator).join(Plan).where(Plan.code == CLUSTERS)).all()
        own = next(i for i in inds if "市经信局" in (i.responsible_units or []))
        other = next((i for i in inds if "市经信局" not in (i.responsible_units or [])), None)
    c = client_for(demo, "dept1")
    page = c.get(f"/targets/{CLUSTERS}/actuals/new").text
    assert f'value="{own.code}"' in page
    token = csrf_of(page)
    if other is not None:
        assert f'value="{other.code}"' not in page
        r = c.post(f"/targets/{CLUSTERS}/actuals", data={"indicator": other.code, "period": "2024", "value": "1",
                                                      "source": "x", "csrf_token": token})
        assert r.status_code == 403
    town = client_for(demo, "town1")
    assert town.get(f"/targets/{CLUSTERS}/actuals/new").status_code == 403


# --------------------------------------------------------------------------- the task ledger


def test_task_ledger_filters(demo):
    from qunlian.targets.service import list_tasks

    c = client_for(demo, "analyst1")
    html = c.get(f"/tasks?plan={CLUSTERS}").text
    assert html.count('class="card task ') == 62
    with session_factory(demo.engine)() as s:
        tasks = list_tasks(s, CLUSTERS)
    overdue = [t for t in tasks if any(w["kind"] == "overdue" for w in t["warnings"])]
    assert f'data-testid="tasks-overdue">{len(overdue)}<' in html
    unit = tasks[0]["lead_unit"]
    html = c.get(f"/tasks?plan={CLUSTERS}&unit={unit}").text
    n = sum(1 for t in tasks if unit == t["lead_unit"] or unit in t["co_units"])
    assert html.count('class="card task ') == n
    html = c.get(f"/tasks?plan={CLUSTERS}&overdue=1").text
    assert html.count('class="card task ') == len(overdue)
    # an as-of past the plan makes every open task overdue
    html = c.get(f"/tasks?plan={CLUSTERS}&as_of=2028Q1&overdue=1").text
    assert html.count('data-warning="overdue"') >= 1


def test_task_progress_close_reopen_with_csrf_and_roles(demo):
    with session_factory(demo.engine)() as s:
        task = s.scalar(select(PlanTask).join(Plan).where(Plan.code == CLUSTERS, PlanTask.lead_unit == "市经信局")
                        .order_by(PlanTask.seq.desc()).limit(1))
        other = s.scalar(select(PlanTask).join(Plan).where(Plan.code == CLUSTERS, PlanTask.lead_unit != "市经信局")
                         .order_by(PlanTask.seq.desc()).limit(1))
    c = client_for(demo, "dept1")
    page = c.get(f"/tasks?plan={CLUSTERS}").text
    token = csrf_of(page)
    assert f'data-testid="close-form-{task.seq}"' in page
    assert f'data-testid="close-form-{other.seq}"' not in page
    base = f"/tasks/{CLUSTERS}/{task.seq}"
    assert c.post(f"{base}/progress", data={"period": "2024Q2", "note": "x"}).status_code == 403  # no CSRF
    r = c.post(f"{base}/progress", data={"period": "2024Q9", "note": "x", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303 and "error=" in r.headers["location"]
    r = c.post(f"{base}/progress", data={"period": "2024Q2", "note": "新增 <i>省级</i> 专精特新 12 家",
                                         "evidence": "名单.pdf\n批复.pdf", "csrf_token": token})
    assert r.status_code == 200 and "&lt;i&gt;省级&lt;/i&gt;" in r.text and "名单.pdf、批复.pdf" in r.text
    r = c.post(f"{base}/close", data={"note": "", "csrf_token": token}, follow_redirects=False)
    assert "error=" in r.headers["location"]  # empty closing note refused
    r = c.post(f"{base}/close", data={"note": "达标", "evidence": "验收报告.pdf", "csrf_token": token})
    assert re.search(rf'data-seq="{task.seq}" data-status="closed"', r.text)
    assert "dept1" in r.text
    assert c.post(f"/tasks/{CLUSTERS}/{other.seq}/close", data={"note": "x", "csrf_token": token}).status_code == 403
    r = c.post(f"{base}/reopen", data={"reason": "验收未通过", "csrf_token": token})
    assert re.search(rf'data-seq="{task.seq}" data-status="in_progress"', r.text)
    town = client_for(demo, "town1")
    ttoken = csrf_of(town.get("/tasks").text)
    assert town.post(f"{base}/close", data={"note": "x", "csrf_token": ttoken}).status_code == 403


# --------------------------------------------------------------------------- 驾驶舱


def test_home_cockpit_tiles(demo):
    from qunlian.per_mu.service import class_mix_in_scope as muni_class_mix
    from qunlian.targets.service import chain_strength

    c = client_for(demo, "analyst1")
    html = c.get("/").text
    assert 'data-testid="key-indicators"' in html and 'data-testid="muni-mix"' in html
    assert 'data-testid="chain-strength"' in html and 'data-testid="overdue-tile"' in html
    assert 'data-testid="kpi-enterprises"' in html  # what was there stays
    rows = _status(demo, CLUSTERS, as_of=_latest(demo, CLUSTERS))
    for r in (r for r in rows if r["table"] == "附件1"):
        assert f'data-indicator="{r["code"]}" data-status="{r["status"]}"' in html
    with session_factory(demo.engine)() as s:
        analyst = principal_of(s.scalar(select(User).where(User.username == "analyst1")))
        town = principal_of(s.scalar(select(User).where(User.username == "town1")))
        mix_all, mix_town = muni_class_mix(s, analyst), muni_class_mix(s, town)
        chains_town = chain_strength(s, town)
    for g, n in mix_all["grades"].items():
        assert re.search(rf'data-grade="{g}"><strong>{n}</strong>', html)
    assert sum(mix_town["grades"].values()) < sum(mix_all["grades"].values())
    th = client_for(demo, "town1").get("/").text
    for g, n in mix_town["grades"].items():
        assert re.search(rf'data-grade="{g}"><strong>{n}</strong>', th)
    for ch in chains_town["chains"]:
        assert re.search(rf'data-chain="{ch["code"]}">.*?data-col="firms">{ch["firms"]}<', th, re.S)
    # department: key indicators and its own overdue tasks, no firm tiles; enterprise: no targets tiles
    dh = client_for(demo, "dept1").get("/").text
    assert 'data-testid="overdue-tile"' in dh and "市经信局" in dh and 'data-testid="chain-strength"' not in dh
    eh = client_for(demo, "ent1").get("/").text
    assert 'data-testid="key-indicators"' not in eh and 'data-testid="overdue-tile"' not in eh
    assert 'data-testid="muni-mix"' not in eh


def test_home_leads_with_the_cockpit(demo):
    """KPI cards from the firms' own figures (read here with plain SQL), the clusters against their
    target, the class mix as a chart, the towns schematic; a town user sees its own targets."""
    from qunlian.enterprises.models import Enterprise, EnterpriseYear
    from qunlian.regions.models import Town

    with session_factory(demo.engine)() as s:
        year = s.scalar(select(func.max(EnterpriseYear.year)))
        above, output = s.execute(select(func.count(), func.sum(EnterpriseYear.output_wan))
                                  .where(EnterpriseYear.year == year, EnterpriseYear.above_scale.is_(True))).one()
        before = s.scalar(select(func.sum(EnterpriseYear.output_wan))
                          .where(EnterpriseYear.year == year - 1, EnterpriseYear.above_scale.is_(True)))
        towns_with_firms = s.scalar(select(func.count(func.distinct(Enterprise.town_id)))
                                    .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
                                    .where(EnterpriseYear.year == year, Enterprise.town_id.is_not(None)))
        town_name = s.scalar(select(Town.name).where(Town.code == demo.town_code))
    html = client_for(demo, "analyst1").get("/").text
    assert re.search(r'data-testid="kpi-above">([\d,]+)<', html).group(1).replace(",", "") == str(above)
    assert re.search(r'data-testid="kpi-output_yi">([\d,.]+)<', html).group(1) == f"{output / 1e4:,.1f}"
    change = re.search(r'data-testid="kpi-change-output_yi">([▲▼]) ([\d.]+)%', html)
    assert change.group(1) == ("▲" if output >= before else "▼")
    assert float(change.group(2)) == round(abs(output / before - 1) * 100, 1)
    assert html.count('class="spark"') == 4 and 'data-testid="mix-chart"' in html
    assert 'data-testid="clusters-chart"' in html and re.search(r'data-testid="clusters-share">[\d.]+%<', html)
    assert len(re.findall(r'<a class="tile level-\d" href="/towns/', html)) == towns_with_firms
    # colouring by another figure keeps the towns and names it
    by_tax = client_for(demo, "analyst1").get("/?by=tax_per_mu").text
    assert "<strong>规上亩均税收</strong>" in by_tax and len(re.findall(r'class="tile level-', by_tax)) == towns_with_firms
    assert client_for(demo, "analyst1").get("/?by=nonsense").status_code == 200  # falls back to output
    # a town user: its own targets (the plan's town decomposition), no other towns, no county clusters
    th = client_for(demo, "town1").get("/").text
    assert f"规划关键指标 · {town_name}" in th and "town-schematic" not in th and "clusters-chart" not in th
    assert f"?town={quote(town_name)}" in th  # its indicators open on its own town


# --------------------------------------------------------------------------- API


def _token(c: TestClient, username: str) -> dict[str, str]:
    r = c.post("/api/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_api_status_and_reconcile_per_role(demo):
    c = make_client(demo.engine)
    assert c.get(f"/api/targets/{CLUSTERS}/status").status_code == 401
    h = _token(c, "analyst1")
    r = c.get(f"/api/targets/{CLUSTERS}/status", params={"as_of": "2023Q1"}, headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body == __import__("json").loads(__import__("json").dumps(
        with_translation(_status(demo, CLUSTERS, as_of="2023Q1")), default=str))
    for key in ("indicator", "unit", "period", "actual", "target", "milestone", "completion", "projected",
                "status", "reason", "reason_en"):  # reason_en: a published key, now rendered from the catalogue
        assert key in body[0]
    assert all(x["reason_en"] and x["reason_en"] != x["reason"] for x in body)
    r = c.get(f"/api/targets/{CLUSTERS}/status", params={"town": "经开区"}, headers=h)
    assert r.status_code == 200 and {x["town"] for x in r.json()} == {"经开区"}
    r = c.get(f"/api/targets/{CLUSTERS}/reconcile", params={"year": 2023}, headers=h)
    verdicts = {x["code"]: x["verdict"] for x in r.json()}
    assert verdicts["t23-mfg-investment"] == "equal"
    assert c.get("/api/targets/nope/status", headers=h).status_code == 404
    assert c.get(f"/api/targets/{CLUSTERS}/status", params={"as_of": "bad"}, headers=h).status_code == 400
    # a town user gets its own town by default, and 404 for another
    th = _token(c, "town1")
    r = c.get(f"/api/targets/{CLUSTERS}/status", headers=th)
    assert r.status_code == 200 and {x["town"] for x in r.json()} == {"当湖街道"}
    assert c.get(f"/api/targets/{CLUSTERS}/status", params={"town": "jingkai"}, headers=th).status_code == 404
    assert c.get(f"/api/targets/{MFG14}/status", headers=th).status_code == 200  # not decomposed: city-wide
    for who in ("chain1", "ent1"):
        hh = _token(c, who)
        assert c.get(f"/api/targets/{CLUSTERS}/status", headers=hh).status_code == 403
        assert c.get(f"/api/targets/{CLUSTERS}/reconcile", params={"year": 2023}, headers=hh).status_code == 403
    assert c.get(f"/api/targets/{CLUSTERS}/status", headers=_token(c, "dept2")).status_code == 200
    spec = c.get("/api/openapi.json").json()
    assert "/api/targets/{plan_code}/status" in spec["paths"]



def test_towns_page_opens_on_data(demo):
    """The 镇街道分解 page opens on a target year whose towns have actuals for that year, shown side by
    side (it opened on the 2023 targets against 2025 actuals, every cell "—")."""
    html = client_for(demo, "analyst1").get(f"/targets/{CLUSTERS}/towns").text
    period = re.search(r'name="period".*?<option value="([^"]+)" selected', html, re.S).group(1)
    year = int(re.search(r'name="year".*?<option value="(\d+)" selected', html, re.S).group(1))
    assert str(year) == period  # 003 附件3 gives town targets for 2023: the 2023 actuals beside them
    rollup = html.split('data-testid="rollup"')[1].split("</table>")[0]
    cells = re.findall(r'<td class="num" data-town="[^"]+">([^<]*)<', rollup)
    assert cells and any(c.strip() not in ("", "—") for c in cells)


def test_a_plan_without_actuals_says_why_once(demo):
    """Issue #13 item 2: the provincial plan holds only its base-year values in a county's store, so
    every light is grey; the page says why once, above the table."""
    html = client_for(demo, "analyst1").get("/targets/zhejiang-amb-14th").text
    rows = _status(demo, "zhejiang-amb-14th", as_of=_latest(demo, "zhejiang-amb-14th"))
    assert rows and all(r["status"] == "grey" for r in rows)
    assert 'data-testid="no-actuals"' in html and "上级（省、市）规划" in html
    county = client_for(demo, "analyst1").get(f"/targets/{CLUSTERS}").text
    assert 'data-testid="no-actuals"' not in county  # a plan with lights says nothing of the kind
