"""Plan targets: monitoring, projection, town decomposition, alignment and the task ledger (issue 4).

Pure logic (no database): `status` (evaluate one indicator), `reconcile` (roll-up, reconciliation,
ranking), `alignment` (plans side by side), `concepts` (what an indicator measures), `preset`
(status-light rules). Store services: `service`, `actuals`, `ledger`, `demo_actuals`. CLI: `cli`.
"""

from qunlian.analytics.targets.actuals import (
    ActualInput,
    actual_history,
    add_actual,
    add_actuals,
    import_actuals,
)
from qunlian.analytics.targets.demo_actuals import derive_demo_actuals, load_demo_actuals, load_seed_actuals
from qunlian.analytics.targets.ledger import add_progress, close_task, list_tasks, reopen_task
from qunlian.analytics.targets.preset import StatusRules, load_status_rules
from qunlian.analytics.targets.service import (
    alignment,
    plan_status,
    reconcile_plan,
    status_summary,
    town_ranking,
    town_rollup,
)

__all__ = [
    "ActualInput", "StatusRules", "actual_history", "add_actual", "add_actuals", "add_progress", "alignment",
    "close_task", "derive_demo_actuals", "import_actuals", "list_tasks", "load_demo_actuals", "load_seed_actuals",
    "load_status_rules", "plan_status", "reconcile_plan", "reopen_task", "status_summary", "town_ranking",
    "town_rollup",
]
