"""Exports of every table (issue #11 item 4), pages and API, in process.

Each table page's download links are read from the page itself and fetched as the same user: the file
opens (openpyxl; CSV as UTF-8 with BOM), its header row is the Chinese heading with units (the English
keys with ``headers=en``), and it holds exactly the page's rows (same filters, same order, same scope).
The API list endpoints give the same with ``format=xlsx|csv`` and keep their JSON. Confidential
exports are audited. Text that a spreadsheet would read as a formula comes out as text.

Stores: the small demo county (plans, tasks, a 亩均 run, one user per role; module scope), the same
with formula-like texts planted, and the small web store (5 firms, one user per role) for scoping.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from demo_store import CLUSTERS, DemoStore, demo_store, client_for
from openpyxl import load_workbook
from sqlalchemy import select, update
from web_helpers import PASSWORD, VISIBLE, login, make_client

from qunlian.chains.models import ChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.per_mu.models import MuniResult, MuniRun
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.models import AuditLog
from qunlian.platform.tabular_out import FORMULA_PREFIXES
from qunlian.platform.web.exports import (
    ExportColumn,
    cell,
    content_disposition,
    download,
)
from qunlian.regions.models import Region, Town
from qunlian.targets.models import Indicator, Plan, PlanTask
from qunlian.targets.service import LIGHTS
from qunlian.targets.web import TASK_STATUS, WARNINGS

ROLES = ("admin", "analyst", "department", "town", "chain", "enterprise")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK = re.compile(r'<a href="([^"]+)" data-testid="(?:export|export-csv|muni-results-xlsx|muni-results-csv)">')


# --------------------------------------------------------------------------- stores


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStore]:
    store, drop = demo_store(tmp_path_factory, "exports")
    yield store
    drop()


@pytest.fixture(scope="module")
def run_id(demo: DemoStore) -> int:
    with session_factory(demo.engine)() as s:
        return s.scalar(select(MuniRun.id).order_by(MuniRun.id.desc()))


@pytest.fixture(scope="module")
def clients(demo: DemoStore) -> dict:
    return {role: client_for(demo, demo.users[role]) for role in ROLES}


def bearer(client, username: str) -> dict[str, str]:
    r = client.post("/api/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# --------------------------------------------------------------------------- reading files


def read(r) -> list[list]:
    """The file of a download as rows of values (the header first)."""
    assert r.status_code == 200, (r.status_code, r.text[:300])
    kind = r.headers["content-type"]
    if kind.startswith(XLSX):
        wb = load_workbook(io.BytesIO(r.content))
        assert len(wb.worksheets) == 1
        return [list(row) for row in wb.active.iter_rows(values_only=True)]
    assert kind == "text/csv; charset=utf-8", kind
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel and WPS read UTF-8
    return [row for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""))]


def xlsx_cells(r) -> list[tuple[object, str]]:
    wb = load_workbook(io.BytesIO(r.content))
    return [(c.value, c.data_type) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_download(r, fmt: str) -> None:
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == (XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="qunlian-') and f".{fmt}\"; filename*=UTF-8''" in disposition
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in r.headers["cache-control"]


def links(page_html: str) -> list[str]:
    found = [html.unescape(h) for h in LINK.findall(page_html)]
    return found


def with_headers_en(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "headers=en"


def table_html(page_html: str, testid: str) -> str:
    m = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', page_html, re.DOTALL)
    assert m, testid
    return m.group(0)


# --------------------------------------------------------------------------- the tables

# page → (how many rows its table shows, the Chinese header, the English header); None: checked apart
ENTERPRISE_ZH = ["统一社会信用代码", "企业名称", "镇街道", "行业代码", "年度", "是否规上", "用地面积（亩）", "工业总产值（万元）",
                 "税收（万元）", "亩均产值（万元/亩）", "亩均税收（万元/亩）"]
ENTERPRISE_EN = ["uscc", "name", "town", "industry_code", "year", "above_scale", "land_mu", "output_wan", "tax_wan",
                 "output_per_mu", "tax_per_mu"]
RESULTS_ZH = ["名次", "组内企业数（家）", "统一社会信用代码", "企业名称", "镇街道", "评价组", "亩均税收（万元/亩）", "调档后得分（分）",
              "初评得分（分）", "加减分（分）", "调档后等级", "初评等级", "说明"]
RESULTS_EN = ["rank", "group_size", "uscc", "name", "town", "part", "tax_per_mu", "final_score", "initial_score",
              "adjustment", "final_grade", "initial_grade", "reasons"]
STATUS_ZH = ["表", "序号", "指标代码", "指标", "单位", "期间", "实际值", "估计值", "参照值", "完成率（%）", "节点年份", "节点目标",
             "节点预测", "状态", "状态说明"]
STATUS_EN = ["table", "seq", "code", "indicator", "unit", "period", "actual", "is_estimate", "reference", "completion_pct",
             "milestone", "milestone_target", "projected", "status", "reason"]
TASKS_ZH = ["序号", "重点任务", "任务内容", "牵头单位", "配合单位", "期限（年底）", "每年", "状态", "提醒类型", "提醒", "最近进展期间",
            "进展记录（条）", "佐证材料（个）", "销号人", "销号时间"]
TASKS_EN = ["seq", "heading", "content", "lead_unit", "co_units", "due_year", "recurring", "status", "warning_kinds",
            "warnings", "last_progress", "progress_count", "evidence_count", "closed_by", "closed_at"]
TOWNS_ZH = ["名称", "代码", "类型", "区划代码", "企业（家）"]
TOWNS_EN = ["name", "code", "kind", "division_code", "firms"]
NODES_ZH = ["节点代码", "上级节点代码", "层次", "节点", "层级", "类型", "行业代码", "关联企业（家）", "按行业代码匹配（家）",
            "关联企业按行业代码（家）"]
NODES_EN = ["code", "parent", "depth", "name", "level", "kind", "industry_codes", "firms", "matched", "by_industry"]


def page_rows(path: str, page: str) -> int:
    """How many rows the page's table shows (all its pages)."""
    if path.startswith("/enterprises"):
        return int(re.search(r'data-testid="total">共 (\d+) 家企业', page).group(1))
    if path.startswith("/muni/runs/"):
        return int(re.search(r'data-testid="muni-total">共 (\d+) 家企业', page).group(1))
    if path.startswith("/tasks"):
        return len(re.findall(r'<section class="card task [^"]*" id="task-', page))
    if path.startswith("/targets/") and "/towns" in path:
        return table_html(page, "reconcile").count("<tr data-indicator=")
    if path.startswith("/targets/"):
        return table_html(page, "status-table").count("<tr data-indicator=")
    if path.startswith("/regions"):
        return table_html(page, "compare-table").count("<tr data-region=")
    if path.startswith("/towns"):
        return table_html(page, "towns-table").count("<tr data-town=")
    if path.startswith("/chains/"):
        return table_html(page, "chain-tree").count("<tr data-node=")
    raise AssertionError(path)


