"""The store in one file, and back: ``qunlian backup`` and ``qunlian restore``.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies the live database page by
  page into a ``.sqlite`` file, consistent even while the server writes; restoring copies it back the
  same way.
- PostgreSQL: ``pg_dump --format=custom`` of the schema the store uses (the first of its
  ``search_path``, ``public`` by default), so another application's schemas in the same database are
  neither copied nor touched. Restoring drops that schema's objects and replays the dump in one
  transaction (``pg_restore`` → ``psql``), committed only when the whole dump has been replayed: a failed
  restore leaves the store as it was.
  ``pg_dump``, ``pg_restore`` and ``psql`` (the server's major version or newer) must be on the PATH.

Restoring refuses a store that holds any row unless forced, brings an older backup's schema up to date
(``migrate``), walks the audit chain (``qunlian.platform.auditlog.verify``) and appends a ``store.restore``
line to it. Taking a backup first appends a ``store.backup`` line, so the file holds the record of its
own making, and reports the chain's head hash: note it (``qunlian audit verify --anchor HASH`` later
shows that no line up to it has gone).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from qunlian.core.errors import QunlianError
from qunlian.core.messages import Message
from qunlian.platform.auditlog import ChainReport, verify
from qunlian.platform.db import audit, migrate, session_factory, transaction

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # sqlite | postgresql
    size: int
    sha256: str
    schema: str | None  # PostgreSQL: the schema dumped
    chain: ChainReport | None  # the chain as the backup holds it (its head hash is the anchor to note)


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    kind: str
    sha256: str
    revision_before: str | None  # the backup's schema revision
    revision: str | None  # after bringing it up to date
    rows: dict[str, int]  # rows per table, as restored
    chain: ChainReport


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def file_kind(path: Path) -> str:
    """What a backup file holds, from its first bytes: ``sqlite`` or ``postgresql``."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise QunlianError(Message("无法读取备份文件 %(path)s：%(error)s", path=str(path), error=exc.strerror or str(exc))) from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise QunlianError(Message("%(path)s 不是 qunlian 的备份文件（既非 SQLite 数据库，也非 pg_dump 自定义格式）",
                               path=str(path)))


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise QunlianError(Message("内存中的 SQLite 数据库无法备份或恢复：请使用数据库文件"))
    return Path(database)


def table_rows(engine: Engine) -> dict[str, int]:
    """Rows per table of the store's schema (its migration table excluded)."""
    insp = inspect(engine)
    names = sorted(n for n in insp.get_table_names() if n != VERSION_TABLE)
    prep = engine.dialect.identifier_preparer
    with engine.connect() as conn:
        return {n: conn.execute(text(f"SELECT COUNT(*) FROM {prep.quote(n)}")).scalar_one() for n in names}


def is_empty(engine: Engine) -> bool:
    """Whether the store holds no row at all (no tables, or migrated and nothing written)."""
    insp = inspect(engine)
    prep = engine.dialect.identifier_preparer
    with engine.connect() as conn:
        for name in insp.get_table_names():
            if name != VERSION_TABLE and conn.execute(text(f"SELECT 1 FROM {prep.quote(name)} LIMIT 1")).first():
                return False
    return True


def _revision(engine: Engine) -> str | None:
    if not inspect(engine).has_table(VERSION_TABLE):
        return None
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _has_chain(engine: Engine) -> bool:
    return any(c["name"] == "hash" for c in inspect(engine).get_columns("audit_log"))


def known_revisions(engine: Engine) -> set[str]:
    from alembic.script import ScriptDirectory

    from qunlian.platform.db import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()}


def _temp_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    return Path(name)


# --------------------------------------------------------------------------- backup


