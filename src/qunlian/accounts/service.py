"""User service: add, list, disable, role changes, passwords, sign-in with account lockout, demo
logins. Every write leaves an audit line. The password and lockout rules are the account-security
preset (``qunlian.accounts.policy``)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.accounts.passwords import hash_password, needs_rehash, verify_password
from qunlian.accounts.policy import Policy, load_policy, password_problems
from qunlian.core.errors import QunlianError
from qunlian.core.messages import N_, Message
from qunlian.platform.db import audit
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.permissions import ROLE_NAMES, ROLES, Principal
from qunlian.regions.models import Region, Town

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")


# the scope option each scoped role needs, and the only role that accepts it
SCOPE_OPTION = {"town": "--town", "chain": "--chain", "enterprise": "--uscc"}


class AccountError(QunlianError):
    """A user-management request that cannot be done; the message says why and what to do."""


# --------------------------------------------------------------------------- lookups


def find_town(session: Session, ref: str) -> Town:
    """A town by code (unique), or by name or alias where only one town has it (names repeat across counties)."""
    ref = ref.strip()
    town = session.scalars(select(Town).where(Town.code == ref)).first()
    if town is None:
        named = [t for t in session.scalars(select(Town)) if ref == t.name or ref in (t.aliases or [])]
        if len(named) > 1:
            options = "，".join(f"{t.code}（{t.region.name if t.region else '?'} {t.name}）" for t in named)
            raise AccountError(f"镇街道 {ref!r} 不唯一，请用代码：{options}")
        town = named[0] if named else None
    if town is None:
        known = "，".join(f"{t.code}（{t.name}）" for t in session.scalars(select(Town).order_by(Town.seq, Town.code)))
        hint = f"可选：{known}" if known else "库中还没有镇街道，请先运行 qunlian init 或 qunlian demo"
        raise AccountError(f"找不到镇街道 {ref!r}（按代码、名称或别名查找）。{hint}")
    return town


def find_chain_node(session: Session, ref: str) -> ChainNode:
    """A chain node by "system:code", by code, or by name; ambiguous references are refused."""
    from qunlian.chains.service import chain_matches

    matches = chain_matches(session, ref)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        options = "，".join(f"{n.system}:{n.code}（{n.name}）" for n in matches)
        raise AccountError(f"产业链 {ref!r} 不唯一，请写成 体系:代码 的形式，例如：{options}")
    chains = list(
        session.scalars(select(ChainNode).where(ChainNode.level == "chain").order_by(ChainNode.system, ChainNode.seq))
    )
    known = "，".join(f"{n.system}:{n.code}（{n.name}）" for n in chains[:12])
    hint = f"可选（部分）：{known}" if known else "库中还没有产业链体系，请先运行 qunlian init"
    raise AccountError(f"找不到产业链节点 {ref!r}（按 体系:代码、代码或名称查找）。{hint}")


def find_region(session: Session, ref: str) -> Region:
    from qunlian.regions.service import find_region as lookup

    region = lookup(session, ref)
    if region is None:
        known = "，".join(f"{r.code}（{r.name}）" for r in session.scalars(select(Region).order_by(Region.seq, Region.id)))
        hint = f"可选：{known}" if known else "库中还没有地区，请先运行 qunlian init"
        raise AccountError(f"找不到地区 {ref!r}（按代码、名称或别名查找）。{hint}")
    return region


def find_enterprise(session: Session, uscc: str) -> Enterprise:
    code = uscc.strip().upper()
    ent = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).first()
    if ent is None:
        raise AccountError(f"找不到统一社会信用代码为 {code!r} 的企业；请先导入该企业（qunlian import）")
    return ent


def describe_scope(session: Session, user: User) -> str:
    """What the user sees, in names (镇街道 当湖街道, 产业链 新能源汽车, 部门 市科技局, 全市)."""
    kinds = {"town": N_("镇街道 %(name)s"), "chain": N_("产业链 %(name)s"), "enterprise": N_("企业 %(name)s")}
    target = {"town": user.town_id, "chain": user.chain_node_id, "enterprise": user.enterprise_id}.get(user.role)
    if target:
        return Message(kinds[user.role], name=_scope_name(session, user) or "?")
    region = session.get(Region, user.region_id) if user.region_id else None
    if user.role == "department":
        dept = Message("部门 %(name)s", name=user.department or Message("（未指定）"))
        return Message("%(dept)s（%(region)s）", dept=dept, region=region.name) if region else dept
    if region is not None:
        return Message("%(region)s 全域", region=region.name)
    return N_("全市")


# --------------------------------------------------------------------------- service


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    town: str | None = None,
    chain: str | None = None,
    uscc: str | None = None,
    department: str | None = None,
    display_name: str = "",
    region: str | None = None,
    actor: str = "cli",
    must_change_password: bool = False,
    policy: Policy | None = None,
) -> User:
    """Create a user after checking the role, its scope target and the password (the account-security
    preset); raises AccountError with the fix. must_change_password: the owner replaces the password at
    first sign-in (the users page and ``qunlian users add`` ask it: an administrator typed it)."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AccountError(f"用户名 {username!r} 不合法：3–80 个字符，只用字母、数字和 _ . @ -")
    if role not in ROLES:
        raise AccountError(f"角色 {role!r} 不存在；可选：{', '.join(ROLES)}")
    check_password(password, username, policy)
    _check_scope_options(role, town, chain, uscc, department, region)
    if session.scalars(select(User).where(func.lower(User.username) == username.lower())).first():
        raise AccountError(f"用户名 {username!r} 已存在")

    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username, must_change_password=must_change_password,
                password_changed_at=_utc_now())
    _apply_scope(session, user, town, chain, uscc, department, region)
    session.add(user)
    session.flush()
    audit(session, actor, "user.add", "user", user.id, username=username, role=role,
          scope=describe_scope(session, user), must_change_password=must_change_password)
    return user


