"""Ids beyond what a store can hold are refused before any route sees them.

The store's ids and numbers (run id, grant id, task number, evidence id) are INTEGER columns: 32-bit in
PostgreSQL, 64-bit in SQLite. A path or query value such as ``99999999999999999999`` passes FastAPI's
``int`` check and then raises in the driver (OverflowError in SQLite, "integer out of range" in
PostgreSQL: a 500 on every route with an id, issue #12). One app-wide dependency bounds every integer
parameter a route declares: a path id beyond INTEGER names nothing (404), a query number no driver can
bind is refused as FastAPI refuses a malformed one (422). Text parameters (a USCC of 18 digits, a hash) are not numbers and pass."""

from __future__ import annotations

import typing
from typing import Any

from fastapi import HTTPException, Request

from qunlian.platform.numbers import MAX_ID  # an id column: INTEGER, int4 in PostgreSQL (the narrower store)

MAX_NUMBER = 2**63 - 1  # a number compared in a query: what either driver can bind


def _out_of_range(value: Any, limit: int) -> bool:
    text = str(value).strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    # isdecimal, not isdigit: "²" is a digit int() refuses; one sign only: int("+-1") raises too
    return digits.isdecimal() and not -limit - 1 <= int(text) <= limit


def _is_int(annotation: Any) -> bool:
    """``int`` or ``int | None`` (not bool, which is an int to Python)."""
    if annotation is int:
        return True
    args = set(typing.get_args(annotation))
    return bool(args) and args <= {int, type(None)} and int in args


def _int_params(fields: list[Any]) -> set[str]:
    return {f.alias or f.name for f in fields if _is_int(getattr(f.field_info, "annotation", None))}


def bounded_ids(request: Request) -> None:
    """App-wide dependency: no integer parameter beyond the store's range reaches a handler."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    path_ints = _int_params(dependant.path_params)
    if any(_out_of_range(v, MAX_ID) for k, v in request.path_params.items() if k in path_ints):
        raise HTTPException(404)
    query_ints = _int_params(dependant.query_params)
    for k, v in request.query_params.items():
        if k in query_ints and _out_of_range(v, MAX_NUMBER):  # the shape of FastAPI's own 422
            raise HTTPException(422, detail=[{"loc": ["query", k], "msg": "integer out of range", "type": "int_range"}])
