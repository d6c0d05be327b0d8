"""Chains: the taxonomies (四群八链 4q8l, 1212 …) as trees with scoped firm counts per node."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from qunlian.store.scoping import Principal, chain_systems, chain_tree
from qunlian.web.deps import get_db, render, require_user

router = APIRouter(include_in_schema=False)


@router.get("/chains")
def chains_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    return render(request, "chains.html", {"systems": chain_systems(db)})


@router.get("/chains/{system}")
def chain_page(request: Request, system: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    roots = chain_tree(db, user, system) if len(system) <= 40 else None
    if roots is None:
        raise HTTPException(404)
    return render(request, "chain_system.html", {"system": system, "roots": roots})
