"""Operational store: SQLAlchemy models, sessions, Alembic migrations."""
