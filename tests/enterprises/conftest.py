"""Fixtures for the import/export tests: a small region in the store and row counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from io_helpers import COUNTED
from sqlalchemy import Engine, func, select

from qunlian.platform.db import transaction
from qunlian.regions.models import Park, Town


@pytest.fixture
def region(engine: Engine) -> Engine:
    """The engine, with two towns (one with an alias) and one park in the store."""
    with transaction(engine) as s:
        danghu = Town(code="danghu", name="当湖街道", kind="街道", aliases=["当湖"], seq=1)
        zhongdai = Town(code="zhongdai", name="钟埭街道", kind="街道", seq=2)
        s.add_all([danghu, zhongdai])
        s.flush()
        s.add(Park(code="pinghu-kechuang", name="平湖科创园", kind="专业园", town_id=danghu.id))
    return engine


@pytest.fixture
def counts(engine: Engine) -> Callable[[], dict[str, int]]:
    def _counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {m.__tablename__: conn.scalar(select(func.count()).select_from(m)) for m in COUNTED}

    return _counts
