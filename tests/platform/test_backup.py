"""`qunlian backup` and `qunlian restore` (issue #12 item 12): one file, every table back as it was,
a store with data overwritten only when forced, the audit chain verified after restoring — on SQLite
(online backup API) and PostgreSQL (pg_dump/pg_restore of the store's schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from audit_helpers import lines, write
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from qunlian.accounts.models import User
from qunlian.cli import app
from qunlian.core.errors import QunlianError
from qunlian.installed import metadata
from qunlian.platform.backup import backup, file_kind, is_empty, restore
from qunlian.platform.db import alembic_config, audit, make_engine, transaction

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (the installed tables and Alembic's), in primary-key order."""
    tables = [*metadata().sorted_tables, sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String, primary_key=True))]
    assert set(inspect(engine).get_table_names()) == {t.name for t in tables}  # nothing left out
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))] for t in tables}


def wipe(engine: Engine, url: str) -> None:
    """Make the store empty of everything, tables included: a new SQLite file, or the schema emptied."""
    engine.dispose()
    if engine.dialect.name == "sqlite":
        Path(engine.url.database).unlink()
        for suffix in ("-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
        return
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


@pytest.fixture
def filled(web_store, cli_env):
    """The small web store with audit lines, a grant and more, through the CLI's own store."""
    engine = web_store.engine
    r = run("users", "add", "--username", "kjj2", "--password", "Hx7#kq2-Lmw9z", "--role", "department",
            "--department", "市科技局")
    assert r.exit_code == 0, r.output
    r = run("users", "grant", "--username", "kjj2", "--all", "--reason", "高企培育核查")
    assert r.exit_code == 0, r.output
    write(engine, 3, note="备份前")
    return engine


def test_round_trip_gives_back_every_table(filled, cli_env, tmp_path):
    engine = filled
    target = tmp_path / "nightly" / "q.bak"
    r = run("backup", str(target))
    assert r.exit_code == 0, r.output
    assert target.is_file() and file_kind(target) == engine.dialect.name
    assert not list(target.parent.glob("*.part"))  # written beside and renamed into place
    before = snapshot(engine)
    head = lines(engine)[-1]
    assert head.action == "store.backup" and f"head #{head.id} {head.hash}" in r.output and "ok " in r.output

    # the day goes on: a new user, more lines
    with transaction(engine) as s:
        s.add(User(username="later", role="analyst", password_hash="x"))
        audit(s, "admin1", "user.add", "user", "later")
    assert snapshot(engine) != before

    r = run("restore", str(target))
    assert r.exit_code == 2 and "--force" in r.output  # a store with data is not overwritten …
    assert "later" in {u for (u,) in engine.connect().execute(select(User.username))}
    r = run("restore", str(target), "--force", "--by", "admin1")  # … unless forced
    assert r.exit_code == 0, r.output
    assert f"ok {len(before['audit_log'])} entries" in r.output

    after = snapshot(engine)
    assert after.keys() == before.keys()
    for name in before:
        if name != "audit_log":
            assert after[name] == before[name], name
    assert after["audit_log"][:-1] == before["audit_log"]  # the backup's lines, and one line about restoring
    last = lines(engine)[-1]
    assert (last.action, last.actor, last.prev_hash) == ("store.restore", "admin1", head.hash)
    assert last.detail["chain_ok"] is True and last.detail["file"] == "q.bak"

    # still append-only, and new rows get new ids (sequences came back too)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    with transaction(engine) as s:
        s.add(User(username="after", role="analyst", password_hash="x"))
        audit(s, "admin1", "user.add", "user", "after")
    assert run("audit", "verify", "--anchor", head.hash).exit_code == 0


def test_restore_into_an_empty_store(filled, cli_env, tmp_path, db_url):
    engine = filled
    target = tmp_path / "q.bak"
    result = backup(engine, target)
    assert result.chain.ok and result.size == target.stat().st_size and len(result.sha256) == 64
    before = snapshot(engine)
    wipe(engine, db_url)
    fresh = make_engine(db_url)
    assert is_empty(fresh)
    restored = restore(fresh, target)  # nothing to overwrite: no --force needed
    assert restored.chain.ok and restored.revision == restored.revision_before
    after = snapshot(fresh)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}
    assert after["audit_log"][:-1] == before["audit_log"]
    assert restored.rows["users"] == len(before["users"])
    fresh.dispose()


def test_a_migrated_store_without_rows_counts_as_empty(engine, tmp_path, db_url):
    assert is_empty(engine)
    write(engine, 1)
    assert not is_empty(engine)


def test_backup_refuses_to_overwrite_a_file(filled, cli_env, tmp_path):
    target = tmp_path / "q.bak"
    target.write_text("yesterday's")
    r = run("backup", str(target))
    assert r.exit_code == 2 and "已存在" in r.output and target.read_text() == "yesterday's"
    assert run("backup", str(target), "--force").exit_code == 0
    assert file_kind(target) == filled.dialect.name


def test_backup_by_default_goes_to_the_data_directory(filled, cli_env):
    r = run("backup")
    assert r.exit_code == 0, r.output
    made = list((Path(cli_env["QUNLIAN_DATA_DIR"]) / "backups").glob("qunlian-*"))
    assert len(made) == 1 and made[0].suffix == (".sqlite" if filled.dialect.name == "sqlite" else ".dump")


