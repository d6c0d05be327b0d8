"""The platform's own tables: import provenance and the audit log, which every capability writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunlian.platform.db import Base, _now


class ImportBatch(Base):
    """One accepted import, with its provenance. Rejected imports store nothing but the audit line."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # enterprise-years | actuals | …
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200), default="")  # 税务局 / 供电公司 / 统计局 …
    units: Mapped[dict[str, Any]] = mapped_column(default=dict)  # declared unit per column
    rows: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(80), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    template: Mapped[str] = mapped_column(String(40), default="", server_default="")  # the data source's template key (tax …)
    template_version: Mapped[str] = mapped_column(String(20), default="", server_default="")  # as stamped in the file
    # the preview this batch confirms: unique, so that a preview confirmed twice at once is one batch
    preview_token: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditLog(Base):
    """Who did what, when and from where: append-only (the store refuses UPDATE and DELETE) and
    hash-chained (``qunlian.platform.auditlog``; ``qunlian audit verify``). Written only by ``db.audit()``."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=func.now())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))  # e.g. import.enterprise-years, user.add, demo.generate
    entity: Mapped[str] = mapped_column(String(60), default="")
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # from where: the client's address for a web request, "cli" for a command (qunlian.platform.auditlog)
    origin: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # the chain: SHA-256 of this line's fields and the previous line's hash ("" for the first line);
    # unique, so two lines can never follow the same one
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True, default="", server_default="")
    hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Setting(Base):
    """One installation-wide setting kept in the store (e.g. the root region), so that every process
    (the server, each CLI call) reads the same value."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))