def headers_for(path: str) -> tuple[list[str], list[str]] | None:
    if path.startswith("/enterprises"):
        return ENTERPRISE_ZH, ENTERPRISE_EN
    if path.startswith("/muni/runs/"):
        return RESULTS_ZH, RESULTS_EN
    if path.startswith("/tasks"):
        return TASKS_ZH, TASKS_EN
    if path.startswith("/targets/") and "/towns" not in path:
        return STATUS_ZH, STATUS_EN
    if path.startswith("/towns"):
        return TOWNS_ZH, TOWNS_EN
    if path.startswith("/chains/"):
        return NODES_ZH, NODES_EN
    return None  # regions and the reconciliation: columns per class / per town, checked in their own tests


def pages(demo: DemoStore, run_id: int) -> list[str]:
    """Every table page, some with filters (the downloads must carry them)."""
    return [
        "/enterprises", "/enterprises?scale=above&sort=tax&desc=1", f"/muni/runs/{run_id}",
        f"/muni/runs/{run_id}?grade=B&sort=score&desc=1", f"/targets/{CLUSTERS}", f"/targets/{CLUSTERS}?town=danghu",
        f"/targets/{CLUSTERS}/towns", f"/targets/{CLUSTERS}/towns?year=2023", "/tasks", "/tasks?unit=市经信局",
        "/tasks?status=warned", "/regions", "/towns", "/chains/4q8l", "/chains/1212",
    ]


