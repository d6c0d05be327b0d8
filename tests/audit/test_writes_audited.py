"""Writes that issue #12 item 11 found unaudited, now audited (the others are listed in docs/audit.md)."""

from __future__ import annotations

from sqlalchemy import select

from qunlian.platform.auditlog import verify
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.models import AuditLog
from qunlian.regions.service import load_regions, set_root


def test_setting_the_root_region_is_audited(engine):
    with transaction(engine) as s:
        load_regions(s)
        set_root(s, "330400", actor="admin1")
    with session_factory(engine)() as s:
        line = s.scalars(select(AuditLog).where(AuditLog.action == "regions.set_root")).one()
        assert (line.actor, line.entity, line.detail["region"], line.detail["before"]) == ("admin1", "settings", "330400", None)
        assert verify(s).ok
