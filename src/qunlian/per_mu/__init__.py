"""亩均效益 evaluation: presets, engine, runs, simulator, warnings, remediation."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="per_mu",
    title="亩均评价",
    package="qunlian.per_mu",
    models="qunlian.per_mu.models",
    routers=("qunlian.per_mu.web:router",),
    cli=("qunlian.per_mu.cli:register",),
    nav=(NavEntry("/muni", "亩均评价", "per_mu.read_runs", order=50),),
    docs="muni.md",
    profile_sections=("qunlian.per_mu.web:PROFILE_SECTION",),
)
