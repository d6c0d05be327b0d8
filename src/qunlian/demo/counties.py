"""The demo counties: 平湖's shape (the default demo) and 秀水县（演示）, the invented second county of the
city demo (`qunlian demo --city`, a 嘉兴-level installation holding both).

Each county names its region, the calibration its firms are generated from, the chain system its
firms are linked to, the 亩均 method it is evaluated with and the plans whose actuals are derived
from its firms. 平湖's region, towns and chain systems ship with the platform; the invented county's
come from demo/data and are only loaded by the city demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from pydantic import Field
from sqlalchemy.orm import Session

from qunlian.platform import rules
from qunlian.regions.service import ParkSpec, RegionDataError, RegionSpec, TownFile, TownSpec

CITY_REGION = "330400"  # 嘉兴市: the root of the city demo


@dataclass(frozen=True)
class DemoCounty:
    key: str
    region: str  # region code
    name: str
    calibration: str
    chain_system: str
    method: str
    actual_plans: tuple[str, ...] = ()
    seed_offset: int = 0  # the second county draws other random streams than the first
    region_file: str | None = None  # demo/data file with the region, its towns and parks
    system_file: str | None = None  # demo/data chain system file


PINGHU = DemoCounty(
    key="pinghu", region="330482", name="平湖市", calibration="calibration.yaml", chain_system="4q8l",
    method="demo-pinghu", actual_plans=("pinghu-mfg-14th", "pinghu-clusters-2023-2027"),
)
XIUSHUI = DemoCounty(
    key="xiushui", region="demo-xiushui", name="秀水县（演示）", calibration="calibration-xiushui.yaml",
    chain_system="demo-xiushui", method="demo-xiushui", seed_offset=1_000_003,
    region_file="xiushui.yaml", system_file="system-demo-xiushui.yaml",
)
COUNTIES = {c.key: c for c in (PINGHU, XIUSHUI)}


class DemoRegionFile(rules.Cited):
    """An invented county: its region (under a shipped one), towns and parks."""

    region: RegionSpec
    towns: list[TownSpec]
    parks: list[ParkSpec] = Field(default_factory=list)


def _text(name: str) -> str:
    return (resources.files("qunlian.demo") / "data" / name).read_text(encoding="utf-8")


def install_county(session: Session, county: DemoCounty) -> None:
    """Load an invented county's region, towns and chain system (the shipped ones need nothing)."""
    from qunlian.regions.service import load_hierarchy, load_towns
    from qunlian.targets.service import load_system, read_system_text

    if county.region_file:
        spec = rules.parse(DemoRegionFile, _text(county.region_file), county.region_file, error=RegionDataError,
                           paths="dotted", doc="docs/demo.md")
        load_hierarchy(session, extra=[spec.region])
        towns = TownFile(region=spec.region.code, towns=spec.towns, parks=spec.parks, sources=spec.sources)
        load_towns(session, towns, county.region_file)
    if county.system_file:
        load_system(session, read_system_text(_text(county.system_file), county.system_file), county.system_file)


__all__ = ["CITY_REGION", "COUNTIES", "PINGHU", "XIUSHUI", "DemoCounty", "install_county"]
