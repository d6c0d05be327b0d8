"""`qunlian audit verify|list` and `qunlian backup|restore`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from qunlian.platform.options import by_option, cli_actor

from qunlian.platform.numbers import MAX_ID, NumberField, number_option

from qunlian.core.messages import N_, Message

audit_app = typer.Typer(help="审计日志：核对哈希链、查询 / the audit log: verify its hash chain, list its lines",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach `qunlian audit`, `qunlian backup` and `qunlian restore` to the main app."""
    app.add_typer(audit_app, name="audit")
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)


def _fail(message, code: int = 2) -> None:
    from qunlian.platform.i18n import echo

    echo(message, err=True)
    raise typer.Exit(code)


def _engine(upgrade: bool = True):
    from qunlian.platform.db import is_initialised, make_engine, migrate

    engine = make_engine()
    if not is_initialised(engine):
        _fail(N_("数据库尚未初始化：请先运行 qunlian init"))
    if upgrade:
        migrate(engine)
    return engine


@audit_app.command("verify")
def verify_cmd(
    anchor: str = typer.Option(None, "--anchor", help="早先记下的链头哈希（如备份时打印的），须仍在链中 / a head hash "
                                                     "noted earlier (e.g. printed by a backup) that must still be in the chain"),
) -> None:
    """逐条核对审计日志的哈希链 / walk the audit log's hash chain: "ok N entries" (exit 0) or the first broken line (exit 1)."""
    from qunlian.audit.service import chain_status
    from qunlian.platform.db import session_factory
    from qunlian.platform.i18n import echo

    with session_factory(_engine())() as session:
        report = chain_status(session, anchor=anchor)
    if not report.ok:
        echo(report.message(), err=True)
        raise typer.Exit(1)
    typer.echo(f"ok {report.entries} entries")
    if report.head_hash:
        typer.echo(f"head #{report.head_id} {report.head_hash}")


@audit_app.command("list")
def list_cmd(
    actor: str = typer.Option("", "--actor", help="操作人（用户名，命令行为 cli）/ who (a username; cli for commands)"),
    action: str = typer.Option("", "--action", help="操作，或其前缀（targets.task 含 targets.task.close）/ an action or its dotted prefix"),
    entity: str = typer.Option("", "--entity", help="对象类型，如 user、muni_run / the entity, e.g. user, muni_run"),
    entity_id: str = typer.Option("", "--entity-id", help="对象编号 / the entity's id"),
    origin: str = typer.Option("", "--origin", help="来源：客户端地址或 cli / from where: a client address or cli"),
    since: str = typer.Option("", "--since", help="起始（含），YYYY-MM-DD 或 ISO 时间，UTC / from (inclusive), a date or ISO time, UTC"),
    until: str = typer.Option("", "--until", help="截止（含），YYYY-MM-DD 或 ISO 时间，UTC / until (inclusive)"),
    limit: int = number_option(50, "--limit", field=NumberField(N_("条数"), minimum=0, maximum=MAX_ID, integer=True), help="最多几条，最新的在前；0 为全部 / at most this many, newest first; 0 for all"),
    fmt: str = typer.Option("table", "--format", help="table 或 json / table or json"),
) -> None:
    """查询审计日志 / list audit lines: who, when (UTC), what, which entity, from where, detail."""
    from qunlian.audit.service import Filters, latest, parse_time
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import session_factory

    if fmt not in ("table", "json"):
        _fail(N_("--format 只能是 table 或 json"))
    try:
        filters = Filters(actor=actor, action=action, entity=entity, entity_id=entity_id, origin=origin,
                          since=parse_time(since), until=parse_time(until, end=True))
    except QunlianError as exc:
        _fail(exc)
    with session_factory(_engine())() as session:
        rows = latest(session, filters, limit=limit or None)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        detail = json.dumps(r["detail"], ensure_ascii=False, sort_keys=True) if r["detail"] else ""
        detail = detail if len(detail) <= 100 else detail[:99] + "…"
        what = f"{r['entity']}:{r['entity_id']}" if r["entity_id"] else r["entity"]
        typer.echo(f"{r['id']:>6}  {r['at'][:19].replace('T', ' ')}  {r['actor']:<12} {r['action']:<28} "
                   f"{what:<24} {r['origin'] or '-':<15} {detail}".rstrip())


# --------------------------------------------------------------------------- backup and restore


def _default_backup_path(kind: str) -> Path:
    from qunlian.platform.config import load_settings

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(load_settings().data_dir) / "backups" / f"qunlian-{stamp}.{'sqlite' if kind == 'sqlite' else 'dump'}"


def backup_cmd(
    path: Annotated[Path | None, typer.Argument(
        help="备份文件（缺省：数据目录/backups/qunlian-日期-时间.sqlite 或 .dump）/ the backup file "
             "(default: <data dir>/backups/qunlian-<date>-<time>.sqlite|.dump)")] = None,
    force: bool = typer.Option(False, "--force", help="覆盖已存在的文件 / overwrite an existing file"),
    by: str = by_option("操作人，记入审计日志 / who, for the audit log（默认当前系统用户）"),
) -> None:
    """备份数据库到一个文件（SQLite 在线备份；PostgreSQL 用 pg_dump）/ back the store up into one file (SQLite's online backup; pg_dump for PostgreSQL)."""
    from qunlian.core.errors import QunlianError
    from qunlian.platform.backup import backup
    from qunlian.platform.i18n import echo

    engine = _engine(upgrade=False)
    target = path or _default_backup_path(engine.dialect.name)
    try:
        result = backup(engine, target, actor=cli_actor(by), overwrite=force)
    except QunlianError as exc:
        _fail(exc)
    echo(Message("已备份到 %(path)s（%(size)s 字节）", path=str(result.path), size=result.size))
    typer.echo(f"sha256 {result.sha256}")
    if result.chain is not None:
        if not result.chain.ok:
            echo(result.chain.message(), err=True)
            raise typer.Exit(1)
        typer.echo(f"ok {result.chain.entries} entries")
        typer.echo(f"head #{result.chain.head_id} {result.chain.head_hash}")


def restore_cmd(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="qunlian backup 生成的文件 / a file made by qunlian backup")],
    force: bool = typer.Option(False, "--force", help="当前数据库已有数据时也恢复（整体替换）/ restore over a store that holds data (replaces it all)"),
    by: str = by_option("操作人，记入审计日志 / who, for the audit log（默认当前系统用户）"),
) -> None:
    """从备份恢复数据库，并核对审计日志链 / restore the store from a backup, then verify the audit chain."""
    from qunlian.core.errors import QunlianError
    from qunlian.platform.backup import restore
    from qunlian.platform.db import make_engine
    from qunlian.platform.i18n import echo

    try:
        result = restore(make_engine(), path, force=force, actor=cli_actor(by))
    except QunlianError as exc:
        _fail(exc)
    echo(Message("已从 %(path)s 恢复：%(tables)s 张表，%(rows)s 行", path=str(result.path), tables=len(result.rows),
                 rows=sum(result.rows.values())))
    if result.revision != result.revision_before:
        echo(Message("数据库结构已从 %(old)s 升级到 %(new)s", old=result.revision_before, new=result.revision))
    echo(result.chain.message(), err=not result.chain.ok)
    if not result.chain.ok:
        raise typer.Exit(1)
    typer.echo(f"ok {result.chain.entries} entries")
