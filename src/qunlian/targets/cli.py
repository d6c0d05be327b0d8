"""`qunlian targets …`: plan-target monitoring, reconciliation, alignment, actuals and the task ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from qunlian.platform.options import by_option, cli_actor

from qunlian.platform.numbers import NumberField, id_option, number_option, year_option
from sqlalchemy.orm import Session

from qunlian.core.errors import QunlianError
from qunlian.platform.i18n import N_, Message, echo, explain, say  # in QUNLIAN_LANG's language, Chinese by default

targets_app = typer.Typer(help="规划目标监测 / plan targets: status, reconciliation, alignment, actuals, tasks",
                          no_args_is_help=True)
actual_app = typer.Typer(help="实际值录入 / enter actuals", no_args_is_help=True)
task_app = typer.Typer(help="任务台账 / the task ledger", no_args_is_help=True)
evidence_app = typer.Typer(help="佐证材料（文件） / evidence files of a task", no_args_is_help=True)
targets_app.add_typer(actual_app, name="actual")
targets_app.add_typer(task_app, name="task")
task_app.add_typer(evidence_app, name="evidence")

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    """Attach `targets` to the main `qunlian` app."""
    app.add_typer(targets_app, name="targets")


@contextmanager
def _session(write: bool = False) -> Iterator[Session]:
    from qunlian.platform.db import is_initialised, make_engine, session_factory, transaction

    engine = make_engine()
    if not is_initialised(engine):
        _fail(N_("数据库尚未初始化，先运行 qunlian init"))
    try:
        if write:
            with transaction(engine) as s:
                yield s
        else:
            with session_factory(engine)() as s:
                yield s
    except QunlianError as exc:
        _fail(explain(exc))
    finally:
        engine.dispose()


def _fail(message: str, code: int = 2) -> None:
    typer.echo(say(message), err=True)
    raise typer.Exit(code)


def _num(x: Any, nd: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{nd}f}".rstrip("0").rstrip(".")
    return str(x)


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _emit(rows: list[dict[str, Any]], fmt: str, columns: list[tuple[str, str]]) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if fmt == "csv":
        from qunlian.platform.tabular_out import csv_text

        body = ([json.dumps(r[k], ensure_ascii=False) if isinstance(r.get(k), (dict, list)) else r.get(k)
                 for k, _ in columns] for r in rows)
        sys.stdout.write(csv_text([k for k, _ in columns], body, bom=False))
        return
    # table: header labels, then aligned text (east-asian width counted as 2)
    def w(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)

    cells = [[label for _, label in columns]]
    for r in rows:
        cells.append([_cell(k, r.get(k)) for k, _ in columns])
    widths = [max(w(row[i]) for row in cells) for i in range(len(columns))]
    for n, row in enumerate(cells):
        typer.echo("  ".join(c + " " * (widths[i] - w(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * x for x in widths))


def _cell(key: str, v: Any) -> str:
    if key in ("completion", "progress", "time_elapsed"):
        return _pct(v)
    if isinstance(v, list):
        return "、".join(map(str, v))
    return _num(v)


def _reasons(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """The table shows each reason in the CLI's language (QUNLIAN_LANG); JSON and CSV keep the
    published fields: ``reason`` (Chinese) and, in JSON, ``reason_en``, both from the catalogue."""
    from qunlian.platform import i18n

    if fmt == "table":
        lang = i18n.cli_language()
        return [{**r, "reason": i18n.translate(r.get("reason"), lang)} for r in rows]
    return i18n.with_translation(rows)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        _fail(f"--format 只能是 {'|'.join(FORMATS)}")


# --------------------------------------------------------------------------- status and friends


@targets_app.command("status")
def status_cmd(
    plan: str = typer.Option(..., "--plan", help="规划代码，如 pinghu-clusters-2023-2027"),
    as_of: str = typer.Option(None, "--as-of", help="截至期间：2023、2023Q1 或 2023-03；缺省为最新实际值"),
    town: str = typer.Option(None, "--town", help="镇街道（只看分解到该镇的目标）"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
    rules: Path = typer.Option(None, "--rules", help="另一份红黄绿灯规则 YAML"),
) -> None:
    """各指标完成情况、进度、预测与红黄绿灯 / status of every indicator of a plan."""
    from qunlian.targets.lights import load_status_rules
    from qunlian.targets.service import plan_status, status_summary

    _check_format(fmt)
    with _session() as s:
        try:
            rows = plan_status(s, plan, as_of=as_of, town=town, rules=load_status_rules(rules) if rules else None)
        except QunlianError as exc:
            _fail(explain(exc))
    _emit(_reasons(rows, fmt), fmt, [("indicator", "指标"), ("unit", "单位"), ("period", "期间"), ("actual", "实际"),
                      ("target", "年度目标"), ("reference", "参照"), ("completion", "完成"),
                      ("milestone", "节点"), ("milestone_target", "节点目标"), ("projected", "预测"),
                      ("status", "灯"), ("reason", "说明")])
    if fmt == "table":
        c = status_summary(rows)
        typer.echo(f"\n绿 {c['green']}  黄 {c['amber']}  红 {c['red']}  无法评价 {c['grey']}")


@targets_app.command("reconcile")
def reconcile_cmd(
    plan: str = typer.Option(..., "--plan"),
    year: int = year_option(..., "--year"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """镇街道目标之和与全市目标核对 / do the towns' targets add up to the city's?"""
    from qunlian.targets.service import reconcile_plan

    _check_format(fmt)
    with _session() as s:
        try:
            rows = reconcile_plan(s, plan, year)
        except QunlianError as exc:
            _fail(explain(exc))
    _emit(_reasons(rows, fmt), fmt, [("indicator", "指标"), ("unit", "单位"), ("aggregation", "汇总规则"),
                      ("city_target", "全市目标"), ("towns_total", "各镇合计"), ("difference", "差额"),
                      ("verdict", "结论"), ("reason", "说明")])


@targets_app.command("rollup")
def rollup_cmd(plan: str = typer.Option(..., "--plan"), period: str = typer.Option(..., "--period"),
               fmt: str = typer.Option("table", "--format")) -> None:
    """镇街道实际值汇总到全市 / roll town actuals up to the city."""
    from qunlian.targets.service import town_rollup

    _check_format(fmt)
    with _session() as s:
        rows = town_rollup(s, plan, period)
    _emit(rows, fmt, [("indicator", "指标"), ("unit", "单位"), ("aggregation", "汇总规则"), ("rollup", "各镇汇总"),
                      ("city_actual", "全市实际"), ("consistent", "一致")])


@targets_app.command("rank")
def rank_cmd(plan: str = typer.Option(..., "--plan"), indicator: str = typer.Option(..., "--indicator"),
             period: str = typer.Option(..., "--period"), fmt: str = typer.Option("table", "--format")) -> None:
    """镇街道排名 / rank the towns on one indicator."""
    from qunlian.targets.service import town_ranking

    _check_format(fmt)
    with _session() as s:
        rows = town_ranking(s, plan, indicator, period)
    _emit(rows, fmt, [("rank", "名次"), ("town", "镇街道"), ("actual", "实际"), ("target", "目标"),
                      ("completion", "完成")])


@targets_app.command("align")
def align_cmd(plan: list[str] = typer.Option(None, "--plan", help="只比较这些规划（可多次）"),
              fmt: str = typer.Option("table", "--format")) -> None:
    """省、市、县规划同一指标对照 / the same indicator across plan levels, differences flagged."""
    from qunlian.targets.service import alignment

    _check_format(fmt)
    with _session() as s:
        rows = alignment(s, plan or None)
    if fmt == "json":
        _emit(rows, fmt, [])
        return
    flat = []
    for e in rows:
        for p in e["plans"]:
            flat.append({"concept": e["label"], "region": p["region"], "plan": p["plan"], "indicator": p["indicator"],
                         "unit": p["unit"], "targets": "；".join(f"{y}: {t['text']}" for y, t in p["targets"].items()),
                         "flags": " | ".join(f["message"] for f in e["flags"]) if p is e["plans"][0] else ""})
    _emit(flat, fmt, [("concept", "指标"), ("region", "地区"), ("plan", "规划"), ("unit", "单位"),
                      ("targets", "目标"), ("flags", "差异")])


# --------------------------------------------------------------------------- actuals


@actual_app.command("add")
def actual_add(
    plan: str = typer.Option(..., "--plan"),
    indicator: str = typer.Option(..., "--indicator", help="指标代码或名称"),
    period: str = typer.Option(..., "--period", help="2023、2023Q1 或 2023-03"),
    value: float = number_option(..., "--value", field=NumberField(N_("数值"))),
    unit: str = typer.Option(None, "--unit", help="数值的单位（缺省为指标单位；可换算者自动换算）"),
    town: str = typer.Option(None, "--town"),
    cumulative: bool = typer.Option(False, "--cumulative/--point", help="年内累计值 / 当期值"),
    source: str = typer.Option(..., "--source", help="数据来源，如 市统计局 2023 年 3 月月报"),
    by: str = by_option("录入人（默认当前系统用户）"),
    estimate: bool = typer.Option(False, "--estimate", help="估计值"),
) -> None:
    """录入或更正一个实际值（更正保留旧值） / enter or correct one actual (old value kept)."""
    from qunlian.targets.actuals import add_actual

    with _session(write=True) as s:
        a = add_actual(s, plan, indicator, period, value, entered_by=cli_actor(by), unit=unit, town=town,
                       cumulative=cumulative, source=source, is_estimate=estimate)
        echo(Message("已记录：%(period)s = %(value)s（第 %(revision)s 版，编号 %(id)s）", period=a.period,
                     value=_num(a.value), revision=a.revision, id=a.id))


@actual_app.command("import")
def actual_import(
    plan: str = typer.Option(..., "--plan"),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV 或 XLSX：指标,期间,数值,单位,镇街道,累计,来源"),
    source: str = typer.Option("", "--source", help="文件中未写来源的行所用来源"),
    by: str = by_option(),
    estimate: bool = typer.Option(False, "--estimate"),
) -> None:
    """从文件导入实际值（全部通过校验才写入） / import actuals from a file, all or nothing."""
    from qunlian.targets.actuals import import_actuals

    with _session(write=True) as s:
        res = import_actuals(s, plan, path, entered_by=cli_actor(by), source=source, is_estimate=estimate)
    typer.echo(f"新增 added {res['added']}，更正 revised {res['revised']}，未变 unchanged {res['unchanged']}")


@actual_app.command("history")
def actual_history_cmd(plan: str = typer.Option(..., "--plan"), indicator: str = typer.Option(..., "--indicator"),
                       period: str = typer.Option(None, "--period"), town: str = typer.Option(None, "--town"),
                       fmt: str = typer.Option("table", "--format")) -> None:
    """实际值的全部版本 / every revision of an indicator's actuals."""
    from qunlian.targets.actuals import actual_history

    _check_format(fmt)
    with _session() as s:
        rows = actual_history(s, plan, indicator, period, town)
    _emit(rows, fmt, [("period", "期间"), ("town", "镇街道"), ("value", "数值"), ("revision", "版本"),
                      ("superseded", "已被更正"), ("entered_by", "录入人"), ("entered_at", "时间"), ("source", "来源")])


