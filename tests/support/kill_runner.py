"""Run the real `qunlian` command and SIGKILL it at a chosen point of its database work.

Used by tests/enterprises/test_kill_safe.py as a script:

    python kill_runner.py ARG...        (the arguments of `qunlian`, e.g. import enterprise-years FILE)

It installs SQLAlchemy event listeners on the Engine *class* (so every engine the command creates is
watched, whatever its internals are called), then calls the `qunlian` console-script entry point with
sys.argv set. Nothing here knows the importer's functions: the points are counted in SQL statements.

Environment:
  KILL_AT      where to die; unset or empty: don't, only count (see KILL_COUNTS)
                 after-write:N      just after the N-th INSERT/UPDATE/DELETE ran (inside the open transaction)
                 after-statement:N  just after the N-th SQL statement of any kind ran
                 commit:K           at the K-th commit that ends a transaction with writes, before COMMIT is sent
                 first-after-open   just before the first SQL statement after the KILL_FILE was opened
                                    (the file has been read; the store is being read and checked)
  KILL_FILE    the import file (for first-after-open and for the counts)
  KILL_COUNTS  where a run that is not killed writes what it saw, as JSON:
                 statements, writes, write_commits (commits ending a transaction with writes),
                 before_first_write (statements before the first write), after_open (the statement
                 index current when KILL_FILE was first opened), events (S/W/C per statement or commit)
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITE = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT)\b", re.IGNORECASE | re.DOTALL)

MODE, _, _ARG = (os.environ.get("KILL_AT") or "").partition(":")
TARGET = int(_ARG) if _ARG else 0
FILE = os.path.realpath(os.environ["KILL_FILE"]) if os.environ.get("KILL_FILE") else None

state = {"statements": 0, "writes": 0, "write_commits": 0, "before_first_write": None, "after_open": None,
         "pending_writes": 0, "events": []}


def die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _opened(name: str, args: tuple) -> None:
    if name == "open" and state["after_open"] is None and args and isinstance(args[0], (str, bytes, os.PathLike)):
        try:
            if os.path.realpath(os.fsdecode(args[0])) == FILE:
                state["after_open"] = state["statements"]
        except (TypeError, ValueError):
            pass


if FILE is not None:
    sys.addaudithook(_opened)


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn, cursor, statement, parameters, context, executemany) -> None:
    if MODE == "first-after-open" and state["after_open"] is not None:
        die()


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany) -> None:
    state["statements"] += 1
    if WRITE.match(statement):
        if state["before_first_write"] is None:
            state["before_first_write"] = state["statements"] - 1
        state["writes"] += 1
        state["pending_writes"] += 1
        state["events"].append("W")
        if MODE == "after-write" and state["writes"] == TARGET:
            die()
    else:
        state["events"].append("S")
    if MODE == "after-statement" and state["statements"] == TARGET:
        die()


@event.listens_for(Engine, "commit")
def _commit(conn) -> None:
    # ConnectionEvents.commit runs before the DBAPI commit: nothing of this transaction is committed yet
    if state["pending_writes"]:
        state["write_commits"] += 1
        state["events"].append("C")
        if MODE == "commit" and state["write_commits"] == TARGET:
            die()
    state["pending_writes"] = 0


@event.listens_for(Engine, "rollback")
def _rollback(conn) -> None:
    state["pending_writes"] = 0


def _report() -> None:
    path = os.environ.get("KILL_COUNTS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({k: v for k, v in state.items() if k != "pending_writes"}, f)


def _entry_point():
    """The `qunlian` console script's callable (pyproject's [project.scripts]), as installed."""
    from importlib.metadata import entry_points

    found = list(entry_points(group="console_scripts", name="qunlian"))
    if found:
        return found[0].load()
    import qunlian.cli  # not installed as a distribution: the same entry, by name

    return qunlian.cli.main


if __name__ == "__main__":
    atexit.register(_report)
    main = _entry_point()
    sys.argv = ["qunlian", *sys.argv[1:]]
    main()
