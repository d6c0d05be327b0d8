"""The audit log's chain: who, when, what and from where, each line hashed together with the one before.

Every write calls ``qunlian.platform.db.audit()``, which appends one line here. A line's ``hash`` is the
SHA-256 of a canonical JSON of its fields and of the previous line's hash (``prev_hash``; the first line's
is empty), so changing, removing or reordering any line breaks the chain at that line: ``verify()`` walks
it in id order and names the first line that does not fit. The store refuses UPDATE and DELETE on the
table (triggers, migration 0009), so the chain is append-only in practice as well as detectably so.

Order under concurrency: ``append()`` takes the chain lock in the writer's transaction before it reads
the newest line, and holds it to commit (PostgreSQL: a transaction-level advisory lock keyed on the
audit_log table of the store's schema, which nothing but appenders waits for; SQLite: the database's
one write lock), so two writers never chain onto the same line; a unique ``prev_hash`` makes a fork
impossible even so.

"From where" (``origin``) is a context variable: the web layer sets it to the client's address for each
request (``qunlian.platform.web.origin``); everywhere else it is ``"cli"``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qunlian.core.messages import N_, Message

GENESIS = ""  # the prev_hash of the first line
ORIGIN_CLI = "cli"
ORIGIN_MAX = 80  # the column's width
LOCK_NAMESPACE = 0x716C  # "ql": the first key of qunlian's PostgreSQL advisory locks

_origin: ContextVar[str] = ContextVar("qunlian.audit.origin", default=ORIGIN_CLI)


def current_origin() -> str:
    """Where the current write comes from: a client address for a web request, ``"cli"`` otherwise."""
    return _origin.get()


@contextmanager
def origin(value: str) -> Iterator[None]:
    """Audit lines written inside this block record ``value`` as where they came from."""
    token = _origin.set((value or "unknown")[:ORIGIN_MAX])
    try:
        yield
    finally:
        _origin.reset(token)


# --------------------------------------------------------------------------- the hash


def canonical_at(at: dt.datetime) -> str:
    """A time as the chain hashes it: UTC, microseconds, no offset (a naive time is UTC, as SQLite
    returns it), so that the value read back from either store hashes the same."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(sep="T", timespec="microseconds")


def normalise_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as the store gives it back (JSON): tuples become lists, keys strings."""
    return json.loads(json.dumps(detail, ensure_ascii=False))


def canonical(prev_hash: str, at: dt.datetime, actor: str, action: str, entity: str, entity_id: str,
              origin: str, detail: dict[str, Any]) -> bytes:
    """The bytes a line's hash is taken over: its fields and the previous line's hash as JSON with
    sorted keys, no spaces, UTF-8. This is a stored contract: lines hashed under it must verify forever."""
    payload = {
        "prev": prev_hash,
        "at": canonical_at(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "origin": origin,
        "detail": detail,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(prev_hash: str, at: dt.datetime, actor: str, action: str, entity: str, entity_id: str,
               origin: str, detail: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(prev_hash, at, actor, action, entity, entity_id, origin, detail)).hexdigest()


def row_hash(row: Any) -> str:
    """The hash a stored line should carry (any object with the AuditLog's attributes)."""
    return entry_hash(row.prev_hash, row.at, row.actor, row.action, row.entity, row.entity_id, row.origin,
                      row.detail if row.detail is not None else {})


# --------------------------------------------------------------------------- appending


def lock_chain(session: Session) -> None:
    """Take the chain lock for the rest of the session's transaction (released at commit or rollback)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # only appenders wait for it (not readers, pg_dump or vacuum); keyed on this schema's table, so
        # stores in other schemas of the database do not wait for each other
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, CAST(CAST('audit_log' AS regclass) AS oid)::int)"),
                        {"ns": LOCK_NAMESPACE})
    elif dialect == "sqlite":
        # a write that changes nothing: it opens the transaction and takes the database's write lock
        # (waiting, like any writer, for the one before to commit), so the newest line read next is final
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))
    else:  # pragma: no cover - the two stores qunlian supports
        raise NotImplementedError(dialect)


def append(session: Session, actor: str, action: str, entity: str = "", entity_id: Any = "",
           detail: dict[str, Any] | None = None, at: dt.datetime | None = None) -> Any:
    """Add one chained line to the session's transaction and flush it; returns the AuditLog row."""
    from qunlian.platform.models import AuditLog

    at = at or dt.datetime.now(dt.UTC)
    detail = normalise_detail(detail or {})
    entity_id = str(entity_id)
    here = current_origin()
    session.flush()  # this transaction's own earlier lines first
    lock_chain(session)
    prev = session.scalar(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1))
    prev = prev if prev is not None else GENESIS
    row = AuditLog(at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail,
                   origin=here, prev_hash=prev,
                   hash=entry_hash(prev, at, actor, action, entity, entity_id, here, detail))
    session.add(row)
    session.flush()
    return row