def _check_scope_options(role: str, town: str | None, chain: str | None, uscc: str | None,
                         department: str | None, region: str | None) -> None:
    """The scope options fit the role: a scoped role names its target, no option of another role."""
    given = {"town": town, "chain": chain, "enterprise": uscc}
    for scoped_role, value in given.items():
        if value and role != scoped_role:
            raise AccountError(f"{SCOPE_OPTION[scoped_role]} 只用于角色 {scoped_role}，角色 {role} 不带该参数")
    if role in SCOPE_OPTION and not given[role]:
        raise AccountError(f"角色 {role} 需要范围参数 {SCOPE_OPTION[role]}")
    if department and role != "department":
        raise AccountError(f"--department 只用于角色 department，角色 {role} 不带该参数")
    if region and role in SCOPE_OPTION:
        raise AccountError(f"--region 不用于角色 {role}：其地区由 {SCOPE_OPTION[role]} 的对象决定")


def _apply_scope(session: Session, user: User, town: str | None, chain: str | None, uscc: str | None,
                 department: str | None, region: str | None) -> None:
    """Look the scope targets up (AccountError naming the choices) and set them, the others cleared."""
    user.department = _registered_department(session, department, region) if department else None
    user.town_id = find_town(session, town).id if town else None
    user.chain_node_id = find_chain_node(session, chain).id if chain else None
    user.enterprise_id = find_enterprise(session, uscc).id if uscc else None
    user.region_id = find_region(session, region).id if region else None
    user.region_id = user.region_id or _scope_region(session, user)


def _registered_department(session: Session, name: str, region: str | None) -> str:
    """The department's name as the registry writes it (plans and tasks name it so). Where the region
    has a registry, an unknown name is refused with the registered ones; without one, kept as given."""
    from qunlian.regions.models import Department
    from qunlian.regions.service import ancestors, find_department, root_region

    where = find_region(session, region) if region else root_region(session)
    if where is None:
        return name.strip()
    found = find_department(session, where.id, name)
    if found is not None:
        return found.name
    lineage = [r.id for r in ancestors(session, where.id)]
    known = session.scalars(select(Department.name).where(Department.region_id.in_(lineage))
                            .order_by(Department.region_id, Department.seq)).all()
    if not known:
        return name.strip()
    raise AccountError(f"部门 {name!r} 不在 {where.name} 的部门名录中；可选：{'、'.join(known)}"
                       "（用 qunlian regions departments 查看代码与全称）")


def _scope_region(session: Session, user: User) -> int | None:
    """A scoped user's region is its scope object's: the town's county, the chain system's region, the firm's."""
    if user.town_id:
        return session.get(Town, user.town_id).region_id
    if user.chain_node_id:
        return session.get(ChainNode, user.chain_node_id).region_id
    if user.enterprise_id:
        return session.get(Enterprise, user.enterprise_id).region_id
    return None


