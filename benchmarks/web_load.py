"""Load benchmark of the web platform on loopback: p50/p95 latency and throughput.

Starts `qunlian serve` on a free 127.0.0.1 port against a store holding the demo county (built in a
temporary data directory unless --data-dir names one), logs in, then runs N concurrent simulated
users for a bounded time and a bounded number of requests per target. Every target is compared with
/healthz measured in the same run under the same concurrency (the baseline: the server's own
floor). Goal of issue 5: p95 under 300 ms at 20 concurrent users.

    .venv/bin/python benchmarks/web_load.py [--users 20] [--seconds 15] [--workers 2] [--data-dir DIR]
        [--database-url URL] [--scale 113] [--role town] [--all-routes] [--only TEXT]

`--all-routes` adds every other GET page and API route the app serves (enumerated from the app, so a
new route is measured without editing this file; file downloads excepted), each with the first path
values that answer 200 for the role. `--scale 113` builds a province-sized store (≈ 500,000 firms, 6
years, 5 亩均 runs); build it once into `--data-dir`/`--database-url` and reuse it.

Traffic goes only to 127.0.0.1. The loops stop by themselves (time and count bounds).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUNLIAN = str(ROOT / ".venv" / "bin" / "qunlian")

# (label, path, kind): kind "page" uses the login session, "api" the bearer token.
TARGETS = [
    ("baseline /healthz", "/healthz", "page"),
    ("驾驶舱 /", "/", "page"),
    ("企业列表 /enterprises", "/enterprises", "page"),
    ("企业搜索 /enterprises?q=平湖", "/enterprises?q=%E5%B9%B3%E6%B9%96", "page"),
    ("企业画像 /enterprises/{uscc}", "/enterprises/{uscc}", "page"),
    # the profile's levers table, fetched by HTMX when it scrolls into view (not part of the page)
    ("亩均杠杆 /enterprises/{uscc}/muni-levers", "/enterprises/{uscc}/muni-levers", "page"),
    ("镇街道 /towns", "/towns", "page"),
    ("产业链 /chains/4q8l", "/chains/4q8l", "page"),
    ("规划目标 /targets/pinghu-mfg-14th", "/targets/pinghu-mfg-14th", "page"),
    ("亩均评价 /muni", "/muni", "page"),
    ("API /api/enterprises", "/api/enterprises?page_size=50", "api"),
    ("API /api/enterprises/{uscc}", "/api/enterprises/{uscc}", "api"),
    ("API /api/targets/pinghu-mfg-14th/status", "/api/targets/pinghu-mfg-14th/status", "api"),
    ("API /api/muni/runs", "/api/muni/runs", "api"),
    # varied requests: every request a different firm or list query, so most miss the page caches
    ("企业画像 varied firms", "/enterprises/{each_uscc}", "page"),
    ("亩均杠杆 varied firms", "/enterprises/{each_uscc}/muni-levers", "page"),
    ("企业列表 varied page/sort/filter", "{each_list}", "page"),
    ("API /api/enterprises/{uscc} varied", "/api/enterprises/{each_uscc}", "api"),
]
LIST_SORTS = ("name", "tax", "output", "tax_per_mu", "land", "uscc")
LIST_FILTERS = ("", "&scale=above", "&scale=below", "&grade=A", "&grade=D", "&q=%E7%A7%91%E6%8A%80")


def expand(path: str, usccs: list[str]) -> list[str]:
    """The concrete URLs of a target: one, or (for {each_…}) a list that the users go through in turn."""
    if "{each_uscc}" in path:
        return [path.replace("{each_uscc}", u) for u in usccs]
    if path == "{each_list}":
        return [f"/enterprises?sort={sort}&desc={int(desc)}&page={page}{flt}"
                for sort in LIST_SORTS for desc in (False, True) for flt in LIST_FILTERS for page in (1, 2, 3, 5, 8)]
    return [path.replace("{uscc}", usccs[0] if usccs else "")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def prepare_store(env: dict[str, str], role: str, scale: float) -> tuple[str, str]:
    """Build the demo county (unless the store holds one) and return the login of ``role``."""
    run([QUNLIAN, "init"], env)
    output = run([QUNLIAN, "demo", "--if-empty", "--scale", f"{scale:g}"], env)
    if f"demo-{role}" not in output:
        output = run([QUNLIAN, "users", "demo"], env)
    m = re.search(rf"^{re.escape(role)}\s+(demo-{re.escape(role)})\s+(\S+)", output, re.M)
    if not m:
        sys.exit(f"no {role} login in the demo output:\n{output}")
    return m.group(1), m.group(2)


DOWNLOAD = re.compile(r"\.(csv|xlsx|pdf|docx)$|/evidence/")
PLANS = ("pinghu-mfg-14th", "pinghu-clusters-2023-2027")


def route_paths(env: dict[str, str], usccs: list[str]) -> list[tuple[str, list[str]]]:
    """Every GET route the app serves but the downloads: (route, candidate URLs with its path values
    filled in from the store; the caller keeps the first that answers 200 for its role)."""
    os.environ.update(env)
    from sqlalchemy import text

    from qunlian.app import create_app, served_routes
    from qunlian.platform.db import make_engine

    engine = make_engine()
    with engine.connect() as conn:
        rows = lambda sql, **kw: [r[0] for r in conn.execute(text(sql), kw)]  # noqa: E731
        values = {
            "uscc": usccs[:3], "system": ["4q8l", "1212"], "plan_code": list(PLANS),
            "run_id": [str(i) for i in rows("SELECT id FROM muni_runs ORDER BY id DESC LIMIT 2")],
            "towns": rows("SELECT code FROM towns ORDER BY seq"),
            "regions": rows("SELECT code FROM regions ORDER BY id"),
            "indicators": rows("SELECT i.code FROM indicators i JOIN plans p ON p.id = i.plan_id "
                               "WHERE p.code = :p ORDER BY i.id LIMIT 3", p=PLANS[0]),
        }
        app = create_app(engine)
        out = []
        for route in served_routes(app):
            path = route.mounted
            if "GET" not in route.methods or DOWNLOAD.search(path) or path.startswith("/static"):
                continue
            urls = [path]
            required = [q.name for q in route.dependant.query_params if q.field_info.is_required()]
            if required:  # e.g. the reconcile API's year: the plan years, newest first
                years = [str(y) for y in rows("SELECT DISTINCT year FROM targets ORDER BY year DESC LIMIT 5")]
                urls = [f"{path}?" + "&".join(f"{q}={y}" for q in required) for y in years]
            for name in re.findall(r"{(\w+)}", path):
                key = {"code": "towns" if path.startswith("/towns") else "regions" if path.startswith("/regions")
                       else "indicators"}.get(name, name)
                urls = [u.replace("{" + name + "}", v, 1) for u in urls for v in values.get(key, [])]
            out.append((path, urls))
    engine.dispose()
    return out


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"csrf_token": csrf, "username": username, "password": password, "next": "/"})
    if r.status_code not in (200, 303):
        sys.exit(f"login failed: {r.status_code}")
    token = await client.post("/api/token", json={"username": username, "password": password})
    return token.json()["access_token"]


async def measure(base: str, paths: list[str], kind: str, cookies, token: str, users: int, seconds: float,
                  max_requests: int) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"} if kind == "api" else {}
    turn = itertools.count()

    async def user() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, cookies=cookies, headers=headers, timeout=30) as c:
            while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
                path = paths[next(turn) % len(paths)]
                t0 = time.perf_counter()
                r = await c.get(path)
                dt = time.perf_counter() - t0
                if r.status_code == 200:
                    latencies.append(dt)
                else:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(users)))
    wall = time.perf_counter() - t0
    if not latencies:
        return {"n": 0, "errors": errors}
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"n": len(latencies), "errors": errors, "p50": q[49] * 1000, "p95": q[94] * 1000,
            "rps": len(latencies) / wall}


async def main_async(args: argparse.Namespace, base: str, username: str, password: str) -> list[tuple[str, dict]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        token = await login(c, username, password)
        cookies = c.cookies
        listing = await c.get(f"/api/enterprises?page_size={args.firms}&sort=uscc",
                              headers={"Authorization": f"Bearer {token}"})
        items = listing.json().get("items") or listing.json().get("enterprises") or []
        usccs = [i["uscc"] for i in items]
        random.Random(7).shuffle(usccs)  # not in USCC order: neighbours share nothing
    targets = list(TARGETS)
    if args.all_routes:
        targets += await probe_routes(base, cookies, token, route_paths(args.env, usccs), targets)
    if args.only:
        targets = [targets[0], *(t for t in targets[1:] if args.only in t[0])]
    results = []
    for label, path, kind in targets:
        res = await measure(base, expand(path, usccs), kind, cookies, token, args.users, args.seconds,
                            args.max_requests)
        results.append((label, res))
        print(_row(label, res, results[0][1]), flush=True)
    return results


async def probe_routes(base: str, cookies, token: str, routes: list[tuple[str, list[str]]],
                       targets: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One target per route that the fixed targets leave out, at the first URL answering 200."""
    covered = {re.sub(r"\?.*", "", path) for _label, path, _kind in targets}
    out = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as c:
        for route, urls in routes:
            if route in covered:
                continue
            kind = "api" if route.startswith("/api/") else "page"
            for url in urls:
                r = await c.get(url, headers=headers if kind == "api" else None)
                if r.status_code == 200:
                    out.append((f"route {route}", url, kind))
                    break
            else:
                print(f"# route {route}: no URL answers 200 for this role ({len(urls)} tried), not measured")
    return out


