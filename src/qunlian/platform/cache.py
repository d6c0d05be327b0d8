"""Read-through caches for figures that change only when the store does.

The 驾驶舱, the enterprise list, the profile, the chain and plan pages recompute the same figures on
every view, while the data under them changes a few times a day. A StoreCache entry is found by:

- the database (its URL), as the plan-status and 亩均-results caches do;
- the key its caller gives, which for scoped figures holds the caller's whole scope (scope_key:
  every field of the principal, grants included), so one scope's figures never reach another;
- today's date (the task ledger's quarter rolls over, grants expire);
- a fingerprint of the tables the figures read, taken *before* computing them: the newest id of each
  table (every insert), extra columns of small tables whose rows are updated in place (task status,
  target values …), and the newest audit line other than a login or logout. The writers that update
  big tables in place or delete rows all record an audit line, from any process: imports (which also
  add a batch), the demo's regeneration, 亩均 runs and adjustments, actuals, tasks, plan loads.

A write committed by any process therefore changes the fingerprint, and the next view recomputes.
The fingerprint is one SELECT of max(id) lookups on primary keys (no row counts: a count reads the
whole table on PostgreSQL), so it costs the same for 4 thousand firms or 400 thousand.
A write that a session has not committed yet is seen by that session only; the web layer never reads
a page inside a writing transaction.
"""

from __future__ import annotations

import datetime as dt
import pickle
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def fingerprint_query(tables: Iterable[Any], extra: Iterable[Any] = ()) -> Select:
    """One SELECT of the newest id of each table, the extra scalar SELECTs, and the newest audit line
    that is not a login.
    Build it once and keep it: SQLAlchemy then reuses the compiled statement."""
    from qunlian.platform.models import AuditLog

    cols: list[Any] = []
    for t in tables:
        tbl = t if isinstance(t, Table) else t.__table__
        cols.append(select(func.max(tbl.c.id)).scalar_subquery())
    cols.extend(e.scalar_subquery() for e in extra)
    # logins write audit lines too but change no figure; walking the id index down to the newest other
    # line stops within a few rows
    cols.append(select(AuditLog.id).where(AuditLog.action.not_like("auth.%"))
                .order_by(AuditLog.id.desc()).limit(1).scalar_subquery())
    return select(*cols)


def fingerprint(session: Session, query: Select) -> tuple:
    return tuple(session.execute(query).one())


def scope_key(user: Any) -> str:
    """Every field of the caller (a frozen dataclass): users who differ in anything never share an entry."""
    return repr(user)


class FigureCache:
    """A small LRU of computed figures. Entries are kept pickled and every caller gets its own fresh
    copy, so nobody can change an entry (unpickling is several times faster than copy.deepcopy).
    ``shared=True`` keeps the value itself and hands every caller the same object: for big values
    (thousands of rows) whose callers only read them."""

    _all: weakref.WeakSet[FigureCache] = weakref.WeakSet()

    def __init__(self, name: str, entries: int = 256, *, shared: bool = False) -> None:
        FigureCache._all.add(self)
        self.name = name
        self.entries = entries
        self.shared = shared
        self._data: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        # one computation per key at a time: twenty requests arriving together for a cold entry wait
        # for one computation instead of each doing it (striped locks, so the set stays bounded)
        self._stripes = [threading.Lock() for _ in range(16)]

    def get(self, session: Session, key: Hashable, deps: tuple, compute: Callable[[], T]) -> T:
        full = (str(session.get_bind().url), key, deps)
        blob = self._lookup(full)
        if blob is None:
            with self._stripes[hash(full) % len(self._stripes)]:
                blob = self._lookup(full)
                if blob is None:
                    value = compute()
                    with self._lock:
                        self._data[full] = value if self.shared else pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                        while len(self._data) > self.entries:
                            self._data.popitem(last=False)
                    return value
        return blob if self.shared else pickle.loads(blob)

    def _lookup(self, full: tuple) -> Any:
        with self._lock:
            blob = self._data.get(full)
            if blob is not None:
                self._data.move_to_end(full)
            return blob

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    @classmethod
    def instances(cls) -> list[FigureCache]:
        """Every cache of this process (benchmarks empty them to time a first view)."""
        return list(cls._all)


class StoreCache(FigureCache):
    """A FigureCache whose entries depend on given tables: the key gets the tables' fingerprint."""

    def __init__(self, name: str, tables: Iterable[Any], extra: Iterable[Any] = (), entries: int = 256, *,
                 shared: bool = False) -> None:
        super().__init__(name, entries, shared=shared)
        self.tables, self.extra = tuple(tables), tuple(extra)
        self._query: Select | None = None

    def fingerprint(self, session: Session) -> tuple:
        if self._query is None:
            self._query = fingerprint_query(self.tables, self.extra)
        return fingerprint(session, self._query)

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:  # type: ignore[override]
        return super().get(session, key, (dt.date.today().isoformat(), *self.fingerprint(session)), compute)