def list_users(session: Session) -> list[dict[str, Any]]:
    users = session.scalars(select(User).order_by(User.username))
    return [
        {
            "username": u.username,
            "role": u.role,
            "scope": describe_scope(session, u),
            "disabled": u.disabled,
            "locked": u.locked_at is not None,
            "locked_at": u.locked_at,
            "must_change_password": bool(u.must_change_password),
            "created_at": u.created_at,
        }
        for u in users
    ]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AccountError(f"用户 {username!r} 不存在（qunlian users list 列出全部用户）")
    return user


def end_sessions(user: User) -> None:
    """Every session cookie and API token of the user stops working at its next request."""
    user.session_version = (user.session_version or 0) + 1


def check_password(password: str, username: str = "", policy: Policy | None = None) -> None:
    """AccountError saying everything that is wrong with a new password and what to do, else nothing."""
    problems = password_problems(password, username, policy)
    if problems:
        raise AccountError("；".join(problems))


def disable_user(session: Session, username: str, actor: str = "cli") -> User:
    user = get_user(session, username)
    if not user.disabled:
        user.disabled = True
        end_sessions(user)
        audit(session, actor, "user.disable", "user", user.id, username=username)
    return user


def set_role(
    session: Session,
    username: str,
    *,
    role: str,
    town: str | None = None,
    chain: str | None = None,
    uscc: str | None = None,
    department: str | None = None,
    region: str | None = None,
    actor: str = "cli",
) -> User:
    """Give a user another role or scope (checked as for a new user); its sessions and tokens end."""
    user = get_user(session, username)
    if role not in ROLES:
        raise AccountError(f"角色 {role!r} 不存在；可选：{', '.join(ROLES)}")
    _check_scope_options(role, town, chain, uscc, department, region)
    if user.role == "admin" and role != "admin" and not user.disabled:
        admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin",
                                                                              User.disabled.is_(False)))
        if admins <= 1:
            raise AccountError(f"{user.username!r} 是唯一启用的管理员：请先给另一个用户 admin 角色，再改它的角色")
    before = f"{user.role}: {describe_scope(session, user)}"
    user.role = role
    _apply_scope(session, user, town, chain, uscc, department, region)
    session.flush()
    end_sessions(user)
    audit(session, actor, "user.role", "user", user.id, username=user.username, before=before,
          role=role, scope=describe_scope(session, user))
    return user


def reset_password(session: Session, username: str, password: str, *, actor: str = "cli",
                   must_change_password: bool = True, policy: Policy | None = None) -> User:
    """An administrator sets a user's password (checked by the preset); by default the owner replaces it
    at next sign-in. Every session and token of the user ends."""
    user = get_user(session, username)
    check_password(password, user.username, policy)
    user.password_hash = hash_password(password)
    user.password_changed_at = _utc_now()
    user.must_change_password = must_change_password
    end_sessions(user)
    audit(session, actor, "user.password_reset", "user", user.id, username=user.username,
          must_change_password=must_change_password)
    return user


def change_password(session: Session, user_id: int, current: str, new: str, confirm: str | None = None, *,
                    policy: Policy | None = None) -> User:
    """The user replaces its own password: the current one, then a new one that the preset accepts and
    that differs from it. Every other session and token of the user ends (the caller renews its own)."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise AccountError("账号不存在或已停用")
    if not verify_password(user.password_hash, current):
        raise AccountError("当前密码不对：请重新输入当前使用的密码")
    if confirm is not None and new != confirm:
        raise AccountError("两次输入的新密码不一致：请重新输入")
    if new == current:
        raise AccountError("新密码不能与当前密码相同")
    check_password(new, user.username, policy)
    user.password_hash = hash_password(new)
    user.password_changed_at = _utc_now()
    user.must_change_password = False
    end_sessions(user)
    audit(session, user.username, "auth.password_change", "user", user.id)
    return user


def unlock_user(session: Session, username: str, actor: str = "cli") -> User:
    """Lift an account lock (after repeated failed logins) and clear the failure count."""
    user = get_user(session, username)
    if user.locked_at is None and not user.failed_logins:
        raise AccountError(f"用户 {username!r} 未被锁定")
    was_locked = user.locked_at is not None
    user.locked_at = None
    user.failed_logins = 0
    user.last_failed_login_at = None
    audit(session, actor, "user.unlock", "user", user.id, username=user.username, was_locked=was_locked)
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the user, or None; locked: the account is locked (whatever the password)."""

    user: User | None
    locked: bool = False


