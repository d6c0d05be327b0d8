"""Fixtures for the targets tests: a migrated store with the seeds' plan data loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from qunlian.targets.plans.loader import load_reference_data
from qunlian.platform.db import session_factory, transaction

CLUSTERS = "pinghu-clusters-2023-2027"  # 003
MFG14 = "pinghu-mfg-14th"  # 000
ZJ = "zhejiang-amb-14th"  # 004


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
    return engine


@pytest.fixture
def session(loaded: Engine) -> Iterator[Session]:
    with session_factory(loaded)() as s:
        yield s
        s.rollback()
