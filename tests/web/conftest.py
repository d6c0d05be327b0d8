"""Fixtures of the web tests (the store and helpers are in web_helpers.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web_helpers import WebStore, make_client, seed


@pytest.fixture(scope="session")
def browser():
    """One Debian Chromium for every browser test (skipped when playwright is not installed)."""
    from browser_support import ARGS, CHROMIUM

    playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright_sync.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def web_store(engine: Engine) -> WebStore:
    return seed(engine)


@pytest.fixture
def client(web_store: WebStore) -> TestClient:
    return make_client(web_store.engine)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest cost: the tests check behaviour, not the work factor."""
    from argon2 import PasswordHasher

    from qunlian.accounts import passwords

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
