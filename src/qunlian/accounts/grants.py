"""Access grants: read-only enterprise access for department users (DESIGN §2).

A department (市科技局, 市市场监管局 …) sees its own indicators and tasks; enterprise figures are
confidential, so it sees firms only through a grant an admin gives with a reason: all firms, one
town's firms, or one chain's firms, until an optional date. Grants are never edited: a change is a
revocation plus a new grant, so the audit trail shows who could see what, when and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qunlian.accounts.service import AccountError, find_chain_node, find_town
from qunlian.platform.db import audit
from qunlian.accounts.models import AccessGrant, User
from qunlian.chains.models import ChainNode
from qunlian.regions.models import Town

SCOPES = ("all", "town", "chain")
SCOPE_NAMES = {"all": "全市企业", "town": "镇街道", "chain": "产业链"}


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AccountError(f"用户 {username!r} 不存在（qunlian users list 列出全部用户）")
    return user


def grant_access(
    session: Session,
    *,
    username: str,
    scope: str,
    reason: str,
    town: str | None = None,
    chain: str | None = None,
    expires_on: dt.date | None = None,
    actor: str = "cli",
) -> AccessGrant:
    """Give a department user read-only access to firms; raises AccountError naming what to fix."""
    user = _user(session, username)
    if user.role != "department":
        raise AccountError(f"授权只用于角色 department 的用户；{user.username} 的角色是 {user.role}，其范围由角色决定")
    if scope not in SCOPES:
        raise AccountError(f"授权范围 {scope!r} 不存在；可选：all（全市企业）、town（一个镇街道）、chain（一条产业链）")
    if scope == "town" and not town:
        raise AccountError("授权范围 town 需要 --town（镇街道代码或名称）")
    if scope == "chain" and not chain:
        raise AccountError("授权范围 chain 需要 --chain（体系:代码，如 4q8l:…）")
    if scope != "town" and town:
        raise AccountError("--town 只用于授权范围 town")
    if scope != "chain" and chain:
        raise AccountError("--chain 只用于授权范围 chain")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise AccountError("请写明授权事由（例如：高企认定核查，2026 年度）——企业数据保密，授权须有依据")
    if expires_on is not None and expires_on < dt.date.today():
        raise AccountError(f"到期日 {expires_on.isoformat()} 已过；请给今天或以后的日期，或不设到期日")
    grant = AccessGrant(
        user_id=user.id,
        scope=scope,
        town_id=find_town(session, town).id if town else None,
        chain_node_id=find_chain_node(session, chain).id if chain else None,
        reason=reason[:300],
        expires_on=expires_on,
        granted_by=actor,
    )
    session.add(grant)
    session.flush()
    audit(session, actor, "grant.add", "access_grant", grant.id, username=user.username,
          scope=describe_grant(session, grant), reason=grant.reason,
          expires_on=expires_on.isoformat() if expires_on else None)
    return grant


def revoke_grant(session: Session, grant_id: int, actor: str = "cli") -> AccessGrant:
    grant = session.get(AccessGrant, grant_id)
    if grant is None:
        raise AccountError(f"授权 #{grant_id} 不存在（qunlian users grants 列出全部授权）")
    if grant.revoked_at is None:
        grant.revoked_by = actor
        grant.revoked_at = dt.datetime.now(dt.timezone.utc)
        audit(session, actor, "grant.revoke", "access_grant", grant.id, scope=describe_grant(session, grant))
    return grant


def describe_grant(session: Session, grant: AccessGrant) -> str:
    if grant.scope == "town":
        town = session.get(Town, grant.town_id) if grant.town_id else None
        return f"镇街道 {town.name if town else '?'}"
    if grant.scope == "chain":
        node = session.get(ChainNode, grant.chain_node_id) if grant.chain_node_id else None
        return f"产业链 {node.system}:{node.code}（{node.name}）" if node else "产业链 ?"
    return SCOPE_NAMES["all"]


def list_grants(session: Session, username: str | None = None, include_ended: bool = True) -> list[dict[str, Any]]:
    stmt = select(AccessGrant, User.username).join(User, User.id == AccessGrant.user_id).order_by(AccessGrant.id)
    if username:
        stmt = stmt.where(User.username == username.strip())
    today = dt.date.today()
    out = []
    for grant, uname in session.execute(stmt):
        if grant.revoked_at is not None:
            state = "revoked"
        elif grant.expires_on is not None and grant.expires_on < today:
            state = "expired"
        else:
            state = "active"
        if state != "active" and not include_ended:
            continue
        out.append({
            "id": grant.id, "username": uname, "scope": grant.scope, "target": describe_grant(session, grant),
            "reason": grant.reason, "expires_on": grant.expires_on, "granted_by": grant.granted_by,
            "granted_at": grant.granted_at, "revoked_by": grant.revoked_by, "revoked_at": grant.revoked_at,
            "state": state,
        })
    return out


def active_grants(session: Session, user_id: int, today: dt.date | None = None) -> tuple[tuple[str, int | None], ...]:
    """A user's access grants in force today (not revoked, not expired) as (scope, target id) pairs."""
    today = today or dt.date.today()
    rows = session.execute(
        select(AccessGrant.scope, AccessGrant.town_id, AccessGrant.chain_node_id)
        .where(AccessGrant.user_id == user_id, AccessGrant.revoked_at.is_(None),
               or_(AccessGrant.expires_on.is_(None), AccessGrant.expires_on >= today))
        .order_by(AccessGrant.id)
    )
    pairs = [(scope, town_id if scope == "town" else node_id if scope == "chain" else None)
             for scope, town_id, node_id in rows]
    return tuple(dict.fromkeys(pairs))

