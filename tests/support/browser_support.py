"""What the browser tests share: Debian's Chromium, its launch options, a live server, a page visitor.

Never a downloaded browser: Playwright drives /usr/bin/chromium (installed by scripts/setup.sh --dev).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from web_helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOC_IMAGES = ROOT / "docs" / "img"
VENDOR = ROOT / "src" / "qunlian" / "platform" / "web" / "static" / "vendor"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

# Put on every browser test module: pytestmark = BROWSER_MARKS
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is missing: apt-get install -y chromium"),
    pytest.mark.skipif(not (VENDOR / "htmx.min.js").exists(), reason="web assets missing: run scripts/web-assets.sh"),
]


@contextmanager
def serve(engine: Engine) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from qunlian.app import create_app
    from qunlian.platform.web.settings import WebSettings

    app = create_app(engine, settings=WebSettings(secret_key="browser-test-key"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Visit:
    """A page of a logged-in browser that records console errors and any request leaving the app."""

    def __init__(self, browser, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: r.url.startswith(base) or r.url.startswith("data:")
                     or self.external.append(r.url))

    def go(self, path: str, expect: int = 200):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == expect, (path, response and response.status)
        if expect == 200:
            assert not self.errors, (path, self.errors)
        self.errors.clear()
        return self.page

    def login(self, username: str, password: str = PASSWORD) -> None:
        page = self.go("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)  # the 驾驶舱, or a firm's own page
        page.wait_for_load_state()

    def shot(self, label: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        assert not self.external, f"requests left the app: {self.external}"
        self.context.close()


def numbers(text: str) -> float | None:
    text = text.strip().replace(",", "")
    return None if text in ("—", "") else float(text)
