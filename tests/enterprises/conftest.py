"""Fixtures for the import/export tests: a small region in the store and row counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from io_helpers import COUNTED, seed_towns
from sqlalchemy import Engine, func, select



@pytest.fixture
def region(engine: Engine) -> Engine:
    """The engine, with two towns (one with an alias) and one park in the store."""
    return seed_towns(engine)


@pytest.fixture
def counts(engine: Engine) -> Callable[[], dict[str, int]]:
    def _counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {m.__tablename__: conn.scalar(select(func.count()).select_from(m)) for m in COUNTED}

    return _counts
