"""`qunlian muni …` — 亩均论英雄 evaluation from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from qunlian.per_mu.fields import MARGIN, POINTS, figure
from qunlian.platform.numbers import id_option, number_option, parse_number, year_option
from qunlian.platform.options import region_option, by_option, cli_actor

muni = typer.Typer(help="亩均论英雄评价 / per-mu efficiency evaluation", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach this capability's commands to the main `qunlian` app."""
    app.add_typer(muni, name="muni")


def _fail(exc: Exception) -> None:
    from qunlian.platform.i18n import explain

    typer.echo(explain(exc), err=True)  # QUNLIAN_LANG's language, Chinese by default
    raise typer.Exit(2)


def _engine():
    from qunlian.platform.db import is_initialised, make_engine

    eng = make_engine()
    if not is_initialised(eng):
        _fail(RuntimeError("数据库尚未初始化：先运行 qunlian init"))
    return eng


@muni.command("methods")
def methods_cmd() -> None:
    """列出可用的评价方法 / list method presets."""
    from qunlian.core.errors import QunlianError
    from qunlian.per_mu.presets import load_all

    try:
        ms = load_all()
    except QunlianError as exc:
        _fail(exc)
    for m in sorted(ms.values(), key=lambda m: (m.method, m.effective.from_year)):
        period = f"{m.effective.from_year}–{m.effective.to_year or ''}"
        typer.echo(f"{m.id:22} {m.method:16} v{m.version:10} 数据年度 {period:10} {m.title}")


@muni.command("check")
def check_cmd(files: list[Path] = typer.Argument(..., help="方法文件 (YAML)")) -> None:
    """校验方法文件 / validate method files (exit 2 on the first refused file)."""
    from qunlian.core.errors import QunlianError
    from qunlian.per_mu.presets import check_overlaps, load_method

    loaded = []
    try:
        for f in files:
            loaded.append((load_method(f), str(f)))
        check_overlaps(loaded)
    except QunlianError as exc:
        _fail(exc)
    for m, f in loaded:
        typer.echo(f"通过 {f}: {m.id} v{m.version}")


@muni.command("evaluate")
def evaluate_cmd(
    method: str = typer.Option(..., "--method", "-m", help="方法 id、方法族（按年度选版本）或方法文件"),
    year: int = year_option(None, "--year", "-y", help="数据年度（独立模式下默认取输入中最大的年度）"),
    input: Path = typer.Option(None, "--input", "-i", help="独立模式：csv / xlsx / parquet 企业年度数据"),
    output: Path = typer.Option(None, "--output", "-o", help="独立模式：结果文件 csv / xlsx / parquet"),
    by: str = by_option("操作人（默认当前系统用户）"),
    note: str = typer.Option("", "--note", help="备注"),
    region: str | None = region_option(),
) -> None:
    """评价：库中某年度某县（市、区）的企业（保存为一次评价），或独立模式 --input/--output。"""
    from qunlian.core.errors import QunlianError

    try:
        if input is not None or output is not None:
            if input is None or output is None:
                raise typer.BadParameter("独立模式需要同时给出 --input 和 --output")
            _standalone(method, year, input, output)
            return
        if year is None:
            raise typer.BadParameter("库模式需要 --year")
        from qunlian.per_mu.runs import evaluate_store

        run = evaluate_store(_engine(), method, year, actor=cli_actor(by), note=note, region=region)
        typer.echo(f"评价 #{run.id}: {run.method_id} v{run.method_version}，{run.year} 年，企业 {run.firms} 家，"
                   f"参评 {run.evaluated} 家；数据指纹 {run.data_sha256[:12]}")
    except QunlianError as exc:
        _fail(exc)


def _standalone(method_ref: str, year: int | None, input: Path, output: Path) -> None:
    import pyarrow.compute as pc

    from qunlian.per_mu.engine import evaluate
    from qunlian.per_mu.inputs import output_table, read_input, write_table
    from qunlian.per_mu.presets import get_method

    table = read_input(input)
    y = year if year is not None else pc.max(table.column("year")).as_py()
    m = get_method(method_ref, y)
    ev = evaluate(table, m, y, source=str(input))
    write_table(output_table(ev.results, m.id, m.indicator_codes), output)
    res = ev.results
    n_eval = res.column("excluded_reason").null_count
    typer.echo(f"{m.id} v{m.version}，{y} 年：企业 {res.num_rows} 家，参评 {n_eval} 家 → {output}")


