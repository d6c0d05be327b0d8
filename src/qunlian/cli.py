"""The `qunlian` command: `info`, `init`, `serve` and `db`, plus each installed capability's commands
(mounted from the registry, `qunlian.installed`)."""

from __future__ import annotations

import sys

import typer

from qunlian.platform.options import cli_actor

from qunlian.platform.numbers import NumberField, number_option

from qunlian.core.errors import QunlianError
from qunlian.core.messages import N_

app = typer.Typer(
    help="群链 qunlian — 制造业集群与产业链治理平台 / governance platform for manufacturing clusters and chains",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    """Print a user-facing error (no stack trace) in the CLI's language and exit."""
    from qunlian.platform.i18n import say

    typer.echo(say(message), err=True)
    raise typer.Exit(code)


@app.command()
def info() -> None:
    """显示数据目录与数据库 / show the data directory and database."""
    from qunlian.platform.db import describe

    typer.echo(describe())


@app.command()
def init() -> None:
    """建库并载入规划数据 / create or upgrade the store and load the seeds' plan data."""
    from qunlian.installed import CAPABILITIES
    from qunlian.platform.db import describe, make_engine, migrate, transaction
    from qunlian.platform.registry import resolve

    engine = make_engine()
    migrate(engine)
    with transaction(engine) as session:
        summaries = [resolve(cap.reference_data)(session, actor=cli_actor()) for cap in CAPABILITIES if cap.reference_data]
    typer.echo(describe())
    from qunlian.platform.i18n import echo

    for summary in summaries:
        echo(summary)


def _initialised_engine():
    from qunlian.platform.db import is_initialised, make_engine

    engine = make_engine()
    if not is_initialised(engine):
        fail(N_("数据库尚未初始化：请先运行 qunlian init"))
    return engine


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / address to listen on"),
    port: int = number_option(8000, "--port", field=NumberField(N_("端口"), minimum=1, maximum=65535, integer=True), help="端口 / port"),
    workers: int = number_option(1, "--workers", field=NumberField(N_("进程数"), minimum=1, maximum=256, integer=True), help="进程数（登录限流计数存于数据库，各进程共用）/ worker processes (login throttling is shared through the store)"),
) -> None:
    """启动网页与接口服务 / serve the web pages and the JSON API (uvicorn)."""
    import uvicorn

    from qunlian.accounts.service import user_count
    from qunlian.platform.i18n import say
    from qunlian.platform.db import describe, session_factory
    from qunlian.app import create_app

    engine = _initialised_engine()
    with session_factory(engine)() as session:
        if user_count(session) == 0:
            typer.echo(say(N_("提示：还没有用户。先创建管理员：")) + "\n"
                       "  qunlian users add --username admin --password '…' --role admin")
    typer.echo(describe())
    typer.echo(f"群链 qunlian: http://{host}:{port}/  (API docs: /api/docs)")
    # forwarded headers are believed only from the proxies in QUNLIAN_TRUSTED_PROXIES, by the app itself
    # (qunlian.platform.web.security.TrustedProxyHeaders); uvicorn's own handling trusts 127.0.0.1
    if workers > 1:
        uvicorn.run("qunlian.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=False)
    else:
        uvicorn.run(create_app(engine), host=host, port=port, proxy_headers=False)



db_app = typer.Typer(help="数据库结构（开发者）/ schema migrations (for developers)", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """升级数据库结构到最新 / upgrade the schema to the newest migration (init does this too)."""
    from qunlian.platform.db import make_engine, migrate

    migrate(make_engine())
    typer.echo("ok")


@db_app.command("revision")
def db_revision(message: str = typer.Argument(..., help="迁移说明 / what the migration does")) -> None:
    """按已安装能力的表生成新迁移 / autogenerate a migration from the installed capabilities' tables."""
    from alembic import command

    from qunlian.installed import metadata
    from qunlian.platform.db import alembic_config, make_engine

    command.revision(alembic_config(make_engine(), metadata()), message=message, autogenerate=True)


def _register() -> None:
    """Mount every installed capability's commands (qunlian.installed)."""
    from qunlian.installed import CAPABILITIES, sources
    from qunlian.platform.registry import resolve
    from qunlian.platform.sources import install

    for cap in CAPABILITIES:
        for ref in cap.cli:
            resolve(ref)(app)
    install(sources())


_register()


def main() -> None:  # pragma: no cover - entry point
    try:
        app()
    except QunlianError as exc:
        from qunlian.platform.i18n import explain

        typer.echo(explain(exc), err=True)  # in QUNLIAN_LANG's language, Chinese by default
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
