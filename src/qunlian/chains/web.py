"""Chains: the taxonomies (四群八链 4q8l, 1212 …) as trees with scoped firm counts per node."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from qunlian.platform.cache import StoreCache, scope_key
from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.platform.models import ImportBatch
from qunlian.chains.service import chain_systems
from qunlian.chains.tree import chain_tree
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require_user, templates
from qunlian.platform.web.exports import ExportColumn, download, file_format, header_choice

router = APIRouter(include_in_schema=False)

# A tree counts every linked firm in the caller's scope: kept per scope and system until the nodes,
# the links, the firms (whose industry codes change in place only through imports) or grants change.
_TREES = StoreCache("chain-tree", (ChainNode, EnterpriseChainNode, Enterprise, ImportBatch, AccessGrant))


@router.get("/chains")
def chains_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    return render(request, "chains/chains.html", {"systems": chain_systems(db)})


def _tree_or_404(db: Session, user: Principal, system: str) -> list:
    if len(system) > 40:
        raise HTTPException(404)
    roots = _TREES.get(db, ("tree", scope_key(user), system), lambda: chain_tree(db, user, system))
    if roots is None:
        raise HTTPException(404)
    return roots


def _node_rows(roots: list) -> list[dict]:
    """The tree's nodes in the page's order, each with its parent's code and its depth."""
    rows = []

    def visit(node, parent, depth: int) -> None:
        rows.append({"code": node.code, "parent": parent, "depth": depth, "name": node.name, "level": node.level,
                     "kind": node.kind, "industry_codes": ", ".join(node.industry_codes or []), "firms": node.firms,
                     "matched": node.matched, "by_industry": node.by_industry})
        for child in node.children:
            visit(child, node.code, depth + 1)

    for root in roots:
        visit(root, None, 0)
    return rows


def _node_columns() -> tuple[ExportColumn, ...]:
    names = templates.env.globals  # the level and kind labels the page shows (msgids)
    return (
        ExportColumn("code", "节点代码", width=24), ExportColumn("parent", "上级节点代码", width=24),
        ExportColumn("depth", "层次"), ExportColumn("name", "节点", width=24),
        ExportColumn("level", "层级", labels=names["level_names"]), ExportColumn("kind", "类型", labels=names["kind_names"]),
        ExportColumn("industry_codes", "行业代码", width=30), ExportColumn("firms", "关联企业（家）"),
        ExportColumn("matched", "按行业代码匹配（家）"), ExportColumn("by_industry", "关联企业按行业代码（家）", width=40),
    )


@router.get("/chains/{system}/nodes.xlsx")
@router.get("/chains/{system}/nodes.csv")
def chain_export(request: Request, system: str, headers: str = Depends(header_choice), db: Session = Depends(get_db),
                 user: Principal = Depends(require_user)):
    """The chain tree of /chains/{system} (firm counts of the user's scope) as a file, one row per node."""
    roots = _tree_or_404(db, user, system)
    return download(_node_columns(), _node_rows(roots), file_format(request), headers, name=f"chains-{system}-nodes",
                    title="产业链节点")


@router.get("/chains/{system}")
def chain_page(request: Request, system: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    roots = _tree_or_404(db, user, system)
    return render(request, "chains/chain_system.html", {"system": system, "roots": roots})
