"""Reading the audit log: lines filtered by who, what, which entity, from where and when, newest first.

The chain and its check are the platform's (``qunlian.platform.auditlog``); this module only reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from qunlian.core.errors import QunlianError
from qunlian.core.messages import Message
from qunlian.platform.auditlog import ChainReport, canonical_at, verify
from qunlian.platform.models import AuditLog

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """Which lines: ``actor``, ``entity``, ``entity_id``, ``origin`` match exactly; ``action`` exactly or
    as a dotted prefix ("targets.task" matches "targets.task.close"); ``since`` and ``until`` bound the
    time (UTC), both inclusive (a date bound covers the whole day)."""

    actor: str = ""
    action: str = ""
    entity: str = ""
    entity_id: str = ""
    origin: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive upper bound, as parse_time(…, end=True) gives it
    upto_id: int | None = None  # this line and those before it (the page links a broken line so)

    def active(self) -> bool:
        return any(getattr(self, f.name) not in ("", None) for f in fields(self))


def parse_time(text: str, end: bool = False) -> dt.datetime | None:
    """A bound as typed: ``YYYY-MM-DD`` (the whole day) or an ISO date-time (UTC unless it says
    otherwise). ``end``: the exclusive upper bound for an inclusive "until"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            when = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return when + dt.timedelta(days=1) if end else when
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise QunlianError(Message("时间“%(text)s”无法识别：应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM", text=text)) from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when + dt.timedelta(microseconds=1) if end else when


def _where(query: Select, f: Filters) -> Select:
    if f.actor:
        query = query.where(AuditLog.actor == f.actor)
    if f.action:
        prefix = f.action.rstrip(".*")
        query = query.where(or_(AuditLog.action == f.action, AuditLog.action.startswith(prefix + ".", autoescape=True)))
    if f.entity:
        query = query.where(AuditLog.entity == f.entity)
    if f.entity_id:
        query = query.where(AuditLog.entity_id == f.entity_id)
    if f.origin:
        query = query.where(AuditLog.origin == f.origin)
    if f.since:
        query = query.where(AuditLog.at >= f.since)
    if f.until:
        query = query.where(AuditLog.at < f.until)
    if f.upto_id is not None:
        query = query.where(AuditLog.id <= f.upto_id)
    return query


@dataclass(frozen=True)
class EntryPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def as_dict(row: AuditLog) -> dict[str, Any]:
    """One line for a page or JSON: its time in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return {"id": row.id, "at": canonical_at(row.at) + "Z", "actor": row.actor, "action": row.action,
            "entity": row.entity, "entity_id": row.entity_id, "origin": row.origin, "detail": row.detail or {},
            "prev_hash": row.prev_hash, "hash": row.hash}


def entries(session: Session, filters: Filters = Filters(), page: int = 1, page_size: int = PAGE_SIZE) -> EntryPage:
    """One page of matching lines, newest first."""
    total = session.scalar(_where(select(func.count(AuditLog.id)), filters)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = session.scalars(_where(select(AuditLog), filters).order_by(AuditLog.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return EntryPage([as_dict(r) for r in rows], total, page, pages)


def latest(session: Session, filters: Filters = Filters(), limit: int | None = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` matching lines (all of them when ``limit`` is None), newest first."""
    query = _where(select(AuditLog), filters).order_by(AuditLog.id.desc())
    if limit:
        query = query.limit(limit)
    return [as_dict(r) for r in session.scalars(query)]


def choices(session: Session) -> dict[str, list[str]]:
    """The actions and entities the log holds (for the page's filter lists)."""
    return {
        "actions": list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action))),
        "entities": [e for e in session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)) if e],
    }


def chain_status(session: Session, anchor: str | None = None) -> ChainReport:
    """Walk the whole chain (``qunlian.platform.auditlog.verify``)."""
    return verify(session, anchor=anchor)