def backup(engine: Engine, target: Path, actor: str = "cli", overwrite: bool = False) -> BackupResult:
    """Write the store to one file (written beside ``target`` and renamed into place when complete)."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise QunlianError(Message("备份文件 %(path)s 已存在：换一个文件名，或加 --force 覆盖", path=str(target)))
    if _revision(engine) is None:
        raise QunlianError(Message("数据库尚未初始化：请先运行 qunlian init"))
    kind = engine.dialect.name
    chained = _has_chain(engine)
    if chained:  # a store not yet upgraded to the chain (backed up before `qunlian db upgrade`) gets no line
        with transaction(engine) as session:
            audit(session, actor, "store.backup", "store", kind, file=target.name)
    part = _temp_beside(target)
    try:
        schema = None
        if kind == "sqlite":
            _sqlite_backup(engine, part)
        elif kind == "postgresql":
            schema = _schema(engine)
            pattern = '"' + schema.replace('"', '""') + '"'  # the exact name, not a pattern
            _run([_tool("pg_dump"), "--format=custom", f"--schema={pattern}", f"--file={part}"], engine)
        else:  # pragma: no cover
            raise QunlianError(Message("不支持的数据库：%(name)s", name=kind))
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    chain = None
    if chained:
        with session_factory(engine)() as session:
            chain = verify(session)
    return BackupResult(target, kind, target.stat().st_size, _sha256(target), schema, chain)


def _sqlite_backup(engine: Engine, part: Path) -> None:
    with engine.connect() as conn, closing(sqlite3.connect(part)) as dst:
        conn.connection.driver_connection.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it


# --------------------------------------------------------------------------- restore


def restore(engine: Engine, source: Path, force: bool = False, actor: str = "cli") -> RestoreResult:
    """Replace the store's contents with a backup's. Refused when the store holds any row, unless
    ``force``; the backup must be of this kind of store and of a schema revision this code knows."""
    source = Path(source)
    kind = file_kind(source)
    if kind != engine.dialect.name:
        raise QunlianError(Message("这是 %(kind)s 的备份，当前数据库是 %(store)s：只能恢复到同类数据库",
                                   kind=kind, store=engine.dialect.name))
    digest = _sha256(source)
    revision_before = _sqlite_revision(source) if kind == "sqlite" else _dump_revision(source, engine)
    if revision_before is None:
        raise QunlianError(Message("%(path)s 中没有 qunlian 的数据库结构版本（alembic_version）：不是 qunlian 的备份",
                                   path=str(source)))
    if revision_before not in known_revisions(engine):
        raise QunlianError(Message("备份的数据库结构版本 %(rev)s 比本程序新：请先升级 qunlian 再恢复",
                                   rev=revision_before))
    if not force and not is_empty(engine):
        raise QunlianError(Message("当前数据库已有数据：恢复会整体替换它。确认无误后加 --force（建议先 qunlian backup 当前数据）"))
    if kind == "sqlite":
        _sqlite_restore(engine, source)
    else:
        _pg_restore(engine, source)
    engine.dispose()  # no pooled connection keeps the old contents' state
    migrate(engine)  # an older backup's schema is brought up to date (0009 chains its audit lines)
    with session_factory(engine)() as session:
        chain = verify(session)
    with transaction(engine) as session:
        audit(session, actor, "store.restore", "store", kind, file=source.name, sha256=digest,
              revision=revision_before, chain_ok=chain.ok, entries=chain.entries)
    return RestoreResult(source, kind, digest, revision_before, _revision(engine), table_rows(engine), chain)


def _sqlite_revision(path: Path) -> str | None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            return con.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0]
    except (sqlite3.DatabaseError, TypeError):
        return None


def _sqlite_restore(engine: Engine, source: Path) -> None:
    target = _sqlite_path(engine)
    engine.dispose()
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                closing(sqlite3.connect(target, timeout=30)) as dst:
            src.execute("PRAGMA quick_check").fetchall()  # a damaged file is refused before anything is copied
            src.backup(dst)  # one write transaction on the store: a failure part-way leaves it as it was
    except sqlite3.DatabaseError as exc:
        raise QunlianError(Message("恢复失败，数据库保持原样：%(error)s", error=str(exc))) from None


# --------------------------------------------------------------------------- PostgreSQL tools

# lines of `pg_restore --list`: "216; 1259 16390 TABLE myschema audit_log owner"
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(?P<schema>\S+) (?P<name>\S+) ")
_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA )")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise QunlianError(Message("找不到 %(tool)s：请安装 PostgreSQL 客户端工具（Debian: apt install postgresql-client，"
                                   "版本不低于服务器）", tool=name))
    return found


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The store's connection for libpq's tools: a URI without the password, which goes in the
    environment (PGPASSWORD), never on a command line."""
    url = engine.url
    uri = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                     query=url.query).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _run(args: list[str], engine: Engine, **kwargs) -> subprocess.CompletedProcess:
    uri, env = _libpq(engine)
    done = subprocess.run([*args, f"--dbname={uri}"], env=env, capture_output=True, check=False, **kwargs)
    if done.returncode != 0:
        raise QunlianError(Message("%(tool)s 失败：%(error)s", tool=Path(args[0]).name,
                                   error=done.stderr.decode("utf-8", "replace").strip()))
    return done


def _schema(engine: Engine) -> str:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    if not schema:
        raise QunlianError(Message("数据库连接的 search_path 中没有已存在的模式（schema）：请先创建它"))
    return schema


