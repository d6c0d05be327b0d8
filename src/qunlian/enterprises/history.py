"""A firm's imported figures through time: every revision, and the figures as they stood on a date.

Imports write one ``FigureRevision`` per value they change (``enterprise_years._write``). A figure's
value on a date is the new value of its last revision up to that date; with no revision up to then,
the old value of its first revision after it (what the store held before); with no revision at all,
the stored value (figures loaded other than by import, such as the demo's, have no history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.enterprises import columns as C
from qunlian.enterprises.models import EnterpriseYear, FigureRevision
from qunlian.platform.models import ImportBatch


@dataclass(frozen=True)
class Revision:
    year: int | None
    field: str
    old: Any
    new: Any
    at: dt.datetime
    batch_id: int
    filename: str
    source: str
    template: str
    by: str


def revisions(session: Session, enterprise_id: int) -> list[Revision]:
    """Every imported change of the firm's figures, newest first."""
    q = (select(FigureRevision, ImportBatch).join(ImportBatch, ImportBatch.id == FigureRevision.import_batch_id)
         .where(FigureRevision.enterprise_id == enterprise_id)
         .order_by(FigureRevision.changed_at.desc(), FigureRevision.id.desc()))
    return [Revision(r.year, r.field, _typed(r.field, r.old_value), _typed(r.field, r.new_value), r.changed_at, b.id,
                     b.filename, b.source, b.template, b.created_by) for r, b in session.execute(q)]


def _typed(field: str, value: Any) -> Any:
    """A JSON-stored value as the column holds it (JSON may give 750 back for 750.0)."""
    col = C.BY_NAME.get(field)
    if col is not None and col.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def figures_as_of(session: Session, enterprise_id: int, when: dt.datetime | None) -> dict[int, dict[str, Any]]:
    """{year: {field: value}} of the firm's yearly figures as they stood at ``when`` (None: now)."""
    stored = {y.year: {f: getattr(y, f) for f in C.YEAR_FIELDS}
              for y in session.scalars(select(EnterpriseYear).where(EnterpriseYear.enterprise_id == enterprise_id))}
    if when is None:
        return stored
    history: dict[tuple[int, str], list[FigureRevision]] = {}
    q = (select(FigureRevision).where(FigureRevision.enterprise_id == enterprise_id, FigureRevision.year.is_not(None))
         .order_by(FigureRevision.changed_at, FigureRevision.id))
    for r in session.scalars(q):
        history.setdefault((r.year, r.field), []).append(r)
    out: dict[int, dict[str, Any]] = {}
    for year in sorted(set(stored) | {y for y, _f in history}):
        row = {}
        for f in C.YEAR_FIELDS:
            revs = history.get((year, f))
            if not revs:
                row[f] = stored.get(year, {}).get(f)
                continue
            before = [r for r in revs if _aware(r.changed_at) <= _aware(when)]
            row[f] = _typed(f, before[-1].new_value if before else revs[0].old_value)
        if any(v is not None for v in row.values()):
            out[year] = row
    return out


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


__all__ = ["Revision", "figures_as_of", "revisions"]
