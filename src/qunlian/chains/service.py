"""Chain systems as stored: node look-ups and subtrees (the chain capability's public service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
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


def find_chain_node(session: Session, ref: str | None) -> ChainNode | None:
    if not ref or ":" not in ref:
        return None
    system, code = ref.split(":", 1)
    return session.scalars(select(ChainNode).where(ChainNode.system == system, ChainNode.code == code)).first()



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



def chain_options(session: Session) -> list[dict[str, str]]:
    """Chain-level nodes offered as list filters, as {"ref": "system:code", "label": …}."""
    return [
        {"ref": f"{n.system}:{n.code}", "label": f"{n.system} · {n.name}"}
        for n in session.scalars(
            select(ChainNode).where(ChainNode.level == "chain").order_by(ChainNode.system, ChainNode.seq, ChainNode.code)
        )
    ]