@actual_app.command("seed")
def actual_seed(by: str = typer.Option("seed", "--by")) -> None:
    """载入种子文件中的实际值（基期值、001 的 2023 年一季度亩均税收） / load the seeds' actuals."""
    from qunlian.targets.demo_actuals import load_seed_actuals

    with _session(write=True) as s:
        res = load_seed_actuals(s, actor=by)
    typer.echo(f"新增 added {res['added']}，更正 revised {res['revised']}，未变 unchanged {res['unchanged']}")


@actual_app.command("demo")
def actual_demo(plan: list[str] = typer.Option(None, "--plan", help="缺省为全部平湖规划"),
                invent: bool = typer.Option(True, "--invent/--no-invent",
                                            help="企业数据推算不出的指标是否虚构（标注为虚构）"),
                by: str = typer.Option("demo", "--by")) -> None:
    """由演示县企业数据推算实际值（标注为演示、估计） / derive actuals from the demo county's firm data."""
    from qunlian.targets.demo_actuals import load_demo_actuals

    plans = plan or ["pinghu-mfg-14th", "pinghu-clusters-2023-2027"]
    with _session(write=True) as s:
        for code in plans:
            res = load_demo_actuals(s, code, actor=by, invent=invent)
            typer.echo(f"{code}: 推算 derived {res['derived']}，虚构 invented {res['invented']}；"
                       f"新增 {res['added']}，更正 {res['revised']}，未变 {res['unchanged']}")