# --------------------------------------------------------------------------- every page, every role


@pytest.mark.parametrize("role", ROLES)
def test_every_table_page_offers_downloads_of_exactly_its_table(demo, run_id, clients, role):
    c = clients[role]
    checked = 0
    for path in pages(demo, run_id):
        page = c.get(path)
        found = links(page.text) if page.status_code == 200 else []
        if page.status_code != 200:
            # no table, no link; a download URL of that page answers as the page does
            export = _download_of(path, "csv")
            assert c.get(export).status_code == page.status_code, (role, path)
            continue
        assert len(found) == 2, (role, path, found)  # one .xlsx, one .csv
        assert {urlsplit(u).path.rsplit(".", 1)[1] for u in found} == {"xlsx", "csv"}
        want = page_rows(path, page.text)
        for url in found:
            fmt = urlsplit(url).path.rsplit(".", 1)[1]
            r = c.get(url)
            assert_download(r, fmt)
            rows = read(r)
            assert len(rows) - 1 == want, (role, url, len(rows) - 1, want)
            expected = headers_for(path)
            if expected:
                assert rows[0] == expected[0], (url, rows[0])
                assert read(c.get(with_headers_en(url)))[0] == expected[1], url
            checked += 1
    assert checked >= (2 * len(pages(demo, run_id)) if role in ("admin", "analyst") else 2)


def _download_of(path: str, fmt: str) -> str:
    parts = urlsplit(path)
    p = parts.path
    if p.startswith("/muni/runs/"):
        p += f"/results.{fmt}"
    elif p.startswith("/targets/") and p.endswith("/towns"):
        p = p[: -len("/towns")] + f"/reconcile.{fmt}"
    elif p.startswith("/targets/"):
        p += f"/status.{fmt}"
    elif p.startswith("/chains/"):
        p += f"/nodes.{fmt}"
    else:
        p += f".{fmt}"
    return p + (f"?{parts.query}" if parts.query else "")


def test_the_links_point_at_the_documented_urls(demo, run_id, clients):
    c = clients["admin"]
    for path in pages(demo, run_id):
        found = links(c.get(path).text)
        for fmt in ("xlsx", "csv"):
            want = urlsplit(_download_of(path, fmt))
            got = next(urlsplit(u) for u in found if urlsplit(u).path.endswith(f".{fmt}"))
            assert got.path == want.path, (path, got.path)
            # the page's filters travel (the page number does not: a download has every page)
            assert dict(parse_qsl(want.query)).items() <= dict(parse_qsl(got.query)).items(), (path, got.query)


def test_rows_come_in_the_pages_order_with_its_figures(demo, run_id, clients):
    c = clients["analyst"]
    page = c.get("/enterprises?sort=tax&desc=true").text
    shown = re.findall(r'<tr data-uscc="([^"]+)">', page)
    rows = read(c.get("/enterprises.xlsx?sort=tax&desc=true"))
    assert [r[0] for r in rows[1:len(shown) + 1]] == shown
    taxes = [r[8] for r in rows[1:] if r[8] is not None]
    assert taxes == sorted(taxes, reverse=True) and isinstance(taxes[0], float)  # numbers stay numbers
    api = c.get("/api/enterprises", params={"page_size": 500}, headers=bearer(c, "analyst1")).json()
    by_uscc = {i["uscc"]: i for i in api["items"]}
    for r in rows[1:]:
        assert r[8] == by_uscc[r[0]]["tax_wan"] and r[6] == by_uscc[r[0]]["land_mu"]
    shown = re.findall(r'<tr data-uscc="([^"]+)">', c.get(f"/muni/runs/{run_id}?sort=score&desc=true").text)
    rows = read(c.get(f"/muni/runs/{run_id}/results.csv?sort=score&desc=true"))
    assert [r[2] for r in rows[1:len(shown) + 1]] == shown


