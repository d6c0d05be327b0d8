from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from qunlian.platform.db import is_initialised, make_engine, migrate
from qunlian.installed import metadata


def test_migrations_match_models(engine):
    """The Alembic history builds exactly the schema the models describe (no missing migration)."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    assert diff == []


def test_migrate_is_idempotent(db_url):
    eng = make_engine(db_url)
    assert not is_initialised(eng)
    migrate(eng)
    migrate(eng)
    assert is_initialised(eng)
    assert {"enterprises", "enterprise_years", "plans", "indicators", "targets", "audit_log"} <= set(
        inspect(eng).get_table_names()
    )
    eng.dispose()
