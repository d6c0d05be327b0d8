"""Small pure aggregates for the overview, town and chain pages.

Per-mu figures (万元/亩) divide by land in 亩 and are computed only over firms that report land:
a firm without land would otherwise inflate a town's 亩均.
"""


from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.enterprises.service import enterprise_filter
from qunlian.platform.permissions import ScopeHolder


@dataclass
class TreeNode:
    id: int
    code: str
    name: str
    level: str
    kind: str | None
    industry_codes: list[str]
    children: list[TreeNode] = field(default_factory=list)
    firms: int = 0  # distinct linked firms in this node's subtree
    by_industry: dict[str, int] = field(default_factory=dict)  # linked firms in the subtree by industry code
    matched: int = 0  # firms whose industry code falls under the subtree's industry codes

    def walk(self) -> Iterable[tuple[int, TreeNode]]:
        stack = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))


def code_matches(code: str | None, prefixes: Iterable[str]) -> bool:
    """A 4-digit GB/T 4754 code falls under any of the given codes (division, group or class)."""
    return bool(code) and any(code.startswith(p) for p in prefixes if p)


def build_chain_tree(
    nodes: Sequence[Mapping[str, Any]],
    links: Iterable[tuple[int, int, str | None]],
    industry_counts: Mapping[str | None, int] | None = None,
) -> list[TreeNode]:
    """Roots of a chain system with firm counts rolled up the tree.

    nodes: dicts with id, parent_id, code, name, level, kind, industry_codes, seq.
    links: (node_id, enterprise_id, industry_code) of the linked firms the caller may see.
    industry_counts: firms the caller may see, counted by industry code (for the `matched` column).
    """
    by_id = {
        n["id"]: TreeNode(n["id"], n["code"], n["name"], n["level"], n.get("kind"), list(n.get("industry_codes") or []))
        for n in nodes
    }
    order = {n["id"]: (n.get("seq") or 0, n["code"]) for n in nodes}
    roots: list[TreeNode] = []
    for n in sorted(nodes, key=lambda n: order[n["id"]]):
        parent = by_id.get(n.get("parent_id"))
        (parent.children if parent else roots).append(by_id[n["id"]])

    direct: dict[int, dict[int, str | None]] = defaultdict(dict)
    for node_id, ent_id, industry in links:
        direct[node_id][ent_id] = industry
    counts = industry_counts or {}

    def roll(node: TreeNode) -> tuple[dict[int, str | None], set[str]]:
        firms = dict(direct.get(node.id, {}))
        codes = set(node.industry_codes)
        for child in node.children:
            f, c = roll(child)
            firms.update(f)
            codes |= c
        node.firms = len(firms)
        tally: dict[str, int] = defaultdict(int)
        for industry in firms.values():
            tally[industry or "—"] += 1
        node.by_industry = dict(sorted(tally.items()))
        node.matched = sum(n for code, n in counts.items() if code_matches(code, codes))
        return firms, codes

    for root in roots:
        roll(root)
    return roots


def chain_tree(session: Session, user: ScopeHolder | None, system: str) -> list[Any] | None:
    """The nodes of one system as a tree, with the firms the user may see counted per node."""
    nodes = session.execute(
        select(
            ChainNode.id, ChainNode.parent_id, ChainNode.code, ChainNode.name, ChainNode.level,
            ChainNode.kind, ChainNode.industry_codes, ChainNode.seq,
        ).where(ChainNode.system == system)
    ).mappings().all()  # fmt: skip
    if not nodes:
        return None
    links = session.execute(
        select(EnterpriseChainNode.node_id, Enterprise.id, Enterprise.industry_code)
        .join(Enterprise, Enterprise.id == EnterpriseChainNode.enterprise_id)
        .join(ChainNode, ChainNode.id == EnterpriseChainNode.node_id)
        .where(ChainNode.system == system, enterprise_filter(user))
    ).all()
    industry_counts = dict(
        session.execute(
            select(Enterprise.industry_code, func.count())
            .where(enterprise_filter(user))
            .group_by(Enterprise.industry_code)
        ).all()
    )
    return build_chain_tree(nodes, links, industry_counts)