# --------------------------------------------------------------------------- verifying

BROKEN_LINK = N_("与上一条不衔接（其前有记录被删除、插入或调换）")
BROKEN_HASH = N_("内容与哈希不符（记录被修改）")
ANCHOR_MISSING = N_("所给的链头哈希不在链中（其后的记录被删除，或不是本库的链）")


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: ``ok``, the lines walked, the newest line's id and hash, and
    where it broke (the first line that does not fit, and why: a msgid)."""

    ok: bool
    entries: int
    head_id: int | None = None
    head_hash: str = GENESIS
    broken_id: int | None = None
    reason: str = ""
    anchor_found: bool | None = None  # None: no anchor asked for

    def message(self) -> Message:
        if self.ok:
            return Message("审计日志链完整：%(n)s 条", n=self.entries)
        if self.broken_id is None:
            return Message("审计日志链不完整：%(reason)s", reason=Message(self.reason))
        return Message("审计日志链在第 %(id)s 条断开：%(reason)s", id=self.broken_id, reason=Message(self.reason))


def verify(session: Session, anchor: str | None = None, batch: int = 2000) -> ChainReport:
    """Walk every line in id order: each must name the previous line's hash and carry its own.
    ``anchor``: a head hash noted earlier (e.g. by last night's backup), which must still be in the chain:
    so lines removed from the end, which the chain alone cannot show, are found too."""
    from qunlian.platform.models import AuditLog

    cols = (AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action, AuditLog.entity, AuditLog.entity_id,
            AuditLog.origin, AuditLog.detail, AuditLog.prev_hash, AuditLog.hash)
    expected, n, last_id, seen = GENESIS, 0, 0, anchor is None
    while True:
        rows = session.execute(select(*cols).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != expected:
                return ChainReport(False, n, last_id or None, expected, row.id, BROKEN_LINK)
            if row_hash(row) != row.hash:
                return ChainReport(False, n, last_id or None, expected, row.id, BROKEN_HASH)
            expected, n, last_id = row.hash, n + 1, row.id
            seen = seen or row.hash == anchor
    if not seen:
        return ChainReport(False, n, last_id or None, expected, None, ANCHOR_MISSING, anchor_found=False)
    return ChainReport(True, n, last_id or None, expected, anchor_found=None if anchor is None else True)


# --------------------------------------------------------------------------- append-only, in the store

APPEND_ONLY = "audit_log is append-only"


def append_only_ddl(dialect: str) -> list[str]:
    """The triggers that make the store refuse UPDATE and DELETE (and on PostgreSQL TRUNCATE) on
    audit_log. Migration 0009 installs them; a later migration that rebuilds the table on SQLite (batch
    mode copies it, and dropping a table drops its triggers) must install them again."""
    if dialect == "postgresql":
        return [
            ("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
             f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"),
            ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
             "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
            ("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
             "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"),
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
            f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
        ]
    raise NotImplementedError(dialect)  # pragma: no cover


def drop_append_only_ddl(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
                "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
                "DROP FUNCTION IF EXISTS audit_log_append_only()"]
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]
    raise NotImplementedError(dialect)  # pragma: no cover