def sign_in(session: Session, username: str, password: str, *, now: dt.datetime | None = None,
            policy: Policy | None = None, client: str = "") -> SignIn:
    """Check a password and keep the account's failure count: ``policy.lockout.max_failures`` failures,
    each within ``window_minutes`` of the one before, lock the account (audited ``auth.locked``)
    until an administrator unlocks it. A locked account is refused even with the right password.
    The password is verified first in every case, so every answer costs the same."""
    policy = policy or load_policy()
    now = now or _utc_now()
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or user.disabled:
        return SignIn(None)
    if user.locked_at is not None:
        return SignIn(None, locked=True)
    if not ok:
        last = user.last_failed_login_at
        window = dt.timedelta(minutes=policy.lockout.window_minutes)
        fresh = last is None or now - _aware(last) > window
        user.failed_logins = 1 if fresh else (user.failed_logins or 0) + 1
        user.last_failed_login_at = now
        if user.failed_logins >= policy.lockout.max_failures:
            user.locked_at = now
            audit(session, user.username, "auth.locked", "user", user.id, failures=user.failed_logins,
                  window_minutes=policy.lockout.window_minutes, client=client)
            return SignIn(None, locked=True)
        return SignIn(None)
    user.failed_logins = 0
    user.last_failed_login_at = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignIn(user)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active, unlocked user with this username and password, else None (same cost either way).
    Counts nothing: the login form and the API go through ``sign_in``."""
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or user.disabled or user.locked_at is not None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


# --------------------------------------------------------------------------- demo logins

DEMO_PREFIX = "demo-"


def create_demo_users(
    session: Session, password: str | None = None, actor: str = "demo", counties: Sequence[str] = (),
    keep: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One user per role of DESIGN §2, scoped to real rows of the store; returns their logins.

    keep (username → password, the demo-logins file): a demo user whose password is still the kept one
    keeps it (and its sessions, when its scope did not change), so restarts print the same logins; one
    whose password was changed since (by the user or an admin) keeps the new one, printed as changed.

    Scope targets: the town with most enterprises, the 4q8l chain with most linked enterprises and
    the first enterprise (by USCC) with yearly figures in that town. A role whose target is missing
    (e.g. no chain system loaded yet) is skipped. Existing demo users are reset (new password, new
    scope), so running it twice gives working logins. Passwords are random unless one is given.
    counties (region codes, the city demo): besides, per county an analyst of the county
    (demo-analyst-330482, demo-analyst-xiushui) and a user of its busiest town (demo-town-…).
    """
    town = session.execute(
        select(Town)
        .outerjoin(Enterprise, Enterprise.town_id == Town.id)
        .group_by(Town.id)
        .order_by(func.count(Enterprise.id).desc(), Town.seq, Town.code)
        .limit(1)
    ).scalar_one_or_none()
    chain = session.execute(
        select(ChainNode)
        .where(ChainNode.system == "4q8l", ChainNode.level == "chain")
        .order_by(ChainNode.seq, ChainNode.code)
    ).scalars().all()
    chain_node = _busiest_chain(session, chain)
    ent_query = select(Enterprise).where(Enterprise.id.in_(select(EnterpriseYear.enterprise_id)))
    if town is not None:
        ent_query = ent_query.where(Enterprise.town_id == town.id)
    # the enterprise login shows the platform to a firm: one evaluated in the latest 亩均 run, B or C
    # (its class, its trend and what would move it up all have something to say), else any with figures
    from qunlian.per_mu.models import MuniResult, MuniRun

    latest = select(func.max(MuniRun.id)).scalar_subquery()
    graded = (select(MuniResult.enterprise_id, MuniResult.grade)
              .where(MuniResult.run_id == latest, MuniResult.grade.in_(("B", "C"))).subquery())
    enterprise = session.scalars(ent_query.join(graded, graded.c.enterprise_id == Enterprise.id)
                                 .order_by(graded.c.grade, Enterprise.uscc).limit(1)).first()
    if enterprise is None:
        enterprise = session.scalars(ent_query.order_by(Enterprise.uscc).limit(1)).first()

    wanted: list[tuple[str, dict[str, Any]]] = [
        ("admin", {}),
        ("analyst", {}),
        ("department", {"department": "市科技局"}),
    ]
    if town is not None:
        wanted.append(("town", {"town_id": town.id}))
    if chain_node is not None:
        wanted.append(("chain", {"chain_node_id": chain_node.id}))
    if enterprise is not None:
        wanted.append(("enterprise", {"enterprise_id": enterprise.id}))

    named: list[tuple[str, str, dict[str, Any]]] = [(f"{DEMO_PREFIX}{role}", role, scope) for role, scope in wanted]
    for code in counties:
        region = session.scalars(select(Region).where(Region.code == code)).first()
        if region is None:
            continue
        tag = code.removeprefix(DEMO_PREFIX)
        named.append((f"{DEMO_PREFIX}analyst-{tag}", "analyst", {"region_id": region.id}))
        busiest = session.execute(
            select(Town.id).outerjoin(Enterprise, Enterprise.town_id == Town.id).where(Town.region_id == region.id)
            .group_by(Town.id).order_by(func.count(Enterprise.id).desc(), Town.seq, Town.code).limit(1)
        ).scalar_one_or_none()
        if busiest is not None:
            named.append((f"{DEMO_PREFIX}town-{tag}", "town", {"town_id": busiest}))

    policy = load_policy()
    logins = []
    for username, role, scope in named:
        if password:
            check_password(password, username, policy)
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, role=role, password_hash="")
            session.add(user)
        before = _demo_scope(user)
        kept = (keep or {}).get(username)
        if password:
            secret: str | None = password
        elif kept is not None and user.password_hash and verify_password(user.password_hash, kept):
            secret = kept  # unchanged since the last start
        elif kept is not None and user.password_hash:
            secret = None  # changed since by its user or an admin: theirs now, not printed
        else:
            secret = _generated_password(username, policy)
        new_password = secret is not None and secret != kept
        if new_password:
            user.password_hash = hash_password(secret)
            user.password_changed_at = _utc_now()
        user.role = role
        user.display_name = f"演示 {ROLE_NAMES[role]}"
        user.disabled = False
        # the printed demo logins sign in as printed: no change at first sign-in, no lock left over
        user.must_change_password = False
        user.locked_at = None
        user.failed_logins = 0
        user.last_failed_login_at = None
        user.department = scope.get("department")
        user.town_id = scope.get("town_id")
        user.chain_node_id = scope.get("chain_node_id")
        user.enterprise_id = scope.get("enterprise_id")
        # admin, analyst, department: the root region unless a county is given
        user.region_id = scope.get("region_id") or _scope_region(session, user)
        if new_password or _demo_scope(user) != before:
            end_sessions(user)  # a new password or scope: sessions of the previous login end
        session.flush()
        where = describe_scope(session, user)
        if role == "department" and chain_node is not None:
            where += "；" + _demo_grant(session, user, chain_node, actor)
        audit(session, actor, "user.demo", "user", user.id, username=username, role=role, scope=where,
              password="new" if new_password else "kept")
        logins.append({"username": username, "password": secret, "role": role, "scope": where})
    return logins


