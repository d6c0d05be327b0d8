"""Which chain each evaluated firm belongs to, from the store's enterprise ↔ chain-node links.

A firm linked to a segment or node counts under that node's chain-level ancestor; a firm in two
chains counts in both (the chain aggregates are not additive across chains, by design).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise


def chain_pairs(session: Session, usccs: Iterable[str] | None = None, system: str | None = None) -> pa.Table:
    """(uscc, chain) pairs, chain labelled "体系 · 链名"; only ``usccs`` when given, only ``system`` when given."""
    nodes = {n.id: n for n in session.scalars(select(ChainNode))}

    def chain_of(node_id: int) -> ChainNode | None:
        seen: set[int] = set()
        n = nodes.get(node_id)
        while n is not None and n.id not in seen:
            if n.level == "chain":
                return n
            seen.add(n.id)
            n = nodes.get(n.parent_id) if n.parent_id else None
        return None

    wanted = set(usccs) if usccs is not None else None
    pairs: set[tuple[str, str]] = set()
    links = select(Enterprise.uscc, EnterpriseChainNode.node_id).join(
        Enterprise, Enterprise.id == EnterpriseChainNode.enterprise_id)
    for uscc, node_id in session.execute(links):
        if wanted is not None and uscc not in wanted:
            continue
        chain = chain_of(node_id)
        if chain is not None and (system is None or chain.system == system):
            pairs.add((uscc, f"{chain.system} · {chain.name}"))
    ordered = sorted(pairs)
    return pa.table({"uscc": pa.array([p[0] for p in ordered], pa.string()),
                     "chain": pa.array([p[1] for p in ordered], pa.string())})
