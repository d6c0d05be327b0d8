"""The installed capabilities, in the order their routes mount and their commands list.

This is the one place that names every capability: installing a new one is one line here. The app
factory (`qunlian.app`), the root command (`qunlian.cli`), Alembic's metadata and the docs test
read this list; `qunlian.platform` never imports it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData

from qunlian import accounts, audit, chains, demo, enterprises, exchange, overview, per_mu, regions, targets
from qunlian.platform.registry import Capability, NavEntry, resolve

CAPABILITIES: tuple[Capability, ...] = (
    accounts.CAPABILITY,
    overview.CAPABILITY,
    regions.CAPABILITY,
    chains.CAPABILITY,
    enterprises.CAPABILITY,
    exchange.CAPABILITY,
    per_mu.CAPABILITY,
    targets.CAPABILITY,
    demo.CAPABILITY,
    audit.CAPABILITY,
)


def metadata() -> MetaData:
    """Every installed table: the platform's own and each capability's (for Alembic and the schema test)."""
    import qunlian.platform.models  # noqa: F401  (audit log, import batches)
    from qunlian.platform.db import Base

    for cap in CAPABILITIES:
        if cap.models:
            resolve(cap.models)
    return Base.metadata


def sources() -> list[Any]:
    """Every installed data source (qunlian.platform.sources.DataSource), in capability order."""
    return [src for cap in CAPABILITIES for ref in cap.sources for src in resolve(ref)]


def nav() -> list[NavEntry]:
    return sorted((entry for cap in CAPABILITIES for entry in cap.nav), key=lambda e: e.order)
