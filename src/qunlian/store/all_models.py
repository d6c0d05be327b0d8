"""Imports every model module so that Base.metadata knows all tables (Alembic, tests).

A capability that keeps its own tables in store/<capability>_models.py adds one import here.
"""

from qunlian.store.models import Base
import qunlian.store.muni_models  # noqa: F401,E402  (亩均: runs, results, adjustments, 整治 ledger)

__all__ = ["Base"]
