"""`qunlian regions …`: the region hierarchy an installation holds (a public contract: scripts rely on
`qunlian regions list --format json` and its keys code, name, level, parent)."""

from __future__ import annotations

import json

import typer

from qunlian.platform.options import cli_actor

regions_app = typer.Typer(help="地区层级（省、市、县、镇街道、开发区）/ the region hierarchy", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach `qunlian regions` to the main app."""
    app.add_typer(regions_app, name="regions")


def _session():
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


# --------------------------------------------------------------------------- departments and people

_REGION_HELP = ("地区代码、名称或别名（默认本安装的根地区），列出该地区及其下级地区 / region code, name or alias "
                "(default: the installation's root region); lists it and the regions below it")


def _check_format(fmt: str) -> None:
    from qunlian.platform.i18n import N_, echo

    if fmt not in ("table", "json"):
        echo(N_("--format 只能是 table 或 json"), err=True)
        raise typer.Exit(2)


def _fail(exc: Exception) -> None:
    from qunlian.platform.i18n import echo

    echo(exc, err=True)  # the reason and the fix, in QUNLIAN_LANG's language
    raise typer.Exit(2)


def _list_rows(region: str | None, fmt: str, lister_name: str, empty: str, line) -> None:  # noqa: ANN001
    """Shared body of `departments` and `people`: the region's scope, then JSON or one line per row."""
    from qunlian.platform.i18n import echo
    from qunlian.regions import service

    _check_format(fmt)
    with _session() as s:
        try:
            scope = service.region_scope(s, region)
        except service.RegionDataError as exc:
            _fail(exc)
        rows = getattr(service, lister_name)(s, scope.ids)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        echo(empty)
    else:
        for r in rows:
            typer.echo(line(r))


@regions_app.command("departments")
def departments_cmd(
    region: str | None = typer.Option(None, "--region", metavar="CODE", help=_REGION_HELP),
    fmt: str = typer.Option("table", "--format", help="table 或 json / table or json"),
) -> None:
    """列出部门 / list the departments of a region and the regions below it (code, name, full name)."""
    from qunlian.platform.i18n import N_

    _list_rows(region, fmt, "list_departments", N_("该地区还没有部门：请先运行 qunlian init"),
               lambda r: f"{r['region_code']:<8} {r['code']:<14} {r['name']:<16} {r['full_name']}")


@regions_app.command("people")
def people_cmd(
    region: str | None = typer.Option(None, "--region", metavar="CODE", help=_REGION_HELP),
    fmt: str = typer.Option("table", "--format", help="table 或 json / table or json"),
) -> None:
    """列出人员 / list the people of a region and the regions below it (name, title, department)."""
    from qunlian.platform.i18n import N_

    _list_rows(region, fmt, "list_people", N_("该地区还没有人员：用 qunlian regions add-person 新增"),
               lambda r: f"{r['id']:>4} {r['region_code']:<8} {r['name']:<8} {r['title']:<12} "
                         f"{r['department'] or '-':<16} {r['phone'] or ''}")


@regions_app.command("add-person")
def add_person_cmd(
    region: str | None = typer.Option(None, "--region", metavar="CODE",
                                      help="地区代码、名称或别名（默认本安装的根地区）/ region code, name or alias "
                                           "(default: the installation's root region)"),
    name: str = typer.Option(..., "--name", help="姓名 / name"),
    title: str = typer.Option("", "--title", help="职务，如 副市长 / title, e.g. 副市长"),
    department: str | None = typer.Option(None, "--department",
                                          help="部门代码、名称或别名（在该地区及其上级地区中查找）/ department code, "
                                               "name or alias (looked up in the region, then its ancestors)"),
    phone: str | None = typer.Option(None, "--phone", help="电话 / phone"),
) -> None:
    """新增人员 / add a person to a region, optionally in one of its departments."""
    from qunlian.platform.db import audit, make_engine, migrate, transaction
    from qunlian.platform.i18n import Message, echo
    from qunlian.regions.service import RegionDataError, add_person, root_code

    engine = make_engine()
    migrate(engine)
    try:
        with transaction(engine) as s:
            person = add_person(s, region or root_code(s), name, title=title, department=department, phone=phone)
            dept = person.department.name if person.department else None
            audit(s, cli_actor(), "regions.add_person", entity="people", entity_id=person.id, name=person.name,
                  region=person.region.code, department=dept)
            pid, where = person.id, person.region.name
    except RegionDataError as exc:
        _fail(exc)
    if dept:
        echo(Message("已新增人员 %(name)s（编号 %(id)s，%(region)s，%(department)s）", name=name.strip(), id=pid,
                     region=where, department=dept))
    else:
        echo(Message("已新增人员 %(name)s（编号 %(id)s，%(region)s）", name=name.strip(), id=pid, region=where))
