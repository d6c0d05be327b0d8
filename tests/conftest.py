"""Shared fixtures. Every store test runs on the database named by QUNLIAN_TEST_DATABASE_URL
(PostgreSQL in CI) or, by default, on a fresh SQLite file.

On PostgreSQL each test gets its own schema (search_path), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text

from qunlian.platform.db import make_engine, migrate

# Helpers shared by the test packages (web store, browser, import files) live in tests/support.
sys.path.insert(0, str(Path(__file__).parent / "support"))

from web_helpers import WebStore, make_client, seed  # noqa: E402

TEST_DB_URL = os.environ.get("QUNLIAN_TEST_DATABASE_URL", "")


def _fresh_url(tmp_path: Path) -> tuple[str, callable]:
    if not TEST_DB_URL or TEST_DB_URL.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'qunlian-test.sqlite'}", lambda: None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(TEST_DB_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in TEST_DB_URL else "?"
    url = f"{TEST_DB_URL}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url, drop


# --------------------------------------------------------------------------- which tests touch the store
# The PostgreSQL round of scripts/test.sh runs only the tests marked ``store`` (``-m store``): running
# the pure ones a second time tests nothing new. A test is marked when its fixture closure holds one
# of these; a fixture (or a test) that opens a store some other way requests ``store_backend``. A test
# that opens a store without being marked fails (``_store_use_is_declared``): it would otherwise be
# left out of the PostgreSQL round without anyone noticing (unless it says ``own_sqlite``: a SQLite
# file of its own on purpose, such as a path that must not be initialised).
STORE_FIXTURES = {"store_backend", "db_url", "engine", "cli_env", "web_store", "client"}


@pytest.fixture(scope="session")
def store_backend() -> str:
    """The database the tests' stores live on (QUNLIAN_TEST_DATABASE_URL, or "" for SQLite files)."""
    return TEST_DB_URL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if STORE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.store)


def _is_store(url) -> bool:  # noqa: ANN001 - a sqlalchemy URL
    """A database a test would want on PostgreSQL too: anything but SQLite in memory."""
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


@pytest.fixture(autouse=True)
def _store_use_is_declared(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("store") or request.node.get_closest_marker("own_sqlite"):
        yield
        return
    opened: list[str] = []

    def on_connect(conn, *args) -> None:  # noqa: ANN001
        if _is_store(conn.engine.url):
            opened.append(conn.engine.url.render_as_string(hide_password=True))

    event.listen(Engine, "engine_connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", on_connect)
    if opened:
        pytest.fail(f"this test opens a store ({opened[0]}) but is not marked 'store': request the "
                    "store_backend fixture (or db_url/engine/…) so that the PostgreSQL round runs it too")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """URL of an empty, unmigrated database for this test."""
    url, drop = _fresh_url(tmp_path)
    yield url
    drop()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A freshly migrated, empty store."""
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI against this test's database."""
    monkeypatch.setenv("QUNLIAN_DATABASE_URL", db_url)
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(tmp_path / "data"))
    return {"QUNLIAN_DATABASE_URL": db_url, "QUNLIAN_DATA_DIR": str(tmp_path / "data")}



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


# --------------------------------------------------------------------------- golden cases
# tests/cases/<capability>/*.yaml are collected as tests: a new case file needs no test code. Each
# capability says which checks a case gets in tests/support/<capability>_cases.py (GOLDEN: name →
# function of the case file's path).

CASES = Path(__file__).parent / "cases"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent.parent == CASES:
        return GoldenFile.from_parent(parent, path=file_path)
    return None


class GoldenFile(pytest.File):
    def collect(self):
        import importlib

        capability = self.path.parent.name
        checks = importlib.import_module(f"{capability}_cases").GOLDEN
        for name, check in checks.items():
            yield GoldenItem.from_parent(self, name=name, check=check)


class GoldenItem(pytest.Item):
    def __init__(self, *, check, **kwargs) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        self.check(self.path)

    def reportinfo(self):
        return self.path, None, f"golden case {self.path.parent.name}/{self.path.name}::{self.name}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controlling process (not an xdist worker) drops the session's shared PostgreSQL templates."""
    if not hasattr(session.config, "workerinput"):
        from shared_stores import drop_templates

        drop_templates(session.config._tmp_path_factory.getbasetemp())
