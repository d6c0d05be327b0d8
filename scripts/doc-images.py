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
import shutil
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
                page.wait_for_url(lambda url: "/login" not in url)  # the 驾驶舱, or the firm's own page
                return page

            def shot(page, name: str, path: str, wait: str | None = None, full: bool = True) -> None:
                page.goto(base + path)
                if wait:
                    page.wait_for_selector(wait)
                page.wait_for_timeout(1500)  # charts finish their entry animation (1 s in ECharts)
                page.screenshot(path=str(out / f"{name}.png"), full_page=full)
                print(f"{name}.png  ← {path}")

            for role in ("analyst", "department", "town", "chain", "enterprise"):  # each role's first page
                first = visit(role)
                first.wait_for_selector("[data-chart] canvas")
                first.wait_for_timeout(1500)
                first.screenshot(path=str(out / f"first-{role}.png"), full_page=False)
                print(f"first-{role}.png  ← {first.url.removeprefix(base)}")
                first.context.close()
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
            if shutil.which("soffice"):  # the spreadsheets are printed by LibreOffice
                import_images(admin, base, out, env)
            else:
                print("LibreOffice (soffice) not found: the import pictures are left as they are")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def import_images(page, base: str, out: Path, env: dict[str, str]) -> None:
    """The user guide's import pictures: a real template and a real validation report as spreadsheet
    programs print them (LibreOffice → PDF → PNG), and the preview of a correction in the browser."""
    import openpyxl

    work = Path(tempfile.mkdtemp(prefix="qunlian-import-img-"))
    subprocess.run([QUNLIAN, "templates", "--output", str(work)], env=env, check=True, capture_output=True)
    tax = next(work.glob("*-tax-*.xlsx"))
    render_sheet(tax, out / "import-template.png", work)
    page.goto(base + "/enterprises?sort=tax&desc=1&scale=above")
    firms = [page.locator("tr[data-uscc]").nth(i).get_attribute("data-uscc") for i in range(3)]
    stored = []  # each firm's latest year and its tax and revenue as stored, for a plausible correction
    for firm in firms[:2]:
        page.goto(f"{base}/enterprises/{firm}/history")
        row = page.locator("tr[data-year]").last
        cells = [row.get_attribute("data-year")] + [
            row.locator(f"td[data-field={f}]").inner_text().replace(",", "") for f in ("tax_wan", "revenue_wan")]
        stored.append((int(cells[0]), float(cells[1]), float(cells[2])))
    year = stored[0][0]

    def filled(name: str, rows: list[list]) -> Path:
        wb = openpyxl.load_workbook(tax)
        ws = wb.worksheets[0]
        ws["D3"] = "万元"
        for i, row in enumerate(rows):
            for j, v in enumerate(row, start=1):
                ws.cell(row=4 + i, column=j, value=v)
        path = work / name
        wb.save(path)
        return path

    (_y0, tax0, rev0), (_y1, tax1, rev1) = stored
    bad = filled("税收-有错.xlsx", [[firms[0], None, year, f"约{round(tax0)}", rev0],
                                  [firms[1][:-1], None, year, tax1, rev1], [firms[2], None, year + 5, 88, 600]])
    report = work / "校验报告.xlsx"
    subprocess.run([QUNLIAN, "import", "enterprise-years", str(bad), "--report", str(report)], env=env,
                   capture_output=True)
    render_sheet(report, out / "import-report.png", work)
    good = filled("税收-更正.xlsx", [[firms[0], None, year, round(tax0 * 1.06, 1), rev0], [firms[1], None, year, tax1, rev1]])
    page.goto(f"{base}/enterprises/{firms[0]}/history")

    page.goto(base + "/imports")
    page.set_input_files("[data-testid=file]", str(good))
    page.fill("[data-testid=source]", "税务局")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=import-preview]")
    page.screenshot(path=str(out / "import-preview.png"), full_page=True)
    print("import-template.png, import-report.png, import-preview.png")


def render_sheet(xlsx: Path, png: Path, work: Path, rows: int = 12) -> None:
    """The first sheet of a workbook as LibreOffice prints it (landscape, one page wide, its first
    ``rows`` rows), the top of the first page as PNG."""
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    ws = wb.worksheets[0]
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_area = f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{rows}"
    copy = work / f"print-{xlsx.name}"
    wb.save(copy)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(copy)],
                   check=True, capture_output=True, timeout=180)
    pdf = copy.with_suffix(".pdf")
    # the top third of an A4 landscape page at 110 dpi holds the printed rows
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", "-x", "0", "-y", "0",
                    "-W", "1287", "-H", "330", str(pdf), str(png.with_suffix(""))], check=True, capture_output=True)



if __name__ == "__main__":
    main()