def scope_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """What an administrator picks a user's (or a grant's) scope from, by name: towns (code → "县 · 镇"
    when the store holds several counties), chain nodes down to the chain level (系统:代码 → "体系 › 链")
    and the departments of the store's regions (name → full name)."""
    regions = {r.id: r.name for r in session.scalars(select(Region))}
    towns = list(session.scalars(select(Town).order_by(Town.region_id, Town.seq, Town.code)))
    several = len({t.region_id for t in towns}) > 1
    nodes = list(session.scalars(select(ChainNode).where(ChainNode.level.in_(("system", "cluster", "chain")))
                                 .order_by(ChainNode.system, ChainNode.seq, ChainNode.id)))
    roots = {n.system: n.name for n in nodes if n.level == "system"}
    from qunlian.regions.models import Department

    departments = sorted({(d.name, d.full_name or d.name) for d in session.scalars(select(Department))})
    return {
        "towns": [(t.code, f"{regions.get(t.region_id, '')} · {t.name}" if several else t.name) for t in towns],
        "chains": [(f"{n.system}:{n.code}", n.name if n.level == "system" else f"{roots.get(n.system, n.system)} › {n.name}")
                   for n in nodes],
        "departments": departments,
    }


def _demo_scope(user: User) -> tuple:
    return (user.role, user.department, user.town_id, user.chain_node_id, user.enterprise_id, user.region_id)


DEMO_LOGINS_FILE = "demo-logins.txt"
CHANGED = "-"  # in the file: a password changed since (not known, not printed)


def read_demo_logins(path: Path) -> dict[str, str]:
    """username → password of the demo-logins file (empty when there is none)."""
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[1]] = parts[2]
    return out


