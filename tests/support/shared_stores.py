"""Stores built once per test session and copied for each module that uses one.

Building the demo county (load, plans, actuals, a 亩均 run, users) takes seconds; copying it takes
milliseconds on SQLite (the online backup API) and well under a second on PostgreSQL (CREATE DATABASE
… TEMPLATE). So each kind of store is built once for the whole session — under a file lock, by
whichever xdist worker asks first — and every module gets a copy of its own: a module may write to
its copy without another module seeing it.

On PostgreSQL the template and the copies are databases of their own on QUNLIAN_TEST_DATABASE_URL's
server; ``drop_templates`` (called at the end of the session by the controlling process) removes
the templates.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from qunlian.platform.db import make_engine, migrate

S = TypeVar("S")
TEST_DB_URL = os.environ.get("QUNLIAN_TEST_DATABASE_URL", "")
_PREFIX = "qunlian_tpl_"


def _on_postgres() -> bool:
    return bool(TEST_DB_URL) and not TEST_DB_URL.startswith("sqlite")


def session_root(base: Path) -> Path:
    """The folder every worker of this test session shares (``base``: a worker's basetemp)."""
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _tag(root: Path) -> str:
    return hashlib.sha1(str(root).encode()).hexdigest()[:10]


def _database_url(name: str) -> str:
    return make_url(TEST_DB_URL).set(database=name).render_as_string(hide_password=False)


def _server() -> Engine:
    return create_engine(TEST_DB_URL, isolation_level="AUTOCOMMIT")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _template(root: Path, name: str, build: Callable[[Engine], object]) -> tuple[str, dict]:
    """The template store ``name`` (built now if no worker has yet) and what its build returned
    beyond the engine."""
    meta_file = root / f"{name}.store.pickle"
    with _locked(root / f"{name}.store.lock"):
        if not meta_file.exists():
            if _on_postgres():
                db = f"{_PREFIX}{name}_{_tag(root)}"
                server = _server()
                with server.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{db}"'))
                server.dispose()
                where = db
                engine = make_engine(_database_url(db))
            else:
                where = str(root / f"{name}.template.sqlite")
                engine = make_engine(f"sqlite:///{where}")
            migrate(engine)
            store = build(engine)
            engine.dispose()  # a PostgreSQL template must have no session open while it is copied
            meta = {f.name: getattr(store, f.name) for f in fields(store) if f.name != "engine"}
            meta_file.write_bytes(pickle.dumps((where, meta)))
    return pickle.loads(meta_file.read_bytes())


def copy_of(kind: type[S], build: Callable[[Engine], S], tmp: Path, base: Path) -> tuple[S, Callable[[], None]]:
    """A copy of the shared store of dataclass ``kind`` (first field ``engine``) in ``tmp``, and the
    function that drops it. ``build`` fills a migrated engine and returns the store; ``base`` is the
    worker's basetemp (``tmp_path_factory.getbasetemp()``)."""
    name = kind.__name__.lower()
    where, meta = _template(session_root(base), name, build)
    if _on_postgres():
        db = f"{_PREFIX}copy_{uuid.uuid4().hex[:12]}"
        server = _server()
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{where}"'))
        engine = make_engine(_database_url(db))

        def drop() -> None:
            engine.dispose()
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            server.dispose()
    else:
        path = tmp / f"{name}.sqlite"
        src, dst = sqlite3.connect(where), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        engine = make_engine(f"sqlite:///{path}")

        def drop() -> None:
            engine.dispose()

    return kind(engine, **meta), drop


def drop_templates(base: Path) -> None:
    """Remove this session's PostgreSQL templates (SQLite templates go with pytest's temp folder)."""
    if not _on_postgres():
        return
    tag = _tag(session_root(base))
    server = _server()
    with server.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                             {"p": f"{_PREFIX}%_{tag}"}).scalars().all()
        for db in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    server.dispose()
