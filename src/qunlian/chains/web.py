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
from qunlian.platform.web.deps import get_db, render, require_user

router = APIRouter(include_in_schema=False)

# A tree counts every linked firm in the caller's scope: kept per scope and system until the nodes,
# the links, the firms (whose industry codes change in place only through imports) or grants change.
_TREES = StoreCache("chain-tree", (ChainNode, EnterpriseChainNode, Enterprise, ImportBatch, AccessGrant))


@router.get("/chains")
def chains_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    return render(request, "chains/chains.html", {"systems": chain_systems(db)})


@router.get("/chains/{system}")
def chain_page(request: Request, system: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    if len(system) > 40:
        raise HTTPException(404)
    roots = _TREES.get(db, ("tree", scope_key(user), system), lambda: chain_tree(db, user, system))
    if roots is None:
        raise HTTPException(404)
    return render(request, "chains/chain_system.html", {"system": system, "roots": roots})