def test_restore_refuses_what_is_not_a_backup_of_this_kind(engine, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(QunlianError, match="不是 qunlian 的备份文件"):
        restore(engine, junk)
    other = tmp_path / "other.bak"
    other.write_bytes(b"PGDMP" if engine.dialect.name == "sqlite" else b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(QunlianError, match="只能恢复到同类数据库"):
        restore(engine, other)


def test_a_broken_chain_in_the_backup_is_reported(filled, cli_env, tmp_path):
    from audit_helpers import tamper

    victim = lines(filled)[1]
    tamper(filled, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=victim.id)
    target = tmp_path / "q.bak"
    r = run("backup", str(target))
    assert r.exit_code == 1 and f"第 {victim.id} 条断开" in r.output and target.is_file()
    r = run("restore", str(target), "--force")
    assert r.exit_code == 1 and f"第 {victim.id} 条断开" in r.output


def test_an_older_backup_is_brought_up_to_date(db_url, tmp_path):
    """A backup taken before the chain (schema 0008) restores, is upgraded and gets its chain."""
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (actor, action, entity, entity_id, detail) "
                          "VALUES ('cli', 'reference.load', 'plans', '', '{}')"))
    target = tmp_path / "old.bak"
    result = backup(engine, target)
    assert result.chain is None  # no chain to walk yet, and no line written into the old schema
    wipe(engine, db_url)
    fresh = make_engine(db_url)
    restored = restore(fresh, target)
    assert (restored.revision_before, restored.chain.ok, restored.chain.entries) == ("0008", True, 1)
    assert restored.revision != "0008"
    assert [r.action for r in lines(fresh)] == ["reference.load", "store.restore"]
    fresh.dispose()


def test_postgresql_backs_up_only_the_store_schema(filled, tmp_path, db_url):
    if filled.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with filled.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS qunlian_test_bystander"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS qunlian_test_bystander.keep (x int)"))
    try:
        target = tmp_path / "q.dump"
        backup(filled, target)
        from qunlian.platform.backup import _dump_schema, _toc

        schema = filled.connect().execute(text("SELECT current_schema()")).scalar()
        assert _dump_schema(_toc(target)) == schema
        assert "bystander" not in "\n".join(_toc(target))
        # a store in another schema is not the one the dump holds: refused, nothing touched
        other = create_engine(db_url.replace(schema, "qunlian_test_bystander"))
        with pytest.raises(QunlianError, match="模式"):
            restore(other, target, force=True)
        with other.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM keep")).scalar() == 0
        other.dispose()
    finally:
        with filled.begin() as conn:
            conn.execute(text("DROP SCHEMA qunlian_test_bystander CASCADE"))


def test_a_damaged_backup_changes_nothing(filled, cli_env, tmp_path):
    target = tmp_path / "q.bak"
    backup(filled, target)
    before = snapshot(filled)
    data = target.read_bytes()
    damaged = tmp_path / "damaged.bak"
    for keep in (0.5, 0.97):
        damaged.write_bytes(data[: int(len(data) * keep)])  # broken off, as by a full disk
        r = run("restore", str(damaged), "--force")
        assert r.exit_code == 2, r.output
        assert any(m in r.output for m in ("恢复失败", "pg_restore 失败", "不是 qunlian 的备份")), r.output
        assert snapshot(filled) == before


def test_postgresql_restores_in_one_transaction(filled, cli_env, tmp_path, monkeypatch):
    """A statement failing after the old tables were dropped: everything is rolled back."""
    if filled.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from qunlian.platform import backup as backup_module

    target = tmp_path / "q.dump"
    backup(filled, target)
    before = snapshot(filled)
    drops = backup_module._drops
    monkeypatch.setattr(backup_module, "_drops", lambda engine, schema: [*drops(engine, schema), "SELECT 1/0"])
    with pytest.raises(QunlianError, match="恢复失败.*division by zero"):
        restore(filled, target, force=True)
    assert snapshot(filled) == before


def test_round_trip_of_the_demo_county(store_backend: str, tmp_path, tmp_path_factory):
    """The demo county with plans, actuals, a 亩均 run, task progress, a closed task and evidence
    (binary): every table comes back row for row."""
    from demo_store import CLUSTERS, demo_store

    from qunlian.targets.evidence import add_evidence
    from qunlian.targets.ledger import add_progress, close_task

    store, drop = demo_store(tmp_path_factory, "backup-demo")
    engine = store.engine
    url = engine.url.render_as_string(hide_password=False)
    try:
        with transaction(engine) as s:
            add_progress(s, CLUSTERS, 3, "2024Q2", "推进中", entered_by="analyst1")
            add_evidence(s, CLUSTERS, 3, "进展.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
                         by="analyst1")
            close_task(s, CLUSTERS, 3, closed_by="analyst1", note="已完成")
        before = snapshot(engine)
        filled_tables = [name for name, rows in before.items() if rows]
        assert len(filled_tables) >= 20 and {"task_evidence", "muni_results", "actuals", "enterprise_years"} <= set(filled_tables)
        target = tmp_path / "demo.bak"
        backup(engine, target)
        before = snapshot(engine)  # with the backup's own line
        wipe(engine, url)
        fresh = make_engine(url)
        restored = restore(fresh, target)
        assert restored.chain.ok
        after = snapshot(fresh)
        assert after.keys() == before.keys()
        for name in before:
            if name != "audit_log":
                assert after[name] == before[name], name
        assert after["audit_log"][:-1] == before["audit_log"]  # and the line about restoring
        fresh.dispose()
    finally:
        drop()
