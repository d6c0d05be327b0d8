"""Ids beyond what a store can hold are refused before any route sees them.

A run id, grant id, task number or evidence id is a 64-bit integer in PostgreSQL and SQLite; a path or
query value such as ``99999999999999999999`` passes FastAPI's ``int`` check and then raises
OverflowError in the SQLite driver (a 500 on every route with an id, issue #12). One app-wide
dependency bounds them all: a path id out of range names nothing (404), a query number out of range
is a bad request (400)."""

from __future__ import annotations

from fastapi import HTTPException, Request

MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER


def _too_big(value: str) -> bool:
    text = value.strip()
    return text.lstrip("+-").isdigit() and abs(int(text)) > MAX_ID


def bounded_ids(request: Request) -> None:
    """App-wide dependency: no path or query integer beyond the store's range reaches a handler."""
    if any(isinstance(v, str) and _too_big(v) for k, v in request.path_params.items() if k != "sha256"):
        raise HTTPException(404)
    if any(_too_big(v) for v in request.query_params.values() if len(v) > 18):
        raise HTTPException(400)
