"""Imports every model module so that Base.metadata knows all tables (Alembic, tests).

A capability that keeps its own tables in store/<capability>_models.py adds one import here.
"""

from qunlian.store.models import Base

__all__ = ["Base"]
