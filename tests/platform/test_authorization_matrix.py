"""The authorization matrix (issue #12 item 9): every route the app registers — enumerated from the app,
so a new route is covered without editing this test — × every role, anonymous and a department user
holding a grant, with in-scope and
out-of-scope ids. It fails on any server error, any out-of-scope firm answered 200, any route a role
lacks the permission for answered other than 403, and any write that changed the store for a role
that may not write. The JSON API is called with bearer tokens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, inspect, select, table
from web_helpers import PASSWORD, VISIBLE, app_routes, csrf_of, login, make_client

from qunlian.platform.permissions import Principal, can

PUBLIC = {"/login", "/healthz", "/api/docs", "/api/token", "/lang"}
ROLES = sorted(VISIBLE)
# a department user holding a read-only grant on one town (当湖街道): sees that town's firms
GRANTED = "granted"
SEES = {**VISIBLE, GRANTED: {"e1", "e2"}}


def required_actions(route) -> set[str]:
    """The named permissions a route's dependencies demand (``require(action)``)."""
    found: set[str] = set()

    def walk(dependant) -> None:
        for sub in dependant.dependencies:
            call = sub.call
            if getattr(call, "__qualname__", "").startswith("require.<locals>") and call.__closure__:
                found.add(call.__closure__[0].cell_contents)
            walk(sub)

    walk(route.dependant)
    return found


def urls(path: str, store, role: str | None) -> list[tuple[str, bool]]:
    """(url, in_scope) for a route path: each id once in the role's scope and once outside it."""
    visible = sorted(store.uscc[k] for k in SEES.get(role, set())) if role else []
    hidden = sorted(set(store.uscc.values()) - set(visible))
    values = {"code": ["danghu"], "system": ["4q8l"], "plan_code": ["pinghu-mfg-test"], "run_id": ["1"],
              "seq": ["1"], "evidence_id": ["1"], "key": ["tax"], "sha256": ["0" * 64], "username": ["town1"],
              "grant_id": ["1"]}
    if "{uscc}" in path:
        out = [(path.replace("{uscc}", u), True) for u in visible[:1]]
        return out + [(path.replace("{uscc}", u), False) for u in hidden[:1]]
    url = path
    for name, (value, *_rest) in values.items():
        url = url.replace("{" + name + "}", value)
    if "/indicators/{code}" in path:
        url = path.replace("{plan_code}", "pinghu-mfg-test").replace("{code}", "i1")
    assert "{" not in url, f"no test value for a parameter of {path}: add it to urls()"
    return [(url, True)]


def store_counts(engine) -> dict[str, int]:
    names = [n for n in inspect(engine).get_table_names() if n not in ("audit_log", "login_failures")]
    with engine.connect() as conn:
        return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in names}


def _username(store, role: str) -> str:
    if role != GRANTED:
        return store.users[role]
    from qunlian.accounts.grants import grant_access
    from qunlian.platform.db import transaction

    with transaction(store.engine) as s:
        grant_access(s, username=store.users["department"], scope="town", town="danghu", reason="矩阵测试")
    return store.users["department"]


def _client(store, role: str | None):
    c = make_client(store.engine)
    token = None
    if role:
        login(c, _username(store, role))
        token = csrf_of(c.get("/login").text if role is None else c.get("/").text)
    return c, token