def write_demo_logins(path: Path, logins: list[dict[str, Any]]) -> None:
    """The demo logins, one line each: ROLE USERNAME PASSWORD SCOPE… (readable by its owner only)."""
    lines = ["# 群链演示账号 qunlian demo logins: ROLE USERNAME PASSWORD SCOPE (\"-\": 密码已修改 changed since)"]
    lines += [f"{x['role']} {x['username']} {x['password'] or CHANGED} {x['scope']}" for x in logins]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600, exist_ok=True)
    tmp.chmod(0o600)
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def _generated_password(username: str, policy: Policy) -> str:
    """A random password that the preset accepts (token_urlsafe almost always does at once)."""
    while True:
        secret = secrets.token_urlsafe(12)
        if not password_problems(secret, username, policy):
            return secret


def _demo_grant(session: Session, user: User, chain_node: ChainNode, actor: str) -> str:
    """The demo department reads one chain's firms by grant, so the grant feature shows itself;
    earlier demo grants are revoked first (running the demo twice leaves one)."""
    from qunlian.accounts.grants import grant_access, revoke_grant
    from qunlian.accounts.models import AccessGrant

    active = list(session.scalars(select(AccessGrant).where(AccessGrant.user_id == user.id,
                                                            AccessGrant.revoked_at.is_(None))))
    if [(g.scope, g.chain_node_id) for g in active] != [("chain", chain_node.id)]:  # else: the one there is kept
        for old in active:
            revoke_grant(session, old.id, actor=actor)
        grant_access(session, username=user.username, scope="chain", chain=f"{chain_node.system}:{chain_node.code}",
                     reason="演示授权：高新技术企业培育核查", actor=actor)
    return f"授权只读 产业链 {chain_node.name}"


def _busiest_chain(session: Session, chains: list[ChainNode]) -> ChainNode | None:
    from qunlian.chains.service import subtree_ids

    best, best_count = None, -1
    for node in chains:
        ids = subtree_ids(session, node.id)
        count = session.scalar(
            select(func.count(func.distinct(EnterpriseChainNode.enterprise_id))).where(
                EnterpriseChainNode.node_id.in_(ids)
            )
        )
        if count > best_count:
            best, best_count = node, count
    return best


def format_logins(logins: list[dict[str, Any]]) -> str:
    """The demo logins as a small table a newcomer can copy from."""
    head = f"{'角色 role':<13} {'用户名 username':<18} {'密码 password':<22} 范围 scope"
    rows = [f"{x['role']:<13} {x['username']:<18} {x['password'] or '（已修改 changed）':<22} {x['scope']}" for x in logins]
    return "\n".join([head, *rows])


def principal_of(user: User, session: Session | None = None) -> Principal:
    """Snapshot of a user; with a session, a department user's grants in force are read too."""
    from qunlian.accounts.grants import active_grants  # grants uses this module

    grants = active_grants(session, user.id) if session is not None and user.role == "department" else ()
    regions: frozenset[int] | None = None
    if user.region_id is not None:
        from qunlian.regions.service import descendant_ids

        # without a session only the region itself: never wider than the user's region
        regions = frozenset(descendant_ids(session, user.region_id) if session is not None else {user.region_id})
    return Principal(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name or user.username,
        department=user.department,
        town_id=user.town_id,
        chain_node_id=user.chain_node_id,
        enterprise_id=user.enterprise_id,
        disabled=bool(user.disabled),
        grants=grants,
        region_id=user.region_id,
        region_ids=regions,
        must_change_password=bool(user.must_change_password),
        scope_name=_scope_name(session, user),
    )


def _scope_name(session: Session | None, user: User) -> str:
    if user.role == "department":
        return user.department or ""
    target = None
    if session is not None:
        if user.role == "town" and user.town_id:
            target = session.get(Town, user.town_id)
        elif user.role == "chain" and user.chain_node_id:
            target = session.get(ChainNode, user.chain_node_id)
        elif user.role == "enterprise" and user.enterprise_id:
            target = session.get(Enterprise, user.enterprise_id)
    return target.name if target is not None else ""


def load_principal(session: Session, user_id: int, session_version: int | None = None) -> Principal | None:
    """The active user with this id as a Principal (None when missing or disabled). session_version:
    the version a session cookie or API token carries; None when it is not the user's current one
    (the user logged out, changed password, was disabled or given another role since)."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        return None
    if session_version is not None and session_version != (user.session_version or 0):
        return None
    return principal_of(user, session)
