"""`qunlian plans list`, `qunlian plans show ID` and `qunlian plans notes ID`: the plans loaded into the
store and the data notes (数据说明) on them."""

from __future__ import annotations

import enum
import json
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.platform.i18n import N_, Message, say

plans_app = typer.Typer(
    help="规划与目标 / plans and their targets (from the seed documents)",
    no_args_is_help=True,
)


class Format(str, enum.Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    """Attach this capability's commands to the main `qunlian` app."""
    app.add_typer(plans_app, name="plans")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(say(message), err=True)
    raise typer.Exit(code)


@contextmanager
def _store() -> Iterator[Session]:
    from qunlian.platform.db import describe, is_initialised, make_engine, session_factory

    engine = make_engine()
    try:
        if not is_initialised(engine):
            _fail(say(N_("数据库尚未初始化，请先运行 `qunlian init`")) + "\n" + describe())
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@plans_app.command("list")
def list_cmd(format: Format = typer.Option(Format.table, "--format", "-f", help="table | json")) -> None:
    """列出已载入的规划 / list the plans in the store."""
    from qunlian.targets.models import Indicator, Plan, PlanTask, Project, Target

    with _store() as s:
        rows = []
        for p in s.scalars(select(Plan).order_by(Plan.level, Plan.start_year, Plan.code)):
            n_ind = s.scalar(select(func.count(Indicator.id)).where(Indicator.plan_id == p.id))
            n_tgt = s.scalar(select(func.count(Target.id)).join(Indicator).where(Indicator.plan_id == p.id))
            n_task = s.scalar(select(func.count(PlanTask.id)).where(PlanTask.plan_id == p.id))
            n_proj = s.scalar(select(func.count(Project.id)).where(Project.plan_id == p.id))
            rows.append(
                {
                    "id": p.code,
                    "level": p.level,
                    "region": p.region,
                    "period": f"{p.start_year}–{p.end_year}",
                    "title": p.title,
                    "indicators": n_ind,
                    "targets": n_tgt,
                    "tasks": n_task,
                    "projects": n_proj,
                }
            )
    if not rows:
        _fail(N_("库中还没有规划，请运行 `qunlian init`"))
    if format is Format.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    head = ["ID", "层级 level", "地区 region", "期限 period", "指标", "目标", "任务", "项目", "标题 title"]
    body = [
        [
            r["id"],
            r["level"],
            r["region"],
            r["period"],
            r["indicators"],
            r["targets"],
            r["tasks"],
            r["projects"],
            r["title"],
        ]
        for r in rows
    ]
    typer.echo(render_table(head, body))


@plans_app.command("show")
def show_cmd(
    plan_id: str = typer.Argument(..., metavar="ID", help="规划编号，如 pinghu-mfg-14th（见 `qunlian plans list`）"),
    format: Format = typer.Option(Format.table, "--format", "-f", help="table | json"),
) -> None:
    """显示一个规划的指标、目标、任务和项目 / show one plan's indicators, targets, tasks and projects."""
    from qunlian.targets.plans.loader import plan_as_dict
    from qunlian.targets.models import Plan

    with _store() as s:
        plan = s.scalar(select(Plan).where(Plan.code == plan_id))
        if plan is None:
            known = list(s.scalars(select(Plan.code).order_by(Plan.code)))
            hint = "、".join(known) if known else Message("（库中没有规划，请运行 `qunlian init`）")
            _fail(Message("没有编号为 %(id)s 的规划。已有：%(known)s", id=repr(plan_id), known=hint))
        data = plan_as_dict(s, plan)
    if format is Format.json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo(render_plan(data))


class NotesFormat(str, enum.Enum):
    text = "text"
    json = "json"


#: what `qunlian plans notes --format json` prints of each note (the contract other systems read)
NOTE_KEYS = ("id", "plan", "item_kind", "item_key", "kind", "text_zh", "text_en", "sources")


@plans_app.command("notes")
def notes_cmd(
    plan_id: str = typer.Argument(..., metavar="PLAN_CODE", help="规划编号，如 pinghu-mfg-14th（见 `qunlian plans list`）"),
    format: NotesFormat = typer.Option(NotesFormat.text, "--format", "-f", help="text | json"),
) -> None:
    """列出一个规划的数据说明（原文矛盾、存疑读法） / list a plan's data notes (contradictions, doubtful readings).

    The notes are shipped with the plan data: no store is needed."""
    from qunlian.platform.i18n import cli_language
    from qunlian.targets.plans.loader import plan_codes
    from qunlian.targets.service import NOTE_ITEM_KINDS, NOTE_KINDS, notes_for

    codes = plan_codes()
    if plan_id not in codes:
        _fail(Message("没有编号为 %(id)s 的规划。已有：%(known)s", id=repr(plan_id), known="、".join(codes)))
    notes = notes_for(plan_id)
    if format is NotesFormat.json:
        typer.echo(json.dumps([{k: n[k] for k in NOTE_KEYS} for n in notes], ensure_ascii=False, indent=2))
        return
    if not notes:
        typer.echo(say(Message("规划 %(id)s 没有数据说明", id=plan_id)))
        return
    en = cli_language() == "en"
    out = [say(Message("%(id)s 的数据说明（%(n)s 条）", id=plan_id, n=len(notes)))]
    for n in notes:
        out += [
            "",
            (f"[{n['id']}] {say(NOTE_KINDS[n['kind']])} · {say(NOTE_ITEM_KINDS[n['item_kind']])} "
             f"{n['item_key']}：{n['item_label']}"),
            f"  {n['text_en'] if en else n['text_zh']}",
        ]
        out += [f"  - {s['seed']} {s['section']}：“{s['quote']}”" for s in n["sources"]]
    typer.echo("\n".join(out))


# --------------------------------------------------------------------------- text rendering


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def render_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned plain-text table; CJK characters count as two columns."""
    cells = [[str(c) for c in head]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(head))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_plan(d: dict[str, Any]) -> str:
    out = [
        f"{d['title']}  [{d['id']}]",
        f"发布 issuer: {d['issuer']}   文号: {d['doc_number'] or '—'}   日期: {d['issued_on'] or '—'}   "
        f"期限 period: {d['period']['start_year']}–{d['period']['end_year']}",
        f"来源 source: {d['source']}",
    ]
    if d["notes"]:
        out.append(f"说明 notes: {d['notes']}")
    tables: dict[str, list[dict[str, Any]]] = {}
    for ind in d["indicators"]:
        tables.setdefault(ind["table"], []).append(ind)
    for table, inds in tables.items():
        years = sorted({y for i in inds for y in i["targets"]})
        head = (
            ["序号", "类别", "指标 indicator", "单位", "属性", "基期 baseline"]
            + [f"{y}年" for y in years]
            + ["责任单位"]
        )
        rows = []
        for i in inds:
            b = i["baseline"]
            base = f"{b['text']}（{b['year']}）" if b["text"] is not None else ""
            rows.append(
                [i["seq"], i["category"], i["name"], i["unit"], i["nature"] or "", base]
                + [i["targets"].get(y, {}).get("text", "") for y in years]
                + ["、".join(i["responsible_units"])]
            )
        out += ["", f"== {table} ==", render_table(head, rows)]
        with_towns = [i for i in inds if i["town_targets"]]
        if with_towns:
            towns: list[str] = []
            for i in with_towns:
                towns += [t for t in i["town_targets"] if t not in towns]
            years_t = sorted({y for i in with_towns for v in i["town_targets"].values() for y in v})
            for y in years_t:
                head = ["序号", "指标", "单位"] + towns + ["全市"]
                rows = [
                    [i["seq"], i["name"], i["unit"]]
                    + [i["town_targets"].get(t, {}).get(y, {}).get("text", "-") for t in towns]
                    + [i["targets"].get(y, {}).get("text", "")]
                    for i in inds
                ]
                out += ["", f'== {table} 镇(街道)分解 {y}年 ("-" = 无目标 no target) ==', render_table(head, rows)]
    if d.get("tasks"):
        rows = [[t["seq"], t["heading"], t["lead_unit"], "、".join(t["co_units"]), t["status"]] for t in d["tasks"]]
        out += [
            "",
            f"== 任务 tasks ({len(rows)}) ==",
            render_table(["序号", "重点任务", "牵头单位", "配合单位", "状态"], rows),
        ]
    if d.get("projects"):
        total = sum(p["total_investment_yi"] or 0 for p in d["projects"])
        rows = [[p["seq"], p["industry"], p["name"], p["investor"], p["total_investment_yi"]] for p in d["projects"]]
        out += [
            "",
            f"== 重点项目 projects ({len(rows)}，总投资合计 {total:g} 亿元) ==",
            render_table(["序号", "产业", "项目名称", "投资方", "总投资(亿元)"], rows),
        ]
    return "\n".join(out)
