"""Regions: the hierarchy (province → city → county, zones), towns, development zones and parks."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="regions",
    title="镇街道",
    package="qunlian.regions",
    models="qunlian.regions.models",
    routers=("qunlian.regions.web:router",),
    cli=("qunlian.regions.cli:register",),
    nav=(NavEntry("/towns", "镇街道", None, order=20),),
    docs="regions.md",
)
