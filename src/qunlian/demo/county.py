"""The whole demo county in one step: invented firms, plan actuals, 亩均 runs and the ledger.

`load_demo` builds the firms; this module then lets every capability show itself working on them,
through each capability's own public functions (nothing here computes anything itself).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from qunlian.core.messages import Joined, Message
from qunlian.demo.counties import CITY_REGION, PINGHU, XIUSHUI, DemoCounty
from qunlian.demo.load import load_demo
from qunlian.platform.db import transaction

DEMO_MUNI_YEARS = range(2021, 2026)  # 2020 has no previous year for the class-change warnings

Progress = Callable[[str, int, int], None]


def build_demo_county(
    engine: Engine, seed: int = 2024, scale: float = 1.0, progress: Progress | None = None, actor: str = "demo",
    city: bool = False,
) -> str:
    """Generate the firms, then the plan actuals, the 亩均 runs, the remediation ledger and one
    login per role (printed last, so a newcomer finds them at the bottom).

    city: the 嘉兴-level demo — both demo counties (平湖's shape and the invented 秀水县（演示）), the
    installation's root set to 嘉兴, and a login per county besides the city-level ones.
    """
    from qunlian.regions.service import set_root

    counties = (PINGHU, XIUSHUI) if city else (PINGHU,)
    lines: list[str] = []
    for county in counties:
        lines += _build_county(engine, county, seed, scale, progress, actor)
    if city:
        with transaction(engine) as s:
            root = set_root(s, CITY_REGION, actor=actor)
        lines.append(Message("本安装的根地区设为 %(name)s（%(code)s）：市级用户看到两个县", name=root.name, code=root.code))
    lines.append(demo_logins(engine, actor=actor, counties=[c.region for c in counties] if city else ()))
    return Joined(_LINE, lines)  # each line a Message where it is one: shown in the CLI's language


def _build_county(
    engine: Engine, county: DemoCounty, seed: int, scale: float, progress: Progress | None, actor: str
) -> list[str]:
    from qunlian.per_mu.service import evaluate_store, update_ledger
    from qunlian.targets.service import load_demo_actuals, load_demo_progress, load_seed_actuals

    lines: list[str] = [load_demo(engine, seed=seed, scale=scale, progress=progress, actor=actor, county=county)]
    step = _stepper(progress, "规划实际值 plan actuals", len(county.actual_plans) + 1)
    with transaction(engine) as s:
        seeded = load_seed_actuals(s, actor=actor)
        step()
        derived, ledgers = {}, {}
        for code in county.actual_plans:
            derived[code] = load_demo_actuals(s, code, actor=actor)
            ledgers[code] = load_demo_progress(s, code, seed=seed, actor=actor)
            step()
    if county.actual_plans:
        lines.append(Message(
            "规划实际值：种子文件 %(seeded)s 条；演示县推算/虚构 %(derived)s",
            seeded=seeded["added"] + seeded["revised"] + seeded["unchanged"],
            derived="，".join(f"{code} {_count(res)} 条" for code, res in derived.items()),
        ))
        lines.append(Message(
            "任务台账（演示进展，虚构）：%(ledgers)s",
            ledgers="，".join(f"{code} {n['reported']} 项报送进展、{n['closed']} 项销号" for code, n in ledgers.items()
                             if n["reported"]) or "—",
        ))

    step = _stepper(progress, "亩均评价 per-mu evaluation", len(DEMO_MUNI_YEARS))
    runs = []
    for year in DEMO_MUNI_YEARS:
        runs.append(evaluate_store(engine, county.method, year, actor=actor, note=f"演示县 demo county {county.name}",
                                   region=county.region))
        step()
    with transaction(engine) as s:
        ledger = update_ledger(s, runs[-1].id, actor=actor)
    lines.append(Message(
        "亩均评价：%(method)s %(first)s–%(last)s 年共 %(n)s 次（运行编号 %(run1)s–%(run2)s），整治台账新增 %(ledger)s 家",
        method=county.method, first=DEMO_MUNI_YEARS.start, last=DEMO_MUNI_YEARS.stop - 1, n=len(runs),
        run1=runs[0].id, run2=runs[-1].id, ledger=ledger,
    ))
    return lines


def demo_logins(engine: Engine, actor: str = "demo", counties: tuple[str, ...] | list[str] = ()) -> str:
    """One demo login per role (with counties, the city demo: also an analyst and a town login per
    county), and the list of them. The passwords are kept in the data directory's demo-logins file:
    a restart or a regenerated demo county prints the same logins; a login missing from the file gets
    a random password."""
    from qunlian.accounts.service import DEMO_LOGINS_FILE, create_demo_users, format_logins, read_demo_logins, write_demo_logins
    from qunlian.platform.config import load_settings

    path = load_settings().data_dir / DEMO_LOGINS_FILE
    with transaction(engine) as s:
        logins = create_demo_users(s, actor=actor, counties=counties, keep=read_demo_logins(path))
    write_demo_logins(path, logins)
    return Message("演示账号（保存在 %(path)s，重新启动后不变）：\n%(logins)s", path=str(path), logins=format_logins(logins))


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
