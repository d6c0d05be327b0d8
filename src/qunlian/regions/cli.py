"""`qunlian regions …`: the region hierarchy an installation holds (a public contract: scripts rely on
`qunlian regions list --format json` and its keys code, name, level, parent)."""

from __future__ import annotations

import json

import typer

regions_app = typer.Typer(help="地区层级（省、市、县、镇街道、开发区）/ the region hierarchy", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach `qunlian regions` to the main app."""
    app.add_typer(regions_app, name="regions")


def _session():  # noqa: ANN202 - a Session context manager
    from qunlian.platform.db import make_engine, migrate, session_factory

    engine = make_engine()
    migrate(engine)
    return session_factory(engine)()


@regions_app.command("list")
def list_cmd(
    fmt: str = typer.Option("table", "--format", help="table 或 json / table or json"),
) -> None:
    """列出全部地区与镇街道 / list every region and town (code, name, level, parent)."""
    from qunlian.platform.i18n import N_, echo, say
    from qunlian.regions.service import region_listing, root_code

    if fmt not in ("table", "json"):
        echo(N_("--format 只能是 table 或 json"), err=True)
        raise typer.Exit(2)
    with _session() as s:
        rows = region_listing(s)
        root = root_code(s)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        echo(N_("库中还没有地区：请先运行 qunlian init"))
        return
    depth: dict[str | None, int] = {None: -1}
    for r in rows:
        depth[r["code"]] = depth.get(r["parent"], -1) + 1
        mark = "  *" if r["code"] == root else ""
        typer.echo(f"{'  ' * depth[r['code']]}{r['code']:<14} {r['name']:<12} {r['level']}{mark}")
    typer.echo(say(N_("* 本安装的根地区")))
