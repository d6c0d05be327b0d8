"""Server time per request, one request at a time (no concurrency): steadier than the load run.

Uses FastAPI's TestClient in-process against a store holding the demo county (the data directory
that `benchmarks/web_load.py --data-dir DIR` uses, or a new one), so what is measured is the app's
own work: routing, queries, computation and rendering, without the network or the event loop's
queueing. For each target and role: a warm-up request, then N sequential requests; prints the
median and the 90th percentile in ms. `--cold` empties the page caches (qunlian.platform.cache) before
every request: the cost of the first view after a write. `--profile LABEL` prints a cProfile instead.

    .venv/bin/python benchmarks/web_server_time.py --data-dir /tmp/qlbench [--n 20] [--roles analyst,town]
    .venv/bin/python benchmarks/web_server_time.py --data-dir /tmp/qlbench --cold
    .venv/bin/python benchmarks/web_server_time.py --data-dir /tmp/qlpg --database-url postgresql+psycopg://…
    .venv/bin/python benchmarks/web_server_time.py --data-dir /tmp/qlbench --profile 驾驶舱 --roles analyst
    .venv/bin/python benchmarks/web_server_time.py --data-dir /tmp/qlbench --path /regions --path /tasks
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUNLIAN = str(ROOT / ".venv" / "bin" / "qunlian")
PASSWORD = "bench-password-20261122"

sys.path.insert(0, str(ROOT / "benchmarks"))
from web_load import TARGETS  # noqa: E402  (the same targets as the load run)



def prepare(data_dir: str, database_url: str | None) -> None:
    env = {**os.environ, "QUNLIAN_DATA_DIR": data_dir}
    env.pop("QUNLIAN_DATABASE_URL", None)
    if database_url:
        env["QUNLIAN_DATABASE_URL"] = database_url
    subprocess.run([QUNLIAN, "init"], env=env, check=True, capture_output=True)
    subprocess.run([QUNLIAN, "demo", "--if-empty"], env=env, check=True, capture_output=True)
    subprocess.run([QUNLIAN, "users", "demo", "--password", PASSWORD], env=env, check=True, capture_output=True)


def client_for(role: str):
    from fastapi.testclient import TestClient

    from qunlian.app import create_app
    from qunlian.platform.web.settings import WebSettings

    c = TestClient(create_app(settings=WebSettings(secret_key="bench-secret")), raise_server_exceptions=True)
    page = c.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"csrf_token": csrf, "username": f"demo-{role}", "password": PASSWORD, "next": "/"},
               follow_redirects=False)
    assert r.status_code == 303, r.status_code
    tok = c.post("/api/token", json={"username": f"demo-{role}", "password": PASSWORD}).json()["access_token"]
    return c, {"Authorization": f"Bearer {tok}"}


def clear_page_caches() -> None:
    """Empty the caches of computed page figures (the first view after a write recomputes them)."""
    from qunlian.platform import cache

    for fc in cache.FigureCache.instances():
        fc.clear()
    with cache._CONTEXTS_LOCK:
        cache._CONTEXTS.clear()


def first_uscc(c, headers) -> str:
    items = c.get("/api/enterprises?page_size=1", headers=headers).json().get("items") or []
    return items[0]["uscc"] if items else ""


def profile(c, url: str, headers: dict[str, str], n: int) -> None:
    """cProfile n requests with the sync endpoints run inline (the TestClient and FastAPI otherwise run
    them on other threads, which cProfile does not follow)."""
    import asyncio

    import fastapi.dependencies.utils
    import fastapi.routing
    import httpx

    async def inline(func, *a, **kw):
        return func(*a, **kw)

    fastapi.routing.run_in_threadpool = inline
    fastapi.dependencies.utils.run_in_threadpool = inline

    async def go() -> None:
        transport = httpx.ASGITransport(app=c.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=c.cookies,
                                     headers=headers) as ac:
            await ac.get(url)
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(n):
                await ac.get(url)
            prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(60)

    asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", help="data directory with the demo county (default: a new one)")
    ap.add_argument("--database-url", help="a store other than the data directory's SQLite file, e.g. PostgreSQL")
    ap.add_argument("--n", type=int, default=20, help="sequential requests per target")
    ap.add_argument("--roles", default="analyst,town", help="comma-separated demo roles")
    ap.add_argument("--only", default="", help="only targets whose label contains this text")
    ap.add_argument("--profile", default="", help="cProfile the first target whose label contains this text")
    ap.add_argument("--cold", action="store_true", help="empty the page caches before every request")
    ap.add_argument("--path", action="append", default=[], help="measure this URL instead of the targets (repeatable)")
    args = ap.parse_args()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="qunlian-bench-")
    prepare(data_dir, args.database_url)
    os.environ["QUNLIAN_DATA_DIR"] = data_dir
    os.environ.pop("QUNLIAN_DATABASE_URL", None)
    if args.database_url:
        os.environ["QUNLIAN_DATABASE_URL"] = args.database_url
    print(f"# sequential TestClient requests, n={args.n}, {'caches emptied before each' if args.cold else 'warm'}, "
          f"load {os.getloadavg()[0]:.2f}")
    for role in args.roles.split(","):
        c, headers = client_for(role)
        uscc = first_uscc(c, headers)
        targets = [(p, p, "api" if p.startswith("/api/") else "page") for p in args.path] or TARGETS
        for label, path, kind in [t for t in targets if "{each_" not in t[1]]:  # varied targets: load run only
            if (args.only and args.only not in label) or (args.profile and args.profile not in label):
                continue
            url = path.replace("{uscc}", uscc)
            h = headers if kind == "api" else {}
            first = c.get(url, headers=h)
            if first.status_code != 200:
                print(f"{role:<8} {label:<44} HTTP {first.status_code}")
                continue
            if args.profile:
                profile(c, url, h, args.n)
                return
            times = []
            for _ in range(args.n):
                if args.cold:
                    clear_page_caches()
                t0 = time.perf_counter()
                c.get(url, headers=h)
                times.append((time.perf_counter() - t0) * 1000)
            q = statistics.quantiles(times, n=10)
            print(f"{role:<8} {label:<44} median {statistics.median(times):7.1f} ms  p90 {q[8]:7.1f} ms", flush=True)


if __name__ == "__main__":
    main()
