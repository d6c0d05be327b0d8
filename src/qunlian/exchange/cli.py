"""`qunlian templates --output DIR`: the import template of every data source."""

from __future__ import annotations

from pathlib import Path

import typer

from qunlian.platform.options import region_option


def register(app: typer.Typer) -> None:
    app.command("templates")(templates_cmd)


def templates_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="输出目录 / folder the templates are written to"),
    source: list[str] = typer.Option([], "--source", help="只生成这些数据来源（可重复，如 tax）/ only these sources"),
    region: str | None = region_option(),
) -> None:
    """生成各数据来源的导入模板（.xlsx，含下拉选项和填写说明）/ write every data source's import template."""
    from qunlian.exchange.templates import load_choices, write_templates
    from qunlian.platform.sources import installed_sources
    from qunlian.platform.db import is_initialised, make_engine, session_factory
    from qunlian.platform.i18n import N_, Message, echo, explain
    from qunlian.regions.service import RegionDataError

    sources = installed_sources()
    if source:
        known = {s.key: s for s in sources}
        unknown = [k for k in source if k not in known]
        if unknown:
            echo(Message("没有数据来源 %(keys)s；可用：%(known)s", keys="、".join(unknown), known="、".join(known)), err=True)
            raise typer.Exit(2)
        sources = [known[k] for k in source]
    if output.exists() and not output.is_dir():
        echo(Message("输出位置不是目录：%(path)s", path=str(output)), err=True)
        raise typer.Exit(2)
    engine = make_engine()
    try:
        if not is_initialised(engine):
            echo(N_("数据库尚未初始化：请先运行 `qunlian init`（模板的下拉列表取自库中的镇街道和园区）"), err=True)
            raise typer.Exit(2)
        with session_factory(engine)() as session:
            try:
                choices = load_choices(session, region)
            except RegionDataError as exc:  # an unknown --region: the message names the choices
                for problem in exc.problems:
                    typer.echo(explain(problem), err=True)
                raise typer.Exit(2) from None
        written = write_templates(sources, choices, output)
    finally:
        engine.dispose()
    for path in written:
        typer.echo(str(path))
    echo(Message("已生成 %(n)s 个导入模板到 %(dir)s", n=len(written), dir=str(output)))