def _row(label: str, r: dict, base: dict) -> str:
    if not r.get("n"):
        return f"{label:<44} no successful request ({r.get('errors', 0)} errors: page missing or refused)"
    ratio = r["p95"] / base["p95"] if base.get("p95") else float("nan")
    verdict = "ok" if r["p95"] < 300 else "SLOW"
    return (f"{label:<44} n={r['n']:>5} err={r['errors']:>3} p50={r['p50']:7.1f} ms  p95={r['p95']:7.1f} ms  "
            f"{r['rps']:7.1f} req/s  p95/baseline={ratio:6.1f}  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15.0, help="per target")
    ap.add_argument("--max-requests", type=int, default=5000, help="per target")
    ap.add_argument("--data-dir", help="use this data directory (default: a new temporary one)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--firms", type=int, default=400, help="firms the 'varied' targets go through (≤ 500)")
    ap.add_argument("--database-url", help="the store (default: SQLite in the data directory)")
    ap.add_argument("--scale", type=float, default=1.0, help="demo county size for a new store (113: ≈ 500,000 firms)")
    ap.add_argument("--role", default="analyst", help="the demo login the users sign in with (analyst, town, chain …)")
    ap.add_argument("--all-routes", action="store_true", help="also every other GET page and API route (not downloads)")
    ap.add_argument("--only", help="only the targets whose label contains this text (and the baseline)")
    args = ap.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="qunlian-bench-")
    env = {**os.environ, "QUNLIAN_DATA_DIR": data_dir}
    if args.database_url:
        env["QUNLIAN_DATABASE_URL"] = args.database_url
    elif not args.data_dir:
        env.pop("QUNLIAN_DATABASE_URL", None)
    args.env = env
    username, password = prepare_store(env, args.role, args.scale)
    port = free_port()
    server = subprocess.Popen([QUNLIAN, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        store = "PostgreSQL" if env.get("QUNLIAN_DATABASE_URL", "").startswith("postgresql") else "SQLite"
        print(f"# {args.users} concurrent users, {args.seconds:g} s per target, {args.workers} uvicorn worker(s), "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, {store}, role {args.role}")
        asyncio.run(main_async(args, base, username, password))
        print(f"# load at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
