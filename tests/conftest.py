"""Shared fixtures. Every store test runs on the database named by QUNLIAN_TEST_DATABASE_URL
(PostgreSQL in CI) or, by default, on a fresh SQLite file.

On PostgreSQL each test gets its own schema (search_path), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from qunlian.store.db import make_engine, migrate

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