def test_status_and_tasks_say_codes_in_english_and_labels_in_chinese(demo, clients):
    c = clients["admin"]
    zh = read(c.get(f"/targets/{CLUSTERS}/status.csv"))
    en = read(c.get(f"/targets/{CLUSTERS}/status.csv?headers=en"))
    assert [r[2] for r in zh[1:]] == [r[2] for r in en[1:]]  # the same rows
    assert {r[13] for r in zh[1:]} <= set(LIGHTS.values()) and {r[13] for r in en[1:]} <= set(LIGHTS)
    assert {r[13] for r in en[1:]} & {"green", "amber", "red"}
    # reasons in the file's language (units and plan wording are data: they stay as the plan writes them)
    assert all(re.match(r"[a-z]", e[14]) and re.match(r"[\u4e00-\u9fff]", z[14]) for z, e in zip(zh[1:], en[1:]))
    tasks = read(c.get("/tasks.xlsx?headers=en"))
    assert {r[7] for r in tasks[1:]} <= set(TASK_STATUS) and {r[7] for r in tasks[1:]}
    assert {r[7] for r in read(c.get("/tasks.xlsx"))[1:]} <= set(TASK_STATUS.values())
    kinds = {k for r in tasks[1:] if r[8] for k in r[8].split("; ")}
    assert kinds and kinds <= set(WARNINGS)  # warning kinds as codes, joined


def test_reconciliation_has_a_column_per_town_with_the_plans_targets(demo, clients):
    c = clients["town"]  # a town user sees every town's targets (plan text)
    page = c.get(f"/targets/{CLUSTERS}/towns").text
    towns = re.findall(r'<th class="num">([^<]+)</th>', re.search(r"<thead>.*?</thead>", table_html(page, "reconcile"), re.DOTALL).group(0))
    rows = read(c.get(f"/targets/{CLUSTERS}/reconcile.xlsx"))
    assert rows[0][:5] == ["指标代码", "指标", "单位", "汇总规则", "全市目标"]
    assert rows[0][5:-3] == towns[1:-1]  # 全市目标 … town names … 各镇合计
    assert rows[0][-3:] == ["各镇合计", "核对结果", "说明"]
    en = read(c.get(f"/targets/{CLUSTERS}/reconcile.csv?headers=en"))[0]
    assert en[:5] == ["code", "indicator", "unit", "aggregation", "city_target"] and "town_danghu" in en
    assert en[-3:] == ["towns_total", "verdict", "reason"]
    first = next(r for r in rows[1:] if r[0] == "t23-va-growth")
    assert first[4] == 7 and first[5] == 5  # plain numbers as numbers


def test_regions_has_a_column_per_class(demo, clients):
    rows = read(clients["analyst"].get("/regions.xlsx"))
    assert rows[0][:8] == ["地区代码", "地区", "层级", "企业（家）", "规上（家）", "规上产值（亿元）", "规上增加值（亿元）",
                           "亩均税收（万元/亩）"]
    assert "亩均 A 类（家）" in rows[0] and rows[0][-1] == "已达规划目标（%）"
    assert read(clients["analyst"].get("/regions.csv?headers=en"))[0][:4] == ["code", "name", "level", "firms"]
    assert clients["town"].get("/regions.xlsx").status_code == 403  # regions.compare, as the page


# --------------------------------------------------------------------------- scoping


def test_a_town_users_exports_hold_only_its_towns_firms(demo, run_id, clients):
    town, admin = clients["town"], clients["admin"]
    mine = read(town.get("/enterprises.csv"))
    assert len(mine) > 2 and {r[2] for r in mine[1:]} == {demo.town}
    everyone = read(admin.get("/enterprises.csv"))
    assert {r[0] for r in mine[1:]} == {r[0] for r in everyone[1:] if r[2] == demo.town} != {r[0] for r in everyone[1:]}
    results = read(town.get(f"/muni/runs/{run_id}/results.xlsx"))
    assert len(results) > 2 and {r[4] for r in results[1:]} == {demo.town}
    # the API as well, and the town's filter cannot widen it
    api = read(town.get("/api/enterprises", params={"format": "csv", "town": "zhapu"}, headers=bearer(town, "town1")))
    assert len(api) == 1  # the header only
    api = read(town.get("/api/enterprises", params={"format": "xlsx"}, headers=bearer(town, "town1")))
    assert {r[3] for r in api[1:]} == {demo.town}
    # the status table: a town user gets its own town by default, another town is 404 as on the page
    assert town.get(f"/targets/{CLUSTERS}/status.csv?town=jingkai").status_code == 404
    assert town.get(f"/targets/{CLUSTERS}").text.count("status.csv?") == 1


