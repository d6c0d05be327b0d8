"""Engines, sessions and schema migrations for the operational store."""

from __future__ import annotations

from collections.abc import Iterator
import datetime as dt
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from qunlian.platform.config import Settings, load_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for memory or another database)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?")[0]
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str | None = None) -> Engine:
    url = url or load_settings().database_url
    engine = create_engine(url, future=True)
    if (file := _sqlite_file(url)) is not None:

        @event.listens_for(engine, "do_connect")
        def _make_folder(*_args: Any) -> None:  # on first use, not before: a command that only checks leaves nothing
            file.parent.mkdir(parents=True, exist_ok=True)

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def alembic_config(engine: Engine, metadata: MetaData | None = None) -> Config:
    """Alembic's configuration for this engine. ``metadata`` (every installed capability's tables,
    from ``qunlian.installed.metadata()``) is needed only to compare or autogenerate, not to upgrade."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    cfg.attributes["metadata"] = metadata
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def is_initialised(engine: Engine) -> bool:
    """Whether the store has been created (``qunlian init``). A SQLite file that does not exist is not
    created by asking."""
    file = _sqlite_file(engine.url.render_as_string(hide_password=False))
    if file is not None and not file.exists():
        return False
    return inspect(engine).has_table("alembic_version")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with session_factory(engine)() as session, session.begin():
        yield session


def audit(session: Session, actor: str, action: str, entity: str = "", entity_id: Any = "", **detail: Any) -> None:
    """Append a line to the audit log in the session's transaction: who (``actor``), what (``action``, the
    entity and the detail), when, and from where (the request's client address, or "cli"). The line is
    chained to the one before it and the chain is locked until commit (``qunlian.platform.auditlog``)."""
    from qunlian.platform.auditlog import append

    append(session, actor, action, entity, entity_id, detail)


def describe(settings: Settings | None = None) -> str:
    s = settings or load_settings()
    return f"数据目录 data dir: {s.data_dir}\n数据库 database: {_redact(s.database_url)}"


def _redact(url: str) -> str:
    # never print a password
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in cred else url
    return url


# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

