"""Chain systems as stored: node look-ups and subtrees (the chain capability's public service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from qunlian.chains.models import ChainNode, EnterpriseChainNode


def subtree_select(node_id: int) -> Select:
    """SELECT of the ids of a chain node and all nodes below it (recursive CTE)."""
    tree = select(ChainNode.id).where(ChainNode.id == node_id).cte("chain_subtree", recursive=True, nesting=True)
    tree = tree.union_all(select(ChainNode.id).where(ChainNode.parent_id == tree.c.id))
    return select(tree.c.id)


def subtree_ids(session: Session, node_id: int) -> list[int]:
    return list(session.scalars(subtree_select(node_id)))


def chain_enterprise_ids(node_id: int) -> Select:
    """SELECT of the ids of enterprises linked to a node or any node below it."""
    return select(EnterpriseChainNode.enterprise_id).where(EnterpriseChainNode.node_id.in_(subtree_select(node_id)))


def chain_matches(session: Session, ref: str | None) -> list[ChainNode]:
    """The nodes a reference names: ``SYSTEM:CHAIN`` (exact), else a bare code or name (possibly several)."""
    ref = (ref or "").strip()
    if not ref:
        return []
    if ":" in ref:
        system, code = ref.split(":", 1)
        return list(session.scalars(select(ChainNode).where(ChainNode.system == system, ChainNode.code == code)))
    return list(session.scalars(select(ChainNode).where(or_(ChainNode.code == ref, ChainNode.name == ref))
                                .order_by(ChainNode.system, ChainNode.code)))


def find_chain_node(session: Session, ref: str | None) -> ChainNode | None:
    """A node by ``SYSTEM:CHAIN``, or by its bare code or name where that is unambiguous (else None)."""
    matches = chain_matches(session, ref)
    return matches[0] if len(matches) == 1 else None


def chain_systems(session: Session) -> list[dict[str, Any]]:
    """Chain taxonomies (public structure): system code, its root's name and node counts by level."""
    systems: dict[str, dict[str, Any]] = {}
    for system, level, n in session.execute(
        select(ChainNode.system, ChainNode.level, func.count()).group_by(ChainNode.system, ChainNode.level)
    ):
        d = systems.setdefault(system, {"system": system, "name": system, "levels": {}, "nodes": 0})
        d["levels"][level] = n
        d["nodes"] += n
    for root in session.scalars(select(ChainNode).where(ChainNode.level == "system")):
        if root.system in systems:
            systems[root.system]["name"] = root.name
    return [systems[k] for k in sorted(systems)]



def chain_options(session: Session, user: Any = None) -> list[dict[str, str]]:
    """Chain-level nodes offered as list filters, as {"ref": "system:code", "label": …}: for a user of
    one region, the chains of that region and the regions above it (another county's are not offered)."""
    q = select(ChainNode).where(ChainNode.level == "chain").order_by(ChainNode.system, ChainNode.seq, ChainNode.code)
    region_ids = getattr(user, "region_ids", None)
    if region_ids is not None:
        from qunlian.regions.service import ancestors

        allowed = set(region_ids) | {r.id for rid in region_ids for r in ancestors(session, rid)}
        q = q.where(ChainNode.region_id.in_(sorted(allowed)))
    names = dict(session.execute(select(ChainNode.system, ChainNode.name).where(ChainNode.level == "system")).all())
    return [{"ref": f"{n.system}:{n.code}", "label": f"{names.get(n.system, n.system)} · {n.name}"}
            for n in session.scalars(q)]