# --------------------------------------------------------------------------- task ledger


@task_app.command("list")
def task_list(plan: str = typer.Option(..., "--plan"), as_of: str = typer.Option(None, "--as-of"),
              unit: str = typer.Option(None, "--unit", help="牵头或配合单位"),
              status: str = typer.Option(None, "--status", help="open | in_progress | closed | warned"),
              fmt: str = typer.Option("table", "--format")) -> None:
    """任务台账 / the ledger with progress, status and warnings."""
    from qunlian.targets.ledger import list_tasks

    _check_format(fmt)
    with _session() as s:
        try:
            rows = list_tasks(s, plan, as_of=as_of, unit=unit, status=status)
        except QunlianError as exc:
            _fail(explain(exc))
    for r in rows:
        r["warning"] = "；".join(w["message"] for w in r["warnings"])
        r["last_progress"] = r["progress"][-1]["period"] if r["progress"] else None
    _emit(rows, fmt, [("seq", "序号"), ("heading", "重点任务"), ("lead_unit", "牵头单位"), ("co_units", "配合单位"),
                      ("due_year", "期限"), ("status", "状态"), ("last_progress", "最近进展"),
                      ("evidence_count", "佐证"), ("warning", "提醒")])


@task_app.command("progress")
def task_progress(plan: str = typer.Option(..., "--plan"), seq: int = id_option(..., "--task"),
                  period: str = typer.Option(..., "--period"), note: str = typer.Option(..., "--note"),
                  evidence: list[str] = typer.Option(None, "--evidence", help="佐证材料（文件名或链接，可多次）"),
                  by: str = by_option()) -> None:
    """报送季度进展 / record a progress note with evidence."""
    from qunlian.targets.ledger import add_progress

    with _session(write=True) as s:
        r = add_progress(s, plan, seq, period, note, entered_by=cli_actor(by), evidence=evidence or [])
    typer.echo(f"任务 {r['seq']}：{r['status']}，进展 {len(r['progress'])} 条")