@muni.command("runs")
def runs_cmd(year: int = year_option(None, "--year", "-y"), region: str | None = region_option()) -> None:
    """列出已保存的评价 / list stored runs."""
    from qunlian.core.errors import QunlianError
    from qunlian.per_mu.runs import list_runs
    from qunlian.platform.db import session_factory

    with session_factory(_engine())() as s:
        try:
            runs = list_runs(s, year, region)
        except QunlianError as exc:
            _fail(exc)
        for r in runs:
            typer.echo(f"#{r.id:<5} {r.method_id:20} v{r.method_version:8} {r.year}  企业 {r.firms:>6}  参评 {r.evaluated:>6}  "
                       f"{r.created_by} {r.created_at:%Y-%m-%d %H:%M}  数据 {r.data_sha256[:12]}")


@muni.command("export")
def export_cmd(run: int = id_option(..., "--run"), output: Path = typer.Option(..., "--output", "-o"),
               region: str | None = region_option()) -> None:
    """导出公示名单 (xlsx) 或结果表 (csv/parquet) / export a run."""
    from qunlian.per_mu.inputs import export_gongshi, output_table, write_table
    from qunlian.per_mu.runs import get_run_in, run_method, run_results
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import session_factory

    try:
        with session_factory(_engine())() as s:
            r = get_run_in(s, run, region)
            m = run_method(r)
            res = run_results(s, run)
        if output.suffix.lower() == ".xlsx":
            export_gongshi(res, m.title, r.year, output, {p.id: p.name for p in m.parts}, grade_column="final_grade")
        else:
            write_table(output_table(res, m.id, m.indicator_codes), output)
        typer.echo(f"已导出 → {output}")
    except QunlianError as exc:
        _fail(exc)


@muni.command("adjust")
def adjust_cmd(
    run: int = id_option(..., "--run"),
    uscc: str = typer.Option(..., "--uscc"),
    reason: str = typer.Option(..., "--reason", help="理由（必填）"),
    by: str = typer.Option(..., "--by", help="操作人（必填）"),
    points: float = number_option(None, "--points", field=POINTS, help="加减分，如 5 或 -3"),
    grade: str = typer.Option(None, "--grade", help="调整后的等级"),
    region: str | None = region_option(),
) -> None:
    """人工调整：初评 → 加减分 → 调档后 / manual adjustment with reason and user."""
    from qunlian.per_mu.runs import adjust, get_run_in
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as s:
            get_run_in(s, run, region)
            a = adjust(s, run, uscc, reason=reason, actor=by, points=points, grade=grade)
            typer.echo(f"{uscc}: {a.grade_before} ({a.score_before:.2f}) → {a.grade_after} ({a.score_after:.2f})；理由：{a.reason}")
    except QunlianError as exc:
        _fail(exc)


@muni.command("simulate")
def simulate_cmd(
    run: int = id_option(..., "--run"),
    uscc: str = typer.Option(..., "--uscc"),
    set_: list[str] = typer.Option([], "--set", help="列=新值，如 tax_wan=500，可多次"),
    region: str | None = region_option(),
) -> None:
    """绩效评价模拟器：改动一家企业的数据看得分与等级；各项达到上一等级的最小改动。"""
    from qunlian.per_mu.runs import get_run_in, load_evaluation
    from qunlian.per_mu.simulate import levers, simulate
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import session_factory

    try:
        changes = {}
        for kv in set_:
            k, _, v = kv.partition("=")
            changes[k.strip()] = parse_number(v, figure(k.strip()), blank=True)  # nan, inf, -5: refused
        with session_factory(_engine())() as s:
            get_run_in(s, run, region)
            ev = load_evaluation(s, run)
        if changes:
            sim = simulate(ev, uscc, changes)
            typer.echo(f"原：{sim.before_score:.2f} 分 {sim.before_grade or ''} → 模拟：{(sim.score or 0):.2f} 分 {sim.grade or ''} {sim.note}")
        for lv in levers(ev, uscc):
            if lv.reachable:
                pct = f"（{lv.change_pct:+.1%}）" if lv.change_pct is not None else ""
                typer.echo(f"  {lv.label:14} {lv.current if lv.current is not None else '—'} → {lv.needed:.4g}{pct} 可达 {lv.target_grade}")
            else:
                typer.echo(f"  {lv.label:14} {lv.note}")
    except (QunlianError, ValueError) as exc:
        _fail(exc)


