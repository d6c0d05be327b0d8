"""The audit log's hash chain (issue #12 item 11): every line chained to the one before, append-only in
the store, any edit found by `verify`, one order when two writers append at once, and the lines stored
before the chain chained by the migration."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command
from audit_helpers import lines, tamper, write
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from qunlian.platform import auditlog
from qunlian.platform.auditlog import (
    ANCHOR_MISSING,
    BROKEN_HASH,
    BROKEN_LINK,
    GENESIS,
    entry_hash,
    row_hash,
    verify,
)
from qunlian.platform.db import (
    alembic_config,
    audit,
    make_engine,
    migrate,
    session_factory,
    transaction,
)
from qunlian.platform.models import AuditLog


def check(engine, **kwargs):
    with session_factory(engine)() as s:
        return verify(s, **kwargs)


def test_every_line_names_the_one_before_and_its_own_hash(engine):
    write(engine, 3, note="逐条")
    with transaction(engine) as s:  # two lines in one transaction chain too
        audit(s, "tester", "test.pair", "thing", "a")
        audit(s, "tester", "test.pair", "thing", "b", nested={"k": [1, 2.5, None]}, keys=(1, 2))
    rows = lines(engine)
    assert len(rows) == 5
    assert rows[0].prev_hash == GENESIS
    for before, row in itertools.pairwise(rows):
        assert row.prev_hash == before.hash
    for row in rows:
        assert len(row.hash) == 64 and row.hash == row_hash(row)
    assert rows[-1].detail == {"nested": {"k": [1, 2.5, None]}, "keys": [1, 2]}  # as JSON gives it back
    report = check(engine)
    assert report.ok and report.entries == 5 and report.head_id == rows[-1].id and report.head_hash == rows[-1].hash


def test_the_hash_covers_every_field_and_the_previous_hash(engine):
    write(engine, 1)
    row = lines(engine)[0]
    fields = {"prev_hash": row.prev_hash, "at": row.at, "actor": row.actor, "action": row.action,
              "entity": row.entity, "entity_id": row.entity_id, "origin": row.origin, "detail": row.detail}
    assert entry_hash(**fields) == row.hash
    for name, other in (("prev_hash", "0" * 64), ("actor", "someone"), ("action", "x"), ("entity", "y"),
                        ("entity_id", "9"), ("origin", "10.0.0.1"), ("detail", {"i": 1}),
                        ("at", row.at.replace(microsecond=(row.at.microsecond + 1) % 1_000_000))):
        assert entry_hash(**{**fields, name: other}) != row.hash, name


def test_origin_is_cli_unless_the_context_says_otherwise(engine):
    write(engine, 1)
    with auditlog.origin("203.0.113.7"):
        write(engine, 1)
    write(engine, 1)
    assert [r.origin for r in lines(engine)] == ["cli", "203.0.113.7", "cli"]
    assert check(engine).ok


def test_the_store_refuses_to_change_or_remove_a_line(engine):
    write(engine, 2)
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                *(("TRUNCATE audit_log",) if engine.dialect.name == "postgresql" else ())):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with session_factory(engine)() as s:  # nor through the ORM
        row = s.scalars(select(AuditLog).limit(1)).one()
        row.actor = "mallory"
        with pytest.raises(DBAPIError, match="append-only"):
            s.commit()
    assert [r.actor for r in lines(engine)] == ["tester", "tester"]


def test_an_edited_line_is_found(engine):
    write(engine, 4)
    second = lines(engine)[1]
    tamper(engine, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=second.id)
    report = check(engine)
    assert not report.ok and report.broken_id == second.id and report.reason == BROKEN_HASH and report.entries == 1
    assert str(second.id) in report.message()


def test_an_edit_that_rewrites_its_own_hash_breaks_the_next_link(engine):
    write(engine, 4)
    rows = lines(engine)
    forged = entry_hash(rows[1].prev_hash, rows[1].at, "mallory", rows[1].action, rows[1].entity,
                        rows[1].entity_id, rows[1].origin, rows[1].detail)
    # the unique prev_hash makes the next line's link the first casualty
    tamper(engine, "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE id = :id", h=forged, id=rows[1].id)
    report = check(engine)
    assert not report.ok and report.broken_id == rows[2].id and report.reason == BROKEN_LINK


def test_a_removed_line_is_found_and_a_removed_tail_by_its_anchor(engine):
    write(engine, 5)
    rows = lines(engine)
    tamper(engine, "DELETE FROM audit_log WHERE id = :id", id=rows[2].id)
    report = check(engine)
    assert not report.ok and report.broken_id == rows[3].id and report.reason == BROKEN_LINK

    head = rows[-1].hash
    tamper(engine, "DELETE FROM audit_log WHERE id >= :id", id=rows[2].id)
    assert check(engine).ok  # the chain alone cannot tell that the newest lines went …
    report = check(engine, anchor=head)  # … the head noted earlier can
    assert not report.ok and report.reason == ANCHOR_MISSING and report.broken_id is None
    assert check(engine, anchor=rows[1].hash).ok


def test_two_writers_at_once_append_one_after_the_other(engine):
    """The first writer holds its transaction open after appending; the second, starting meanwhile,
    waits for it and chains onto its line (without the lock both would follow the same line)."""
    write(engine, 1)
    appended, done = threading.Event(), []

    def slow():
        with transaction(engine) as s:
            audit(s, "slow", "test.concurrent")
            appended.set()
            time.sleep(0.5)
        done.append("slow")

    def quick():
        appended.wait(5)
        with transaction(engine) as s:
            audit(s, "quick", "test.concurrent")
        done.append("quick")

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert done == ["slow", "quick"]
    rows = lines(engine)
    assert [r.actor for r in rows] == ["tester", "slow", "quick"]
    assert rows[2].prev_hash == rows[1].hash and check(engine).ok


def test_many_writers_at_once_keep_one_chain(engine):
    n, per = 2, 15
    barrier, errors = threading.Barrier(n), []

    def writer(name: str) -> None:
        barrier.wait()
        try:
            for i in range(per):
                with transaction(engine) as s:
                    audit(s, name, "test.concurrent", i=i)
        except Exception as exc:  # noqa: BLE001 - any failure, shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    report = check(engine)
    assert report.ok and report.entries == n * per
    assert sorted(r.actor for r in lines(engine)) == sorted(f"w{k}" for k in range(n) for _ in range(per))


def test_the_migration_chains_the_lines_stored_before_it(db_url):
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0008")
    old = sa.table("audit_log", sa.column("at", sa.DateTime(timezone=True)), sa.column("actor", sa.String),
                   sa.column("action", sa.String), sa.column("entity", sa.String), sa.column("entity_id", sa.String),
                   sa.column("detail", sa.JSON))
    with engine.begin() as conn:
        conn.execute(old.insert(), [
            {"actor": "cli", "action": "reference.load", "entity": "plans", "entity_id": "", "detail": {"plans": 4}},
            {"actor": "admin1", "action": "auth.login", "entity": "user", "entity_id": "1",
             "detail": {"client": "192.0.2.10", "via": "web"}},
            {"actor": "admin1", "action": "user.add", "entity": "user", "entity_id": "2", "detail": {"名": "张三"}},
        ])
        conn.execute(text("INSERT INTO audit_log (actor, action, entity, entity_id, detail) "
                          "VALUES ('cli', 'demo.generate', 'enterprises', 'x', '{}')"))  # the server's clock
    migrate(engine)
    rows = lines(engine)
    assert [r.origin for r in rows] == ["", "192.0.2.10", "", ""]
    assert rows[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    report = check(engine)
    assert report.ok and report.entries == 4
    write(engine, 1)  # new lines follow on
    assert check(engine).entries == 5 and lines(engine)[-1].prev_hash == rows[-1].hash
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    command.downgrade(cfg, "0008")  # and back: the columns and triggers go
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    engine.dispose()
