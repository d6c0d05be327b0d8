"""Roles, the principal, and the named actions each role (or a department's grant) may take.

Routes, the nav and templates ask ``can(principal, "per_mu.adjust")``; no role list appears anywhere
else. Which *rows* a principal may read is a different question, answered in the query layer by
the enterprises scope filter (``qunlian.enterprises.scoping``), never by a router filtering results.
Some actions also depend on the object (a department enters actuals only for indicators it is
responsible for): the action says who may at all, the capability's domain code checks the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from qunlian.core.messages import N_

ROLES = ("admin", "analyst", "department", "town", "chain", "enterprise")
# role → its name in the UI (msgids)
ROLE_NAMES = {
    "admin": N_("系统管理员"),
    "analyst": N_("分析人员"),
    "department": N_("部门"),
    "town": N_("镇街道"),
    "chain": N_("产业链"),
    "enterprise": N_("企业"),
}
# roles that see every firm of the installation (the scope filter lets every row through)
CITY_WIDE = ("admin", "analyst")


class ScopeHolder(Protocol):
    role: str
    town_id: int | None
    chain_node_id: int | None
    enterprise_id: int | None


@dataclass(frozen=True)
class Principal:
    """The caller as the query layer sees it: a role and its scope target (a detached User snapshot)."""

    id: int
    username: str
    role: str
    display_name: str = ""
    department: str | None = None
    town_id: int | None = None
    chain_node_id: int | None = None
    enterprise_id: int | None = None
    disabled: bool = False
    # a department's grants in force, as (scope, target id): ("all", None), ("town", id), ("chain", id)
    grants: tuple[tuple[str, int | None], ...] = ()
    # the user's region and every region below it; None for a user of the installation's root region,
    # who sees every region (a city analyst sees its counties, a county analyst the county)
    region_id: int | None = None
    region_ids: frozenset[int] | None = None
    # the password was set by an administrator: pages send the user to change it first, the API refuses
    must_change_password: bool = False
    # where the user works, by name (市科技局, 当湖街道, 新能源汽车, the firm's name): the page header says it
    scope_name: str = ""

    @property
    def city_wide(self) -> bool:
        return self.role in CITY_WIDE and not self.disabled

    @property
    def granted(self) -> bool:
        """A department user holding an access grant in force: read-only firm pages open to it."""
        return self.role == "department" and bool(self.grants) and not self.disabled



# --------------------------------------------------------------------------- named actions


@dataclass(frozen=True)
class Action:
    name: str
    label: str  # msgid: what the action allows, for the users page and the docs
    roles: frozenset[str] = field(default_factory=frozenset)
    by_grant: bool = False  # also a department user holding an access grant in force


def _action(name: str, label: str, roles: tuple[str, ...], by_grant: bool = False) -> Action:
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"{name}: unknown roles {unknown}"
    return Action(name, label, frozenset(roles), by_grant)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _action("firms.read", "查看企业数据（本范围）", ("admin", "analyst", "town", "chain", "enterprise"), by_grant=True),
    # the 驾驶舱's firm and 亩均 blocks: for the roles whose scope is a place, a chain or a firm (not a
    # department's grant, which is read-only access for a stated reason, not a standing view)
    _action("overview.firm_figures", "驾驶舱：企业数据", ("admin", "analyst", "town", "chain", "enterprise")),
    _action("overview.per_mu_mix", "驾驶舱：亩均分类构成", ("admin", "analyst", "town", "chain")),
    _action("per_mu.read_runs", "查看亩均评价", ("admin", "analyst", "town", "chain"), by_grant=True),
    _action("per_mu.adjust", "亩均调档（加减分）", ("admin", "analyst")),
    _action("targets.read", "查看规划目标与任务", ("admin", "analyst", "department", "town")),
    # the *_own actions hold only for the objects a department is responsible for (checked per object
    # in qunlian.targets.access)
    _action("targets.enter_actuals", "录入实际值", ("admin", "analyst")),
    _action("targets.enter_own_actuals", "录入本部门负责指标的实际值", ("department",)),
    _action("targets.manage_tasks", "任务进展与销号", ("admin", "analyst")),
    _action("targets.manage_own_tasks", "本部门牵头任务的进展与销号", ("department",)),
    _action("targets.delete_any_evidence", "删除他人上传的佐证材料", ("admin",)),
    _action("imports.run", "导入数据", ("admin", "analyst")),
    _action("regions.compare", "地区对比与县（市、区）下钻", ("admin", "analyst")),
    _action("users.manage", "管理用户与授权", ("admin",)),
    _action("audit.read", "查看审计日志", ("admin",)),
)}


def can(principal: Principal | None, action: str) -> bool:
    """Whether the principal may take the action. An unknown action name is a programming error."""
    rule = ACTIONS[action]
    if principal is None or principal.disabled:
        return False
    return principal.role in rule.roles or (rule.by_grant and principal.granted)


def holders(action: str) -> tuple[str, ...]:
    """The roles holding an action, in ROLES order (for help texts and docs)."""
    rule = ACTIONS[action]
    return tuple(r for r in ROLES if r in rule.roles)
