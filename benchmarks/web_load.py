"""Load benchmark of the web platform on loopback: p50/p95 latency and throughput.

Starts `qunlian serve` on a free 127.0.0.1 port against a store holding the demo county (built in a
temporary data directory unless --data-dir names one), logs in, then runs N concurrent simulated
users for a bounded time and a bounded number of requests per target. Every target is compared with
/healthz measured in the same run under the same concurrency (the baseline: the server's own
floor). Goal of issue 5: p95 under 300 ms at 20 concurrent users.

    .venv/bin/python benchmarks/web_load.py [--users 20] [--seconds 15] [--workers 2] [--data-dir DIR]

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


def prepare_store(env: dict[str, str]) -> tuple[str, str]:
    """Build the demo county and return the analyst's login."""
    run([QUNLIAN, "init"], env)
    output = run([QUNLIAN, "demo", "--if-empty"], env)
    if "demo-analyst" not in output:
        output = run([QUNLIAN, "users", "demo"], env)
    m = re.search(r"^analyst\s+(demo-analyst)\s+(\S+)", output, re.M)
    if not m:
        sys.exit(f"no analyst login in the demo output:\n{output}")
    return m.group(1), m.group(2)


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
    results = []
    for label, path, kind in TARGETS:
        res = await measure(base, expand(path, usccs), kind, cookies, token, args.users, args.seconds,
                            args.max_requests)
        results.append((label, res))
        print(_row(label, res, results[0][1]), flush=True)
    return results


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
    args = ap.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="qunlian-bench-")
    env = {**os.environ, "QUNLIAN_DATA_DIR": data_dir}
    env.pop("QUNLIAN_DATABASE_URL", None) if not args.data_dir else None
    username, password = prepare_store(env)
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
        print(f"# {args.users} concurrent users, {args.seconds:g} s per target, {args.workers} uvicorn worker(s), "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        asyncio.run(main_async(args, base, username, password))
        print(f"# load at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