def test_each_role_exports_exactly_the_firms_it_sees(web_store):
    for role, keys in VISIBLE.items():
        c = make_client(web_store.engine)
        assert login(c, web_store.users[role]).status_code == 303
        want = {web_store.uscc[k] for k in keys}
        for fmt in ("xlsx", "csv"):
            rows = read(c.get(f"/enterprises.{fmt}?year=2023"))
            assert {r[0] for r in rows[1:]} == want, (role, fmt)
            api = read(c.get("/api/enterprises", params={"format": fmt, "year": 2023},
                             headers=bearer(c, web_store.users[role])))
            assert {r[0] for r in api[1:]} == want, (role, fmt)


# --------------------------------------------------------------------------- the API


def test_api_lists_give_files_and_keep_their_json(demo, run_id, clients):
    c = clients["analyst"]
    h = bearer(c, "analyst1")
    cases = [("/api/enterprises", {"scale": "above"}, lambda j: j["total"], "统一社会信用代码", "uscc"),
             (f"/api/muni/runs/{run_id}/results", {"grade": "B"}, lambda j: j["total"], "统一社会信用代码", "uscc"),
             (f"/api/targets/{CLUSTERS}/status", {}, len, "表", "table"),
             (f"/api/targets/{CLUSTERS}/reconcile", {"year": 2023}, len, "指标代码", "code")]
    for path, params, count, zh, en in cases:
        plain = c.get(path, params=params, headers=h)
        assert plain.headers["content-type"] == "application/json"
        assert c.get(path, params={**params, "format": "json"}, headers=h).json() == plain.json()  # unchanged
        for fmt in ("xlsx", "csv"):
            r = c.get(path, params={**params, "format": fmt}, headers=h)
            assert_download(r, fmt)
            rows = read(r)
            assert rows[0][0] == zh and len(rows) - 1 == count(plain.json()), (path, fmt)
            assert read(c.get(path, params={**params, "format": fmt, "headers": "en"}, headers=h))[0][0] == en
        assert c.get(path, params={**params, "format": "pdf"}, headers=h).status_code == 422
        assert c.get(path, params={**params, "format": "csv", "headers": "fr"}, headers=h).status_code == 422
    # the API's enterprise file has the JSON item's fields, all pages
    rows = read(c.get("/api/enterprises", params={"format": "csv", "headers": "en", "page_size": 1}, headers=h))
    assert rows[0] == ["uscc", "name", "town_code", "town", "industry_code", "year", "above_scale", "land_mu",
                       "output_wan", "tax_wan", "revenue_wan", "value_added_wan", "energy_tce", "electricity_wan_kwh",
                       "employees", "output_per_mu", "tax_per_mu"]
    assert len(rows) - 1 == c.get("/api/enterprises", headers=h).json()["total"] > 1
    results = read(c.get(f"/api/muni/runs/{run_id}/results", params={"format": "csv", "headers": "en"}, headers=h))
    assert {"tax_per_mu_value", "tax_per_mu_points", "tax_per_mu_status"} <= set(results[0])
    # who may not read the JSON may not read the file
    assert c.get("/api/enterprises", params={"format": "csv"}).status_code == 401
    ch = bearer(clients["chain"], "chain1")
    assert c.get(f"/api/targets/{CLUSTERS}/status", params={"format": "csv"}, headers=ch).status_code == 403


