"""Small pure aggregates for the overview, town and chain pages.

Per-mu figures (万元/亩) divide by land in 亩 and are computed only over firms that report land:
a firm without land would otherwise inflate a town's 亩均.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def per_mu(value: float | None, land_mu: float | None) -> float | None:
    """value / land in 万元/亩, or None when either is missing or the land is not positive."""
    if value is None or land_mu is None or land_mu <= 0:
        return None
    return value / land_mu


# --------------------------------------------------------------------------- enterprise counts


def scale_counts(rows: Iterable[tuple[int, bool | None, int]]) -> list[dict[str, int]]:
    """(year, above_scale, count) rows → one dict per year, newest first: above, below, unknown, total."""
    years: dict[int, dict[str, int]] = {}
    for year, above, count in rows:
        d = years.setdefault(year, {"year": year, "above": 0, "below": 0, "unknown": 0, "total": 0})
        d["above" if above is True else "below" if above is False else "unknown"] += count
        d["total"] += count
    return [years[y] for y in sorted(years, reverse=True)]


# --------------------------------------------------------------------------- town aggregates


@dataclass
class YearAggregate:
    year: int
    firms: int = 0
    above_scale: int = 0
    land_mu: float = 0.0
    output_wan: float = 0.0
    tax_wan: float = 0.0
    # sums over firms with land > 0 only, for the per-mu ratios
    _land_base: float = 0.0
    _output_on_land: float = 0.0
    _tax_on_land: float = 0.0

    @property
    def output_per_mu(self) -> float | None:
        return per_mu(self._output_on_land, self._land_base)

    @property
    def tax_per_mu(self) -> float | None:
        return per_mu(self._tax_on_land, self._land_base)


def aggregate_years(rows: Iterable[Mapping[str, Any]]) -> list[YearAggregate]:
    """Per-firm-year rows (year, above_scale, land_mu, output_wan, tax_wan) → totals per year, newest first."""
    out: dict[int, YearAggregate] = {}
    for r in rows:
        a = out.setdefault(r["year"], YearAggregate(year=r["year"]))
        a.firms += 1
        a.above_scale += 1 if r.get("above_scale") else 0
        land, output, tax = r.get("land_mu"), r.get("output_wan"), r.get("tax_wan")
        a.land_mu += land or 0.0
        a.output_wan += output or 0.0
        a.tax_wan += tax or 0.0
        if land is not None and land > 0:
            a._land_base += land
            a._output_on_land += output or 0.0
            a._tax_on_land += tax or 0.0
    return [out[y] for y in sorted(out, reverse=True)]


# --------------------------------------------------------------------------- chain trees


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
