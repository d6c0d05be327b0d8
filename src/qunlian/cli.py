"""The `qunlian` command. Each capability keeps its own commands in its own module."""

from __future__ import annotations

import sys

import typer

from qunlian.core.errors import QunlianError

app = typer.Typer(
    help="群链 qunlian — 制造业集群与产业链治理平台 / governance platform for manufacturing clusters and chains",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    """Print a user-facing error (no stack trace) and exit."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def info() -> None:
    """显示数据目录与数据库 / show the data directory and database."""
    from qunlian.store.db import describe

    typer.echo(describe())


@app.command()
def init() -> None:
    """建库并载入规划数据 / create or upgrade the store and load the seeds' plan data."""
    from qunlian.plans.loader import load_reference_data
    from qunlian.store.db import describe, make_engine, migrate, transaction

    engine = make_engine()
    migrate(engine)
    with transaction(engine) as session:
        summary = load_reference_data(session, actor="cli")
    typer.echo(describe())
    typer.echo(summary)


@app.command("check-uscc")
def check_uscc_cmd(codes: list[str] = typer.Argument(..., help="统一社会信用代码，可多个")) -> None:
    """校验统一社会信用代码 (GB 32100-2015) / validate USCCs; exit 1 if any is invalid."""
    from qunlian.core.uscc import check_uscc

    exceptions = _uscc_exceptions_if_store()
    results = [check_uscc(c, exceptions) for c in codes]
    for r in results:
        typer.echo(str(r))
    if not all(r.valid for r in results):
        raise typer.Exit(1)


def _uscc_exceptions_if_store() -> set[str]:
    """The audited exception list, when a store exists; checking codes needs no store."""
    from sqlalchemy import select

    from qunlian.store.db import is_initialised, make_engine, session_factory
    from qunlian.store.models import UsccException

    try:
        engine = make_engine()
        if not is_initialised(engine):
            return set()
        with session_factory(engine)() as s:
            return set(s.scalars(select(UsccException.code)))
    except Exception:  # a missing or unreachable store must not stop a pure check
        return set()


def _register() -> None:
    from qunlian.analytics.muni.cli import register as register_muni
    from qunlian.analytics.targets.cli import register as register_targets
    from qunlian.demo.cli import register as register_demo
    from qunlian.io.cli import register as register_io
    from qunlian.plans.cli import register as register_plans
    from qunlian.web.cli import register as register_web

    for register in (register_plans, register_io, register_demo, register_muni, register_targets, register_web):
        register(app)


_register()


def main() -> None:  # pragma: no cover - entry point
    try:
        app()
    except QunlianError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
