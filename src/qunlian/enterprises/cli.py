"""`qunlian import …` and `qunlian export …`.

Other capabilities may add their own import/export commands to ``import_app`` / ``export_app``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from qunlian.platform.numbers import year_option

from qunlian.platform.options import region_option

import_app = typer.Typer(help="导入数据（校验后整批写入，有错则全部不写）/ import data, all or nothing",
                         no_args_is_help=True)
export_app = typer.Typer(help="导出数据 / export data", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach this capability's commands to the main `qunlian` app."""
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.command("check-uscc")(check_uscc_cmd)


def _engine():  # noqa: ANN202 - sqlalchemy Engine
    from qunlian.platform.db import describe, is_initialised, make_engine
    from qunlian.platform.i18n import Message, N_, say

    engine = make_engine()
    try:
        ready = is_initialised(engine)
    except Exception as exc:  # unreachable server, bad URL …
        typer.echo(say(Message("无法连接数据库：%(error)s", error=": ".join((type(exc).__name__, str(exc))))) + "\n" + describe(),
                   err=True)
        raise typer.Exit(2) from None
    if not ready:
        typer.echo(say(N_("数据库尚未初始化：请先运行 `qunlian init`")) + "\n" + describe(), err=True)
        raise typer.Exit(2)
    return engine


def _parse_units(values: list[str]) -> dict[str, str]:
    from qunlian.platform.i18n import Message, echo

    out: dict[str, str] = {}
    for v in values:
        col, sep, unit = v.partition("=")
        if not sep or not col.strip() or not unit.strip():
            echo(Message("--unit 的写法应为 列=单位，如 --unit tax_wan=元（收到 %(value)s）", value=repr(v)), err=True)
            raise typer.Exit(2)
        out[col.strip()] = unit.strip()
    return out


def _progress(stage: str, done: int, total: int) -> None:
    if total >= 2000:
        label = {"read": "读取", "validate": "校验", "write": "写入"}.get(stage, stage)
        typer.echo(f"  {label} {stage}: {done}/{total}", err=True)


@import_app.command("enterprise-years")
def import_enterprise_years_cmd(
    file: Path = typer.Argument(..., help="企业年度数据文件 .xlsx 或 .csv"),
    sheet: str | None = typer.Option(None, "--sheet", help="工作表名称（默认第一个）/ sheet name"),
    unit: list[str] = typer.Option([], "--unit", help="声明列的单位，如 tax_wan=元，可重复 / COLUMN=UNIT"),
    source: str = typer.Option("", "--source", help="数据来源，如 税务局 / data source"),
    check: bool = typer.Option(False, "--check", help="只校验，不写入 / validate only"),
    region: str | None = region_option(),
    report: Path | None = typer.Option(None, "--report",
                                       help="有问题时写出校验报告 .xlsx（问题单元格标红）/ on problems, write a validation report"),
    changes: bool = typer.Option(False, "--changes", help="列出每个改动的数值（旧 → 新）/ list every changed value"),
) -> None:
    """导入企业年度数据 / import enterprise-years (uscc, year, figures) from .xlsx or .csv."""
    from qunlian.core.errors import ValidationFailed
    from qunlian.enterprises.enterprise_years import import_enterprise_years
    from qunlian.platform.i18n import Message, echo, explain, say

    units = _parse_units(unit)
    engine = _engine()
    try:
        result = import_enterprise_years(engine, file, units=units or None, source=source, sheet=sheet,
                                         progress=_progress, dry_run=check, region=region)
    except ValidationFailed as exc:
        echo(Message("%(summary)s（共 %(n)s 个问题）：", summary=exc.summary, n=len(exc.problems)), err=True)
        for p in exc.problems:
            typer.echo(explain(p).replace("\n", " "), err=True)
        if report is not None:
            from qunlian.enterprises.enterprise_years import write_report

            write_report(file, exc.problems, report, sheet=sheet)
            echo(Message("校验报告已写到 %(path)s：改好标红的单元格后重新导入", path=str(report)), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for note in result.notes:
        typer.echo(f"注意 note: {say(note)}")
    if result.units:
        typer.echo("单位 units: " + "，".join(f"{k}={v}" for k, v in result.units.items()))
    typer.echo(say(result.summary()))
    if changes:
        for ch in result.changes:
            where = f"{ch.uscc} {ch.name} {ch.year or ''}".strip()
            typer.echo(f"  {where} {ch.field}: {ch.old!r} → {ch.new!r}")
    if result.batch_id is not None:
        typer.echo(f"batch_id={result.batch_id} rows={result.rows}")


@export_app.command("enterprise-years")
def export_enterprise_years_cmd(
    year: int = year_option(..., "--year", help="年度 / year"),
    output: Path = typer.Option(..., "--output", "-o", help="输出文件 .csv 或 .xlsx / output file"),
    region: str | None = region_option(),
    headers: str = typer.Option("en", "--headers",
                                help="表头：en 标准英文列名（默认），zh 中文列名带单位 / en: canonical names, zh: Chinese"),
) -> None:
    """导出某年度的企业年度数据（标准列名，金额万元）/ export one year's enterprise-years."""
    from qunlian.enterprises.enterprise_years import export_enterprise_years

    from qunlian.core.errors import QunlianError
    from qunlian.platform.i18n import Message, echo, explain

    if headers not in ("en", "zh"):
        echo(Message("--headers 只能是 en 或 zh（收到 %(value)s）", value=repr(headers)), err=True)
        raise typer.Exit(2)
    engine = _engine()
    try:
        n = export_enterprise_years(engine, year, output, region=region, headers=headers)
    except QunlianError as exc:
        typer.echo(explain(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    echo(Message("已导出 %(year)s 年 %(n)s 行到 %(output)s", year=year, n=n, output=str(output)))


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

    from qunlian.platform.db import is_initialised, make_engine, session_factory
    from qunlian.enterprises.models import UsccException

    try:
        engine = make_engine()
        if not is_initialised(engine):
            return set()
        with session_factory(engine)() as s:
            return set(s.scalars(select(UsccException.code)))
    except Exception:  # a missing or unreachable store must not stop a pure check
        return set()
