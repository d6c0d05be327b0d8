"""`qunlian demo`: generate the demo county (invented firms calibrated to published aggregates)."""

from __future__ import annotations

import typer

from qunlian.platform.options import cli_actor

from qunlian.core.messages import N_
from qunlian.platform.numbers import NumberField, number_option


def register(app: typer.Typer) -> None:
    """Attach `qunlian demo` to the main app."""

    @app.command("demo")
    def demo(
        seed: int = number_option(2024, "--seed", field=NumberField(N_("随机种子"), minimum=0, maximum=2**32 - 1,
                                                                   integer=True), help="随机种子；同一种子生成相同的企业 / random seed (same seed, same firms)"),
        scale: float = number_option(
            1.0, "--scale", field=NumberField(N_("企业数量倍数"), minimum=0.01, maximum=1000), help="企业数量倍数（基准测试用）/ multiplies the number of firms (for benchmarks)"
        ),
        if_empty: bool = typer.Option(
            False, "--if-empty", help="库中已有企业时什么也不做 / do nothing when the store already holds firms"
        ),
        city: bool = typer.Option(
            False, "--city",
            help="市级演示：平湖与虚构的秀水县（演示）两个县，根地区设为嘉兴 / the 嘉兴-level demo: two counties, root 嘉兴",
        ),
    ) -> None:
        """生成演示县（虚构企业）/ generate the demo county (invented firms, calibrated to 000 表1 2020)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from qunlian.demo.county import build_demo_county
        from qunlian.demo.load import STEPS
        from qunlian.platform.db import describe, make_engine

        engine = make_engine()
        if if_empty:
            from sqlalchemy import func, select

            from qunlian.platform.db import migrate, session_factory
            from qunlian.enterprises.models import Enterprise

            migrate(engine)
            with session_factory(engine)() as s:
                n = s.scalar(select(func.count()).select_from(Enterprise)) or 0
            if n:
                from qunlian.demo.counties import PINGHU, XIUSHUI
                from qunlian.demo.county import demo_logins
                from qunlian.platform.i18n import Message, echo

                echo(Message("库中已有 %(n)s 家企业，未重新生成演示县", n=format(n, ",")))
                echo(demo_logins(engine, actor=cli_actor(), counties=(PINGHU.region, XIUSHUI.region) if city else ()))
                return
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("演示县 demo county", total=STEPS)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            text = build_demo_county(engine, seed=seed, scale=scale, progress=progress, actor=cli_actor(), city=city)
        typer.echo(describe())
        from qunlian.platform.i18n import echo

        echo(text)