@muni.command("warnings")
def warnings_cmd(
    run: int = id_option(..., "--run"),
    margin: float = number_option(None, "--margin", field=MARGIN, help="距分数线的分差（默认取方法设定）"),
    ledger: bool = typer.Option(False, "--ledger", help="把 D 类与高耗低效企业列入整治台账"),
    by: str = by_option(),
    region: str | None = region_option(),
) -> None:
    """预警：等级下降、临界企业、应列入整治。"""
    from qunlian.per_mu.runs import get_run_in, run_warnings, update_ledger
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as s:
            get_run_in(s, run, region)
            for w in run_warnings(s, run, margin):
                typer.echo(f"[{w.kind}] {w.uscc} {w.name or ''} {w.town or ''}: {w.detail}")
            if ledger:
                typer.echo(f"整治台账新增 {update_ledger(s, run, cli_actor(by))} 家")
    except QunlianError as exc:
        _fail(exc)


@muni.command("ledger")
def ledger_cmd(year: int = year_option(None, "--year", "-y"), region: str | None = region_option()) -> None:
    """整治台账：各镇街企业数、腾出用地（亩）、腾出能耗（万吨标准煤），对照 003 附件3 第 12–14 行目标。"""
    from qunlian.core.errors import QunlianError
    from qunlian.per_mu.runs import ledger_summary
    from qunlian.platform.db import session_factory

    with session_factory(_engine())() as s:
        try:
            summary = ledger_summary(s, year, region)
        except QunlianError as exc:
            _fail(exc)
        for d in summary:
            t = lambda k: f"/{d[k]:g}" if d.get(k) is not None else ""  # noqa: E731
            typer.echo(f"{d['town'] or '（未知镇街）'}: 企业 {d['listed']}{t('target_firms')}（完成 {d['done']}），"
                       f"腾出用地 {d['land_freed_mu']:g}{t('target_land_mu')} 亩，"
                       f"腾出能耗 {d['energy_freed_10k_tce']:g}{t('target_energy_10k_tce')} 万吨标准煤")


@muni.command("aggregates")
def aggregates_cmd(
    run: int = id_option(..., "--run"),
    by: str = typer.Option("town", "--by", help="town|park|industry|industry2|chain|part"),
    system: str | None = typer.Option(None, "--system", help="--by chain 时只看一个产业体系，如 4q8l、1212"),
    region: str | None = region_option(),
) -> None:
    """分组汇总：各等级企业数、用地、能耗与平均亩均效益（按产业链时取库中的企业—产业链关联）。"""
    from qunlian.per_mu.chains import chain_pairs
    from qunlian.per_mu.outputs import aggregates
    from qunlian.per_mu.runs import get_run_in, run_method, run_results
    from qunlian.core.errors import QunlianError
    from qunlian.platform.db import session_factory

    try:
        with session_factory(_engine())() as s:
            m = run_method(get_run_in(s, run, region))
            results = run_results(s, run)
            chains = chain_pairs(s, results.column("uscc").to_pylist(), system) if by == "chain" else None
            if chains is not None and chains.num_rows == 0:
                _fail("没有企业与产业链的关联：先运行 qunlian init（载入产业链体系）并导入企业，或换一个 --system")
            tbl = aggregates(results, m, by, chains=chains, grade_column="final_grade")
        for r in tbl.to_pylist():
            typer.echo("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    except QunlianError as exc:
        _fail(exc)


@muni.command("sql")
def sql_cmd(method: str = typer.Option(..., "--method", "-m"), year: int = year_option(..., "--year", "-y"),
            dialect: str = typer.Option("duckdb", "--dialect")) -> None:
    """显示方法编译出的 SQL / print the SQL a method compiles to."""
    from qunlian.per_mu.engine import compile_sql
    from qunlian.core.errors import QunlianError
    from qunlian.per_mu.presets import get_method

    try:
        typer.echo(compile_sql(get_method(method, year), year, dialect))
    except QunlianError as exc:
        _fail(exc)