def test_openapi_documents_format_and_headers(demo, run_id, clients):
    spec = clients["admin"].get("/api/openapi.json").json()
    for path in ("/api/enterprises", "/api/muni/runs/{run_id}/results", "/api/targets/{plan_code}/status",
                 "/api/targets/{plan_code}/reconcile"):
        op = spec["paths"][path]["get"]
        params = {p["name"]: p for p in op["parameters"]}
        assert params["format"]["schema"]["default"] == "json" and "xlsx" in params["format"]["schema"]["pattern"]
        assert params["headers"]["schema"]["default"] == "zh" and "en" in params["headers"]["schema"]["pattern"]
        assert "format=xlsx|csv" in op["summary"]
        assert set(op["responses"]["200"]["content"]) >= {XLSX, "text/csv"}
    assert not any(p.endswith((".xlsx", ".csv")) for p in spec["paths"])  # page downloads stay out of the API


# --------------------------------------------------------------------------- audit


def test_exports_of_confidential_figures_are_audited(demo, run_id, clients):
    def lines(action: str) -> list[AuditLog]:
        with session_factory(demo.engine)() as s:
            return list(s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))

    c = clients["town"]
    before = {a: len(lines(a)) for a in ("enterprises.export", "muni.export")}
    c.get("/enterprises.csv?scale=above")
    c.get(f"/muni/runs/{run_id}/results.xlsx?grade=A")
    c.get("/api/enterprises", params={"format": "xlsx"}, headers=bearer(c, "town1"))
    c.get(f"/api/muni/runs/{run_id}/results", params={"format": "csv"}, headers=bearer(c, "town1"))
    ent, muni = lines("enterprises.export")[before["enterprises.export"]:], lines("muni.export")[before["muni.export"]:]
    assert [(a.actor, a.detail["format"]) for a in ent] == [("town1", "csv"), ("town1", "xlsx")]
    assert ent[0].detail["filters"]["scale"] == "above" and ent[0].detail["rows"] > 0
    assert [(a.actor, a.detail["format"], a.entity_id) for a in muni] == [("town1", "xlsx", str(run_id)),
                                                                         ("town1", "csv", str(run_id))]
    assert muni[0].detail["filters"]["grade"] == "A" and muni[0].detail["scope"] == "town"
    c.get("/api/enterprises", headers=bearer(c, "town1"))  # JSON reads are not exports
    assert len(lines("enterprises.export")) == before["enterprises.export"] + 2


# --------------------------------------------------------------------------- formula injection

EVIL = {p: f'{p}HYPERLINK("http://evil.example","{i}")' for i, p in enumerate(FORMULA_PREFIXES)}


@pytest.fixture(scope="module")
def planted(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoStore, int]]:
    """The demo county with a text starting with each formula prefix in every table's text columns:
    firm names (and their 亩均 results), task headings, indicator names, division codes, chain node
    names and the county's name."""
    store, drop = demo_store(tmp_path_factory, "exports-planted")
    evil = list(EVIL.values())
    with transaction(store.engine) as s:
        town = s.scalar(select(Town).where(Town.code == store.town_code))
        firms = s.scalars(select(Enterprise).where(Enterprise.town_id == town.id).order_by(Enterprise.uscc).limit(6)).all()
        for ent, text in zip(firms, evil):
            ent.name = text
            s.execute(update(MuniResult).where(MuniResult.uscc == ent.uscc).values(name=text))
        plan = s.scalar(select(Plan).where(Plan.code == CLUSTERS))
        for task, text in zip(s.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.seq).limit(6)), evil):
            task.heading = text
        for ind, text in zip(s.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.id)), evil * 10):
            ind.name = text
        for t, text in zip(s.scalars(select(Town).order_by(Town.seq)), evil):
            t.name = text  # (a division code is 12 characters: PostgreSQL refuses the longer text)
        for node, text in zip(s.scalars(select(ChainNode).where(ChainNode.system == "4q8l").order_by(ChainNode.id)), evil):
            node.name = text
        county = s.scalar(select(Region).where(Region.code == "330482"))
        county.name = evil[0]
        run = s.scalar(select(MuniRun.id).order_by(MuniRun.id.desc()))
    yield store, run
    store.engine.dispose()
    drop()


