"""Alembic environment: runs against the engine qunlian hands over in config.attributes."""

from alembic import context
from sqlalchemy import create_engine

from qunlian.platform.db import Base

config = context.config
# Every installed capability's tables, handed over by the caller when it compares or autogenerates
# (`qunlian db revision`, the schema test); an upgrade needs only the migration scripts.
metadata = config.attributes.get("metadata") or Base.metadata
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` invocation by a developer
    from qunlian.platform.config import load_settings

    engine = create_engine(load_settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