def _api_token(c, username: str) -> str:
    r = c.post("/api/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _principal(store, role: str | None) -> Principal | None:
    if role is None:
        return None
    if role != GRANTED:
        return Principal(id=0, username="x", role=role)
    from qunlian.regions.models import Town

    with store.engine.connect() as conn:
        town = conn.scalar(select(Town.id).where(Town.code == "danghu"))
    return Principal(id=0, username="x", role="department", grants=(("town", town),))


@pytest.mark.parametrize("role", [None, *ROLES, GRANTED])
def test_every_route_for_every_role(web_store, role):
    app_client, csrf = _client(web_store, role)
    routes = app_routes(app_client.app)
    assert len(routes) > 50
    user = web_store.users["department" if role == GRANTED else role] if role else None
    bearer = {"Authorization": f"Bearer {_api_token(app_client, user)}"} if role else {}
    principal = _principal(web_store, role)
    before = store_counts(web_store.engine)
    failures = []
    made = 0
    for route in routes:
        path = route.mounted
        if path.startswith("/api/docs") or path in ("/login", "/logout", "/lang", "/api/token"):
            continue
        actions = required_actions(route)
        allowed = principal is not None and all(can(principal, a) for a in actions)
        for method in sorted(route.methods - {"HEAD"}):
            for url, in_scope in urls(path, web_store, role):
                headers = bearer if path.startswith("/api/") else {}
                if method == "GET":
                    r = app_client.get(url, headers=headers, follow_redirects=False)
                else:
                    r = app_client.post(url, data={"csrf_token": csrf or ""}, headers=headers, follow_redirects=False)
                made += 1
                where = f"{role or 'anonymous'} {method} {url} → {r.status_code}"
                if r.status_code >= 500:
                    failures.append(f"server error: {where}")
                elif role is None and path not in PUBLIC and r.status_code not in (303, 401, 403):
                    # pages send to the login (303), the API asks for a token (401), a POST without a
                    # session has no CSRF token to match (403)
                    failures.append(f"anonymous not sent to login: {where}")
                elif role is not None and actions and not allowed and r.status_code != 403:
                    failures.append(f"missing permission {sorted(actions)} not refused: {where}")
                elif role is not None and not in_scope and r.status_code == 200:
                    failures.append(f"out-of-scope firm answered: {where}")
    assert failures == []
    if role == GRANTED:  # the grant is in force: its town's firms read, read-only
        assert app_client.get(f"/enterprises/{web_store.uscc['e1']}").status_code == 200
    assert made >= 45  # every route was called (an empty walk would pass vacuously)
    after = store_counts(web_store.engine)
    if role in (None, "department", "enterprise", "chain", GRANTED):  # roles that write none of the data posted above
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k] and k != "sessions"}
        assert changed == {}, changed


def test_the_matrix_sees_every_capability(web_store):
    c, _ = _client(web_store, "admin")
    paths = {r.mounted for r in app_routes(c.app)}
    for prefix in ("/enterprises", "/imports", "/muni", "/targets", "/tasks", "/regions", "/towns", "/chains", "/users"):
        assert any(p.startswith(prefix) for p in paths), prefix
    assert {"imports.run", "users.manage", "targets.read"} <= {a for r in app_routes(c.app) for a in required_actions(r)}
    assert re.match(r"^/", next(iter(paths)))


HUGE = "99999999999999999999"  # beyond a 64-bit id: OverflowError in the SQLite driver before the bound


def test_ids_beyond_the_store_range_answer_404_not_500(web_store):
    """Issue #12 item 6: every route with an id, given one that no store can hold."""
    c, csrf = _client(web_store, "admin")
    bearer = {"Authorization": f"Bearer {_api_token(c, web_store.users['admin'])}"}
    tried = 0
    for route in app_routes(c.app):
        names = set(re.findall(r"{(\w+)}", route.mounted)) & {"run_id", "seq", "evidence_id", "grant_id"}
        if not names:
            continue
        url = route.mounted.replace("{plan_code}", "pinghu-mfg-test")
        for name in names:
            url = url.replace("{" + name + "}", HUGE)
        for method in route.methods - {"HEAD"}:
            headers = bearer if url.startswith("/api/") else {}
            r = (c.get(url, headers=headers) if method == "GET"
                 else c.post(url, data={"csrf_token": csrf}, headers=headers))
            tried += 1
            assert r.status_code == 404, (method, url, r.status_code)
    assert tried >= 10
    firm = web_store.uscc["e1"]
    assert c.get(f"/enterprises/{firm}/muni-levers", params={"run": HUGE}).status_code in (400, 422)
    assert c.post(f"/muni/simulate/{firm}", data={"csrf_token": csrf, "run": HUGE}).status_code == 404
