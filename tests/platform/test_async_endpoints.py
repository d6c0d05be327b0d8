"""Issue #12 items 1 and 7. No blocking work on the event loop: an `async def` endpoint may await (the request body, a thread
pool), but never call the store, an importer or other domain code directly — one slow request would
stall every other user (issue #12: a 150,000-row preview made /healthz take 13 s)."""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from qunlian.app import create_app

# awaited helpers that hand the work elsewhere, and plain Python an endpoint may call inline
ALLOWED_CALLS = {"run_in_threadpool", "len", "str", "int", "dict", "isinstance"}


def _async_endpoints(app) -> list[APIRoute]:
    from web_helpers import app_routes

    routes = app_routes(app)
    assert len(routes) > 50  # every capability's routes, not only the app's own
    return [r for r in routes if inspect.iscoroutinefunction(r.endpoint)]


def blocking_calls(fn) -> list[str]:
    """Calls in ``fn``'s body that are neither awaited nor plain builtins (what the thread pool must run)."""
    func = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    tree = ast.Module(body=func.body, type_ignores=[])  # the body: not the decorator nor the Depends defaults
    awaited = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Await)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in awaited:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "?")
        if name in ALLOWED_CALLS or (isinstance(node.func, ast.Name) and hasattr(builtins, name)):
            continue
        if any(id(node) in {id(a) for a in ast.walk(parent)} for parent in ast.walk(tree)
               if isinstance(parent, ast.Call) and id(parent) in awaited):
            continue  # an argument of an awaited call (evaluated inline, but only to pass along)
        found.append(name)
    return found


@pytest.mark.own_sqlite  # a SQLite file of its own on purpose, not the store under test
def test_async_endpoints_do_no_blocking_work(tmp_path):
    app = _app(tmp_path)
    offenders = []
    endpoints = _async_endpoints(app)
    assert "/muni/simulate/{uscc}" in {r.mounted for r in endpoints}  # async for its form, checked below
    for route in endpoints:
        params = inspect.signature(route.endpoint).parameters.values()
        if any(p.annotation in (Session, "Session") for p in params):
            offenders.append(f"{route.mounted}: takes a store session")
        calls = [c for c in blocking_calls(route.endpoint) if c not in ("HTTPException",)]
        if calls:
            offenders.append(f"{route.mounted}: calls {', '.join(calls)} on the event loop")
    assert offenders == []


def test_the_check_would_catch_a_blocking_endpoint():
    async def bad(request, db):
        rows = db.execute("select 1")  # a store call on the event loop
        return rows

    async def good(request):
        form = await request.form()
        return await run_in_threadpool(str, form)  # noqa: F821 - only parsed

    assert blocking_calls(bad) == ["execute"] and blocking_calls(good) == []


def _app(tmp_path):
    from qunlian.platform.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    migrate(engine)
    return create_app(engine=engine)


def test_firm_data_is_never_cached_but_static_assets_may_be(web_store):
    from web_helpers import login, make_client

    c = make_client(web_store.engine)
    login(c, web_store.users["admin"])
    firm = web_store.uscc["e1"]
    for path in ("/", f"/enterprises/{firm}", "/enterprises.xlsx", "/imports"):
        r = c.get(path)
        assert r.status_code == 200 and "no-store" in r.headers.get("cache-control", ""), path
    assert "no-store" in c.get("/api/enterprises").headers.get("cache-control", "")  # 401 without a token
    css = c.get("/static/css/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("cache-control", "")