def _toc(source: Path) -> list[str]:
    done = subprocess.run([_tool("pg_restore"), "--list", str(source)], capture_output=True, check=False)
    if done.returncode != 0:
        raise QunlianError(Message("%(tool)s 失败：%(error)s", tool="pg_restore",
                                   error=done.stderr.decode("utf-8", "replace").strip()))
    return done.stdout.decode("utf-8", "replace").splitlines()


def _dump_schema(toc: list[str]) -> str | None:
    schemas = {m["schema"] for line in toc if (m := _TOC_TABLE.match(line))}
    if len(schemas) > 1:
        raise QunlianError(Message("备份含多个模式（%(schemas)s）：不是 qunlian backup 生成的", schemas=", ".join(sorted(schemas))))
    return next(iter(schemas), None)


def _dump_revision(source: Path, engine: Engine) -> str | None:
    schema = _dump_schema(_toc(source))
    if schema is None:
        return None
    done = subprocess.run([_tool("pg_restore"), "--data-only", f"--schema={schema}", f"--table={VERSION_TABLE}",
                           "--file=-", str(source)], capture_output=True, check=False)
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and f"{VERSION_TABLE} " in line and i + 1 < len(lines) and lines[i + 1] != "\\.":
            return lines[i + 1].strip()
    return None


def _drops(engine: Engine, schema: str) -> list[str]:
    """DROP statements for every object of the schema (the schema itself stays, with its grants)."""
    q = text("""
        SELECT format('DROP VIEW IF EXISTS %I.%I CASCADE', schemaname, viewname) FROM pg_views WHERE schemaname = :s
        UNION ALL
        SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE', schemaname, tablename) FROM pg_tables WHERE schemaname = :s
        UNION ALL
        SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', schemaname, sequencename) FROM pg_sequences
            WHERE schemaname = :s
        UNION ALL
        SELECT format('DROP FUNCTION IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname,
                      pg_get_function_identity_arguments(p.oid))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s
        UNION ALL
        SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname)
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = :s AND t.typtype IN ('e', 'd', 'r')
    """)
    with engine.connect() as conn:
        return list(conn.execute(q, {"s": schema}).scalars())


def _is_schema_entry(line: str) -> bool:
    return bool(_TOC_SCHEMA.match(line))


def _pg_restore(engine: Engine, source: Path) -> None:
    toc = _toc(source)
    schema, target = _dump_schema(toc), _schema(engine)
    if schema != target:
        raise QunlianError(Message("备份是模式 %(schema)s 的，当前数据库使用模式 %(target)s：请恢复到使用同名模式的数据库",
                                   schema=schema, target=target))
    # the schema itself exists already: replay everything in it but its CREATE SCHEMA
    listing = [line for line in toc if not _is_schema_entry(line)]
    drops = _drops(engine, target)
    engine.dispose()
    uri, env = _libpq(engine)
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False, encoding="utf-8") as f:
        f.write("\n".join(listing) + "\n")
        list_file = f.name
    try:
        with tempfile.TemporaryFile() as script_err, tempfile.TemporaryFile() as psql_err:
            script = subprocess.Popen([_tool("pg_restore"), "--no-owner", "--no-privileges", f"--use-list={list_file}",
                                       "--file=-", str(source)], stdout=subprocess.PIPE, stderr=script_err)
            # one transaction, committed only once pg_restore has written the whole script: a dump that
            # breaks off half-way, or a statement that fails (ON_ERROR_STOP), leaves the store as it was
            psql = subprocess.Popen([_tool("psql"), "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--file=-",
                                     f"--dbname={uri}"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env)
            assert script.stdout is not None and psql.stdin is not None
            try:
                psql.stdin.write(("BEGIN;\nSET client_min_messages = warning;\n" + "".join(f"{d};\n" for d in drops))
                                 .encode("utf-8"))
                shutil.copyfileobj(script.stdout, psql.stdin, 1024 * 1024)
                script.stdout.close()
                if script.wait() == 0:
                    psql.stdin.write(b"\nCOMMIT;\n")
            except BrokenPipeError:  # psql stopped at an error: its message says which
                pass
            finally:
                try:
                    psql.stdin.close()
                except BrokenPipeError:
                    pass
                script.stdout.close()
            script.wait()
            psql.wait()
            script_err.seek(0)
            psql_err.seek(0)
            errors = psql_err.read() or script_err.read()
    finally:
        os.unlink(list_file)
    if script.returncode != 0 or psql.returncode != 0:
        error = errors.decode("utf-8", "replace").strip()
        raise QunlianError(Message("恢复失败，数据库保持原样：%(error)s", error=error))