@task_app.command("close")
def task_close(plan: str = typer.Option(..., "--plan"), seq: int = id_option(..., "--task"),
               note: str = typer.Option(..., "--note"), evidence: list[str] = typer.Option(None, "--evidence"),
               by: str = typer.Option(..., "--by", help="销号人")) -> None:
    """销号 / close a task (who and when are recorded)."""
    from qunlian.targets.ledger import close_task

    with _session(write=True) as s:
        r = close_task(s, plan, seq, closed_by=by, note=note, evidence=evidence or [])
    typer.echo(f"任务 {r['seq']} 已销号：{r['closed_by']} {r['closed_at']}")


# --------------------------------------------------------------------------- evidence files (佐证材料)


@evidence_app.command("add")
def evidence_add(plan: str = typer.Option(..., "--plan"), seq: int = id_option(..., "--seq", "--task"),
                 path: Path = typer.Argument(..., exists=True, dir_okay=False, help="PDF、OFD、图片、Office 文档或纯文本"),
                 description: str = typer.Option("", "--description", help="说明（300 字以内）"),
                 progress: int = id_option(None, "--progress", help="关联的进展记录编号（可选）"),
                 by: str = by_option("上传人（默认当前系统用户）")) -> None:
    """上传一个佐证材料到任务（存入数据库） / attach an evidence file to a task."""
    from qunlian.targets.evidence import add_evidence, check_size

    with _session(write=True) as s:
        check_size(path.name, path.stat().st_size)  # before reading: never load an oversized file
        r = add_evidence(s, plan, seq, path.name, path.read_bytes(), by=cli_actor(by), description=description,
                         progress_id=progress)
        echo(Message("已保存：%(file)s（编号 %(id)s，%(size)s，%(type)s，SHA-256 %(sha)s）", file=r["filename"],
                     id=r["id"], size=r["size_text"], type=r["content_type"], sha=r["sha256"]))


