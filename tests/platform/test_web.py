"""The web pages in-process over ASGI: login, sessions, CSRF, throttling, scoping, escaping, errors."""

from __future__ import annotations

import html
import json
import re
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from qunlian.platform.db import session_factory, transaction
from qunlian.accounts.models import User
from qunlian.platform.models import AuditLog
from web_helpers import EVIL_NAME, PASSWORD, VISIBLE, csrf_of, login, make_client, seed

SRC = Path(__file__).parents[2] / "src" / "qunlian"


def audit_actions(engine) -> list[tuple[str, str]]:
    with session_factory(engine)() as s:
        return [(a.actor, a.action) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_pages_need_login(client):
    for path in ("/", "/enterprises", "/towns", "/chains", "/enterprises.xlsx"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/healthz").json() == {"status": "ok"}
    hx = client.get("/enterprises", headers={"HX-Request": "true"}, follow_redirects=False)
    assert hx.status_code == 401 and hx.headers["HX-Redirect"] == "/login"


def test_login_sets_a_signed_httponly_lax_cookie_and_audits(client, web_store):
    r = login(client, "town1")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "qunlian_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    home = client.get("/")
    assert home.status_code == 200 and "镇街道 当湖街道" in home.text
    assert ("town1", "auth.login") in audit_actions(web_store.engine)
    # a tampered cookie is no session at all
    value = client.cookies.get("qunlian_session")
    client.cookies.set("qunlian_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_secure_cookie_over_https_or_when_configured(web_store):
    https = make_client(web_store.engine)
    https.base_url = "https://testserver"
    assert "Secure" in login(https, "town1").headers["set-cookie"]
    forced = make_client(web_store.engine, secure_cookies=True)
    page = forced.get("/login")
    assert "; Secure" in page.headers["set-cookie"]


def test_wrong_password_and_throttling(client, web_store):
    for _ in range(5):
        r = login(client, "town1", "wrong-password")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    blocked = login(client, "town1")  # even the right password, until the window passes
    assert blocked.status_code == 429 and "登录失败次数过多" in blocked.text and int(blocked.headers["Retry-After"]) > 0
    # the API shares the counter
    api = client.post("/api/token", json={"username": "town1", "password": PASSWORD})
    assert api.status_code == 429
    assert login(client, "chain1").status_code == 303  # other usernames are not affected
    actions = audit_actions(web_store.engine)
    assert actions.count(("town1", "auth.login_failed")) == 5 and ("town1", "auth.throttled") in actions


def test_success_resets_the_failure_count(client):
    for _ in range(4):
        login(client, "town1", "nope-nope")
    assert login(client, "town1").status_code == 303
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    for _ in range(4):
        assert login(client, "town1", "nope-nope").status_code == 401


def test_csrf_is_required_on_every_unsafe_request(client, web_store):
    client.get("/login")
    r = client.post("/login", data={"username": "town1", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    assert login(client, "town1").status_code == 303
    home = client.get("/").text
    token = csrf_of(home)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.post("/lang", data={"lang": "en"}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in
    # HTMX sends the token in a header (hx-headers on <body>)
    assert re.search(r"hx-headers='\{&#34;X-CSRF-Token&#34;: &#34;|hx-headers='\{\"X-CSRF-Token\": \"", home)
    r = client.post("/lang", data={"lang": "en", "next": "/"}, headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert ("town1", "auth.logout") in audit_actions(web_store.engine)


def test_login_redirects_only_to_local_paths(client):
    page = client.get("/login")
    data = {"username": "town1", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    r = client.post("/login", data={**data, "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"
    client.cookies.clear()
    page = client.get("/login?next=/towns")
    r = client.post("/login", data={**data, "csrf_token": csrf_of(page.text), "next": "/towns"}, follow_redirects=False)
    assert r.headers["location"] == "/towns"


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_sees_only_its_firms_on_every_page(web_store, role):
    client = make_client(web_store.engine)
    assert login(client, web_store.users[role]).status_code == 303
    visible = {web_store.uscc[k] for k in VISIBLE[role]}
    hidden = set(web_store.uscc.values()) - visible
    pages = [client.get(p).text for p in ("/", "/enterprises", "/enterprises?year=2022", "/towns", "/towns/danghu",
                                           "/towns/zhapu", "/towns/xindai", "/chains/4q8l", "/chains/1212")]
    for code in hidden:
        assert all(code not in html for html in pages)
        r = client.get(f"/enterprises/{code}")
        assert r.status_code == 404 and "未找到" in r.text
        searched = client.get(f"/enterprises?q={code}").text  # the query itself is echoed in the form
        assert f'data-uscc="{code}"' not in searched and 'data-testid="no-results"' in searched
    listing = client.get("/enterprises").text
    for code in visible:
        assert code in listing
        assert client.get(f"/enterprises/{code}").status_code == 200
    wb = load_workbook(BytesIO(client.get("/enterprises.xlsx").content))
    exported = {row[0] for row in wb.active.iter_rows(min_row=2, values_only=True)}
    assert exported == visible


def test_figures_on_pages_equal_the_store(client, web_store):
    login(client, "admin1")
    e1 = web_store.uscc["e1"]
    listing = client.get("/enterprises?sort=tax&desc=true").text
    row = re.search(rf'<tr data-uscc="{e1}">(.*?)</tr>', listing, re.S).group(1)
    assert 'data-col="land_mu">50.00<' in row and 'data-col="tax_wan">750.00<' in row
    assert 'data-col="output_wan">15,000.00<' in row and 'data-col="tax_per_mu">15.00<' in row
    profile = client.get(f"/enterprises/{e1}").text
    assert "3976 光电子器件制造" in profile  # GB/T 4754 name
    assert "新一代信息技术 › 光电通信 › 光器件" in profile
    assert "平湖经济技术开发区" in profile
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]+)"', profile).group(1)))
    assert chart["xAxis"]["data"] == ["2022", "2023"]
    assert chart["series"][0]["data"] == [200.0, 300.0]  # output per mu: 10000/50, 15000/50 万元/亩
    assert chart["series"][1]["data"] == [12.0, 15.0]  # tax per mu: 600/50, 750/50
    town = client.get("/towns/danghu").text
    agg = re.search(r'<tr data-year="2023">(.*?)</tr>', town, re.S).group(1)
    assert 'data-col="land_mu">70.00<' in agg and 'data-col="tax_wan">840.00<' in agg
    home = client.get("/").text
    assert re.search(r'<tr data-year="2022"><td>2022</td><td class="num">2</td><td class="num">1</td>', home)
    tree = client.get("/chains/4q8l").text
    optical = re.search(r'<tr data-node="optical".*?</tr>', tree, re.S).group(0)
    assert 'data-col="firms">2<' in optical and 'data-col="matched">2<' in optical


def test_html_in_names_is_escaped(client, web_store):
    login(client, "admin1")
    for path in ("/enterprises", f"/enterprises/{web_store.uscc['e4']}", "/towns/zhapu", "/enterprises?q=<script>"):
        page = client.get(path).text
        assert "<script>alert" not in page
    page = client.get(f"/enterprises/{web_store.uscc['e4']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;精密&amp;机械有限公司" in page
    assert EVIL_NAME not in page


def test_tampered_ids_give_a_friendly_404_and_bad_params_a_400(client):
    login(client, "admin1")
    for path in ("/enterprises/%3Cscript%3E", "/enterprises/91330482MA2B999X00", "/enterprises/" + "9" * 300,
                 "/towns/nowhere", "/towns/%27%20OR%201=1", "/chains/none", "/no/such/page"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "未找到" in r.text and "Traceback" not in r.text and 'data-testid="error-page"' in r.text
    for path in ("/enterprises?page=abc", "/enterprises?year=x", "/enterprises?page=0", "/enterprises?scale=huge"):
        r = client.get(path)
        assert r.status_code == 400 and "请求有误" in r.text, path
    assert client.get("/enterprises?sort=drop+table").status_code == 200  # unknown sort falls back to name


def test_unexpected_errors_show_a_friendly_page(web_store, monkeypatch):
    from qunlian.overview import web as home

    def boom(*_a, **_k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(home, "home_figures", boom)
    client = make_client(web_store.engine)
    login(client, "admin1")
    r = client.get("/")
    assert r.status_code == 500 and "系统错误" in r.text and "secret internals" not in r.text


def test_htmx_partial_and_sorting(client, web_store):
    login(client, "analyst1")
    part = client.get("/enterprises?sort=tax_per_mu&desc=true", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in part.text and 'data-testid="enterprise-table"' in part.text
    order = re.findall(r'<tr data-uscc="([^"]+)">', part.text)
    assert order[0] == web_store.uscc["e1"] and order[-1] == web_store.uscc["e5"]
    asc = re.findall(r'<tr data-uscc="([^"]+)">', client.get("/enterprises?sort=tax_per_mu").text)
    assert asc[0] == web_store.uscc["e4"]  # 10 / 12.5 = 0.8 万元/亩


def test_export_is_filtered_and_audited(client, web_store):
    login(client, "analyst1")
    r = client.get("/enterprises.xlsx?town=danghu&year=2022&scale=above")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("统一社会信用代码", "企业名称", "镇街道") and rows[0][-1] == "亩均税收（万元/亩）"
    assert [r[0] for r in rows[1:]] == [web_store.uscc["e1"]]
    assert rows[1][4:9] == (2022, True, 50.0, 10000.0, 600.0)
    assert ("analyst1", "enterprises.export") in audit_actions(web_store.engine)


def test_navigation_lists_only_existing_pages_for_the_role(web_store):
    admin, dept = make_client(web_store.engine), make_client(web_store.engine)
    login(admin, "admin1")
    login(dept, "dept1")
    nav = re.search(r'<nav class="nav".*?</nav>', admin.get("/").text, re.S).group(0)
    hrefs = re.findall(r'href="([^"]+)"', nav)
    assert hrefs == ["/", "/enterprises", "/regions", "/towns", "/chains", "/targets", "/tasks", "/muni", "/imports", "/users", "/audit", "/api/docs"]
    for href in hrefs:
        assert admin.get(href).status_code == 200, href
    nav = re.search(r'<nav class="nav".*?</nav>', dept.get("/").text, re.S).group(0)
    assert "/enterprises" not in nav and "/users" not in nav
    assert dept.get("/users").status_code == 403


def test_language_switch(client):
    login(client, "admin1")
    token = csrf_of(client.get("/").text)
    r = client.post("/lang", data={"lang": "en", "next": "/towns", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/towns" and "lang=en" in r.headers["set-cookie"]
    page = client.get("/towns").text
    assert '<html lang="en">' in page and ">Enterprises<" in page and "Schematic" in page
    client.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": token})
    assert '<html lang="zh-CN">' in client.get("/").text


def test_users_page_adds_and_disables_with_immediate_effect(web_store):
    admin, town = make_client(web_store.engine), make_client(web_store.engine)
    login(admin, "admin1")
    login(town, "town1")
    token = csrf_of(admin.get("/users").text)
    bad = admin.post("/users", data={"username": "zz-user", "password": "long-enough-1", "role": "town",
                                     "csrf_token": token})
    assert bad.status_code == 400 and "需要范围参数 --town" in bad.text
    ok = admin.post("/users", data={"username": "zz-user", "password": "long-enough-1", "role": "town",
                                    "town": "xindai", "csrf_token": token})
    assert ok.status_code == 200 and "+ zz-user" in ok.text and "镇街道 新埭镇" in ok.text
    assert admin.post("/users/town1/disable", data={"csrf_token": token}).status_code == 200
    assert town.get("/", follow_redirects=False).status_code == 303  # the disabled user's session is gone
    actions = audit_actions(web_store.engine)
    assert ("admin1", "user.add") in actions and ("admin1", "user.disable") in actions


def test_security_headers_and_local_assets(client):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    srcs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert srcs and all(s.startswith("/") for s in srcs)
    assert "http://" not in r.text and "https://" not in r.text
    docs = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_a_newcomer_sees_what_to_run(engine):
    client = make_client(engine)
    assert 'data-testid="no-users"' in client.get("/login").text
    with transaction(engine) as s:
        from qunlian.accounts.service import add_user

        add_user(s, username="admin", password="long-enough-1", role="admin")
    assert 'data-testid="no-users"' not in client.get("/login").text
    login(client, "admin", "long-enough-1")
    for path in ("/", "/enterprises", "/towns", "/chains"):
        assert client.get(path).status_code == 200, path
    home = client.get("/").text
    assert 'data-testid="empty-store"' in home and "qunlian init" in home and "qunlian demo" in home


def test_partly_loaded_store(engine):
    seeded = seed(engine)
    with transaction(engine) as s:
        from qunlian.enterprises.models import EnterpriseYear

        s.query(EnterpriseYear).delete()
    client = make_client(engine)
    login(client, seeded.users["admin"])
    home = client.get("/").text
    assert "范围内还没有企业年度数据" in home and 'data-testid="plans"' in home
    assert client.get("/enterprises").status_code == 200
    assert client.get(f"/enterprises/{seeded.uscc['e1']}").status_code == 200
    with session_factory(engine)() as s:
        assert s.scalars(select(User)).first() is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/towns?x=1", "/towns?x=1"), ("//evil.example", "/"), ("/\t/evil.example", "/"), ("/\\evil", "/"),
     ("https://evil.example/", "/"), ("javascript:alert(1)", "/"), ("", "/"), (None, "/")],
)
def test_safe_next(value, expected):
    from qunlian.accounts.web import safe_next

    assert safe_next(value) == expected


def test_profile_shows_the_ownership_in_words(client, web_store):
    from qunlian.enterprises.models import Enterprise

    with transaction(web_store.engine) as s:
        s.scalars(select(Enterprise).where(Enterprise.uscc == web_store.uscc["e1"])).one().ownership = "foreign"
    login(client, "analyst1")
    page = client.get(f"/enterprises/{web_store.uscc['e1']}").text
    assert "<dd>外商投资</dd>" in page
    token = csrf_of(page)
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert "<dd>foreign-invested</dd>" in client.get(f"/enterprises/{web_store.uscc['e1']}").text
