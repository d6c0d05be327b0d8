"""Plan targets: monitoring, projection, town decomposition, alignment and the task ledger (issue 4).

Pure logic (no database): `status` (evaluate one indicator), `reconcile` (roll-up, reconciliation,
ranking), `alignment` (plans side by side), `concepts` (what an indicator measures), `preset`
(status-light rules). Store services: `service`, `actuals`, `ledger`, `demo_actuals`. CLI: `cli`.
"""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="targets",
    title="规划目标",
    package="qunlian.targets",
    models="qunlian.targets.models",
    routers=("qunlian.targets.web:router", "qunlian.targets.evidence_web:router", "qunlian.targets.exports_web:router"),
    cli=("qunlian.targets.plans.cli:register", "qunlian.targets.cli:register"),
    nav=(NavEntry("/targets", "规划目标", "targets.read", order=40), NavEntry("/tasks", "任务台账", "targets.read", order=45)),
    docs="targets.md",
    reference_data="qunlian.targets.plans.loader:load_reference_data",
)
