"""The whole demo county in one step: invented firms, plan actuals, 亩均 runs and the ledger.

`load_demo` builds the firms; this module then lets every capability show itself working on them,
through each capability's own public functions (nothing here computes anything itself).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from qunlian.core.messages import Joined, Message
from qunlian.demo.load import load_demo
from qunlian.platform.db import transaction

# The 平湖 plans whose indicators can be derived from firm data (the province/Jiaxing plans cannot).
DEMO_ACTUAL_PLANS = ("pinghu-mfg-14th", "pinghu-clusters-2023-2027")
DEMO_MUNI_METHOD = "demo-pinghu"
DEMO_MUNI_YEARS = range(2021, 2026)  # 2020 has no previous year for the class-change warnings

Progress = Callable[[str, int, int], None]


def build_demo_county(
    engine: Engine, seed: int = 2024, scale: float = 1.0, progress: Progress | None = None, actor: str = "demo"
) -> str:
    """Generate the firms, then the plan actuals, the 亩均 runs, the remediation ledger and one
    login per role (printed last, so a newcomer finds them at the bottom)."""
    from qunlian.per_mu.service import evaluate_store, update_ledger
    from qunlian.targets.service import load_demo_actuals, load_seed_actuals

    lines = [load_demo(engine, seed=seed, scale=scale, progress=progress, actor=actor)]
    step = _stepper(progress, "规划实际值 plan actuals", len(DEMO_ACTUAL_PLANS) + 1)
    with transaction(engine) as s:
        seeded = load_seed_actuals(s, actor=actor)
        step()
        derived = {}
        for code in DEMO_ACTUAL_PLANS:
            derived[code] = load_demo_actuals(s, code, actor=actor)
            step()
    lines.append(Message(
        "规划实际值：种子文件 %(seeded)s 条；演示县推算/虚构 %(derived)s",
        seeded=seeded["added"] + seeded["revised"] + seeded["unchanged"],
        derived="，".join(f"{code} {_count(res)} 条" for code, res in derived.items()),
    ))

    step = _stepper(progress, "亩均评价 per-mu evaluation", len(DEMO_MUNI_YEARS))
    runs = []
    for year in DEMO_MUNI_YEARS:
        runs.append(evaluate_store(engine, DEMO_MUNI_METHOD, year, actor=actor, note="演示县 demo county"))
        step()
    with transaction(engine) as s:
        ledger = update_ledger(s, runs[-1].id, actor=actor)
    lines.append(Message(
        "亩均评价：%(method)s %(first)s–%(last)s 年共 %(n)s 次（运行编号 %(run1)s–%(run2)s），整治台账新增 %(ledger)s 家",
        method=DEMO_MUNI_METHOD, first=DEMO_MUNI_YEARS.start, last=DEMO_MUNI_YEARS.stop - 1, n=len(runs),
        run1=runs[0].id, run2=runs[-1].id, ledger=ledger,
    ))
    lines.append(demo_logins(engine, actor=actor))
    return Joined(_LINE, lines)  # each line a Message where it is one: shown in the CLI's language


def demo_logins(engine: Engine, actor: str = "demo") -> str:
    """(Re)create one demo login per role with fresh random passwords, and list them."""
    from qunlian.accounts.service import create_demo_users, format_logins

    with transaction(engine) as s:
        logins = create_demo_users(s, actor=actor)
    return Message("演示账号（每次生成新密码）：\n%(logins)s", logins=format_logins(logins))


_LINE = "\n"  # not a msgid: the lines of a summary


def _count(result: dict) -> int:
    return int(result.get("added", 0)) + int(result.get("revised", 0)) + int(result.get("unchanged", 0))


def _stepper(progress: Progress | None, stage: str, total: int) -> Callable[[], None]:
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(stage, done, total)

    if progress:
        progress(stage, 0, total)
    return step