def _injection_urls(run: int) -> list[str]:
    return ["/enterprises.{fmt}", f"/muni/runs/{run}/results.{{fmt}}", f"/targets/{CLUSTERS}/status.{{fmt}}",
            f"/targets/{CLUSTERS}/reconcile.{{fmt}}?year=2023", "/tasks.{fmt}", "/regions.{fmt}", "/towns.{fmt}",
            "/chains/4q8l/nodes.{fmt}", "/api/enterprises?format={fmt}", f"/api/muni/runs/{run}/results?format={{fmt}}",
            f"/api/targets/{CLUSTERS}/status?format={{fmt}}", f"/api/targets/{CLUSTERS}/reconcile?year=2023&format={{fmt}}"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_formula_like_text_comes_out_as_text(planted, fmt):
    store, run = planted
    c = client_for(store, "admin1")
    h = bearer(c, "admin1")
    seen: set[str] = set()
    for template in _injection_urls(run):
        url = template.format(fmt=fmt)
        r = c.get(url, headers=h if url.startswith("/api/") else {})
        assert_download(r, fmt)
        hits = set()
        if fmt == "xlsx":
            cells = xlsx_cells(r)
            assert all(kind != "f" for _v, kind in cells), url  # no formula anywhere
            for prefix, text in EVIL.items():
                kinds = {kind for v, kind in cells if v == text.replace("\r", "\n")}  # XML keeps LF for a CR
                assert kinds <= {"s"}, (url, prefix, kinds)
                if kinds:
                    hits.add(prefix)
        else:
            values = [v for row in read(r) for v in row]
            for prefix, text in EVIL.items():
                assert text not in values, (url, repr(prefix))  # never bare
                if "'" + text in values:
                    hits.add(prefix)
            for v in values:  # nothing else a spreadsheet would take for a formula, numbers apart
                if v.startswith(FORMULA_PREFIXES):
                    float(v)
        assert hits, f"no planted text in {url}"
        seen |= hits
    assert seen == set(FORMULA_PREFIXES)
    with session_factory(store.engine)() as s:  # the stored values are as typed
        assert set(EVIL.values()) <= set(s.scalars(select(Enterprise.name)))
        assert set(EVIL.values()) <= set(s.scalars(select(PlanTask.heading)))


# --------------------------------------------------------------------------- the kit itself


def test_the_kit_writes_labels_or_codes_and_a_safe_file_name():
    cols = [ExportColumn("status", "状态", labels={"green": "绿灯"}), ExportColumn("tax_wan", "税收（万元）")]
    assert cell(cols[0], {"status": "green"}) == "绿灯" and cell(cols[0], {"status": "green"}, "en") == "green"
    assert cell(cols[1], {"tax_wan": float("nan")}) is None and cell(cols[1], {"tax_wan": -3.5}) == -3.5
    r = download(cols, [{"status": "green", "tax_wan": -3.5}], "csv", name="x")
    assert r.body.decode("utf-8-sig").splitlines() == ["状态,税收（万元）", "绿灯,-3.5"]
    r = download(cols, [{"status": "=1+1", "tax_wan": 1}], "csv", "en", name="x", stamp=False)
    assert r.body.decode("utf-8-sig").splitlines() == ["status,tax_wan", "'=1+1,1"]
    assert r.headers["content-disposition"] == "attachment; filename=\"qunlian-x.csv\"; filename*=UTF-8''qunlian-x.csv"
    cd = content_disposition('当湖"街道;.xlsx')
    assert cd.startswith('attachment; filename="download.xlsx"; filename*=UTF-8\'\'%E5%BD%93')
    assert '"' not in cd.split("filename*=")[1] and ";" not in cd.split("filename*=")[1]
    with pytest.raises(ValueError):
        download(cols, [], "pdf", name="x")


def test_docs_list_every_export_url():
    text = (Path(__file__).parents[2] / "docs" / "web.md").read_text(encoding="utf-8")
    for url in ("/enterprises.xlsx", "/enterprises.csv", "/muni/runs/{id}/results.xlsx", "/targets/{plan}/status.xlsx",
                "/targets/{plan}/reconcile.xlsx", "/tasks.xlsx", "/regions.xlsx", "/towns.xlsx",
                "/chains/{system}/nodes.xlsx", "format=xlsx", "headers=en"):
        assert url in text, url
