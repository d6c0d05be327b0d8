"""Helpers for the audit-log tests: writing lines, and tampering with the store behind the triggers'
back (as someone with the database's own tools could), to show that the chain finds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, select, text

from qunlian.platform.auditlog import append_only_ddl, drop_append_only_ddl
from qunlian.platform.db import audit, session_factory, transaction
from qunlian.platform.models import AuditLog


def write(engine: Engine, n: int, actor: str = "tester", action: str = "test.write", **detail) -> None:
    for i in range(n):
        with transaction(engine) as s:
            audit(s, actor, action, "thing", i, i=i, **detail)


def lines(engine: Engine) -> list[AuditLog]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(AuditLog).order_by(AuditLog.id)))


@contextmanager
def triggers_off(engine: Engine) -> Iterator[None]:
    """The append-only triggers dropped for the block (and put back after it)."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for statement in drop_append_only_ddl(dialect):
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in append_only_ddl(dialect):
                conn.execute(text(statement))


def tamper(engine: Engine, sql: str, **params) -> None:
    with triggers_off(engine), engine.begin() as conn:
        conn.execute(text(sql), params)