@evidence_app.command("list")
def evidence_list(plan: str = typer.Option(..., "--plan"), seq: int = id_option(..., "--seq", "--task"),
                  fmt: str = typer.Option("table", "--format", help="table | json | csv")) -> None:
    """任务的佐证材料（不含文件内容） / the evidence files of a task (metadata only)."""
    from qunlian.targets.evidence import list_evidence

    _check_format(fmt)
    with _session() as s:
        rows = list_evidence(s, plan, seq)
    _emit(rows, fmt, [("id", "编号"), ("filename", "文件"), ("size_text", "大小"), ("content_type", "类型"),
                      ("progress_period", "关联进展"), ("uploaded_by", "上传人"), ("uploaded_at", "上传时间"),
                      ("description", "说明"), ("sha256", "SHA-256")])


@evidence_app.command("get")
def evidence_get(evidence_id: int = id_option(..., "--id", help="编号（evidence list 中的编号）"),
                 output: Path = typer.Option(..., "--output", "-o", help="保存到的文件；给目录则用原文件名"),
                 force: bool = typer.Option(False, "--force", help="覆盖已有文件")) -> None:
    """下载一个佐证材料到本地文件（校验 SHA-256） / write an evidence file to disk (checksum verified)."""
    from qunlian.targets.evidence import get_evidence

    with _session() as s:
        ev = get_evidence(s, evidence_id)
    target = output / ev["filename"] if output.is_dir() else output
    if target.exists() and not force:
        _fail(Message("%(target)s 已存在，未覆盖；换一个路径或加 --force", target=str(target)))
    tmp = target.with_name(f".{target.name}.part")
    try:
        tmp.write_bytes(ev["content"])
        tmp.replace(target)  # the file appears whole or not at all
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _fail(Message("无法写入 %(target)s：%(error)s", target=str(target), error=str(exc.strerror or exc)))
    echo(Message("已写出：%(target)s（%(file)s，%(size)s，SHA-256 %(sha)s）", target=str(target), file=ev["filename"],
                 size=ev["size_text"], sha=ev["sha256"]))


@evidence_app.command("delete")
def evidence_delete(evidence_id: int = id_option(..., "--id"),
                    by: str = typer.Option(..., "--by", help="操作人（记入审计日志）")) -> None:
    """删除一个佐证材料（任务未销号时；命令行操作者视同管理员） / delete an evidence file of an open task."""
    from qunlian.targets.evidence import delete_evidence

    with _session(write=True) as s:
        r = delete_evidence(s, evidence_id, by=by, admin=True)  # whoever runs the CLI has the store anyway
    echo(Message("已删除：%(file)s（编号 %(id)s）", file=r["filename"], id=r["id"]))
