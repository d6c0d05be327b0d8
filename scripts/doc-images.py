"""Refresh the user guide's screenshots of the demo county (docs/img) from a real demo store.

Builds the demo county in a temporary data directory (or uses --data-dir), serves it on a free
loopback port, and walks the main pages in Debian's Chromium as the printed demo logins, so the
figures in the guide are the demo county's own (the browser tests' screenshots come from small test
stores and stay in test-artifacts/). Needs the dev set-up (playwright, /usr/bin/chromium, a CJK font).

    .venv/bin/python scripts/doc-images.py [--data-dir DIR] [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUNLIAN = str(ROOT / ".venv" / "bin" / "qunlian")
CLUSTERS = "pinghu-clusters-2023-2027"


def logins(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    subprocess.run([QUNLIAN, "init"], env=env, check=True, capture_output=True)
    out = subprocess.run([QUNLIAN, "demo", "--if-empty"], env=env, check=True, capture_output=True, text=True).stdout
    found = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(r"^(\w+)\s+(demo-\w+)\s+(\S+)", out, re.M)}
    if "admin" not in found:
        sys.exit(f"no demo logins in the demo output:\n{out}")
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", help="data directory holding (or to hold) the demo county; default: a new one")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "QUNLIAN_DATA_DIR": args.data_dir or tempfile.mkdtemp(prefix="qunlian-docimg-")}
    env.pop("QUNLIAN_DATABASE_URL", None)
    users = logins(env)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([QUNLIAN, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])

            def visit(role: str):
                page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=username]", users[role][0])
                page.fill("input[name=password]", users[role][1])
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                return page

            def shot(page, name: str, path: str, wait: str | None = None, full: bool = True) -> None:
                page.goto(base + path)
                if wait:
                    page.wait_for_selector(wait)
                page.wait_for_timeout(400)  # charts finish their entry animation
                page.screenshot(path=str(out / f"{name}.png"), full_page=full)
                print(f"{name}.png  ← {path}")

            admin = visit("admin")
            shot(admin, "home-admin", "/")
            shot(admin, "demo-home", "/", full=False)
            shot(admin, "demo-town", "/towns/jingkai")
            shot(admin, "demo-chains", "/chains/4q8l")
            shot(admin, "targets-plans", "/targets")
            shot(admin, "targets-plan", f"/targets/{CLUSTERS}")
            shot(admin, "targets-indicator", f"/targets/{CLUSTERS}/indicators/tax-per-mu", "[data-testid=indicator-chart] canvas")
            shot(admin, "targets-towns", f"/targets/{CLUSTERS}/towns?period=2023")
            shot(admin, "targets-alignment", "/targets/alignment")
            shot(admin, "muni-runs", "/muni")
            admin.goto(f"{base}/muni")
            run = admin.locator("a[href^='/muni/runs/']").first.get_attribute("href")
            shot(admin, "muni-run", run)
            town = visit("town")
            shot(town, "targets-town-user", f"/targets/{CLUSTERS}/towns?period=2023")
            firm = admin  # a C-class firm: its levers show how far the next class is
            firm.goto(base + "/enterprises?grade=C&scale=above")
            own = "/enterprises/" + firm.locator("tr[data-uscc]").first.get_attribute("data-uscc")
            firm.goto(base + own)
            firm.locator("[data-testid=muni-levers-block], [data-testid=muni-levers-slot]").first.scroll_into_view_if_needed()
            firm.wait_for_selector("[data-testid=muni-levers-block]")
            firm.locator("#muni").scroll_into_view_if_needed()
            firm.screenshot(path=str(out / "muni-simulator.png"), full_page=True)
            firm.evaluate("window.scrollTo(0, 0)")
            firm.screenshot(path=str(out / "demo-enterprise.png"), full_page=True)
            print(f"muni-simulator.png, demo-enterprise.png  ← {own}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
