"""Alembic environment: runs against the engine qunlian hands over in config.attributes."""

from alembic import context
from sqlalchemy import create_engine

from qunlian.store.all_models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` invocation by a developer
    from qunlian.config import load_settings

    engine = create_engine(load_settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
