"""`qunlian audit verify` and `qunlian audit list`."""

from __future__ import annotations

import json

from audit_helpers import lines, tamper, write
from typer.testing import CliRunner

from qunlian.cli import app
from qunlian.platform import auditlog
from qunlian.platform.db import make_engine, migrate

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def store(cli_env):
    engine = make_engine(cli_env["QUNLIAN_DATABASE_URL"])
    migrate(engine)
    return engine


def test_verify_says_ok_with_the_count_and_the_head(cli_env):
    engine = store(cli_env)
    r = run("audit", "verify")
    assert r.exit_code == 0 and r.output.strip() == "ok 0 entries"
    write(engine, 3)
    r = run("audit", "verify")
    head = lines(engine)[-1]
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["ok 3 entries", f"head #{head.id} {head.hash}"]
    assert run("audit", "verify", "--anchor", head.hash).exit_code == 0
    r = run("audit", "verify", "--anchor", "f" * 64)
    assert r.exit_code == 1 and "链头哈希不在链中" in r.output


def test_verify_names_the_first_broken_line_and_exits_1(cli_env, monkeypatch):
    engine = store(cli_env)
    write(engine, 4)
    victim = lines(engine)[2]
    tamper(engine, "UPDATE audit_log SET entity_id = 'x' WHERE id = :id", id=victim.id)
    r = run("audit", "verify")
    assert r.exit_code == 1
    assert f"第 {victim.id} 条断开" in r.output and "记录被修改" in r.output
    monkeypatch.setenv("QUNLIAN_LANG", "en")
    assert str(victim.id) in run("audit", "verify").output


def test_verify_needs_an_initialised_store(cli_env):
    r = run("audit", "verify")
    assert r.exit_code == 2 and "qunlian init" in r.output


def test_list_filters_and_json(cli_env):
    engine = store(cli_env)
    write(engine, 3, actor="cli", action="user.add")
    with auditlog.origin("198.51.100.4"):
        write(engine, 2, actor="admin1", action="muni.adjust", reason="复核")
    r = run("audit", "list", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["id"] for x in rows] == sorted((x["id"] for x in rows), reverse=True) and len(rows) == 5
    assert set(rows[0]) == {"id", "at", "actor", "action", "entity", "entity_id", "origin", "detail", "prev_hash", "hash"}
    assert rows[0]["at"].endswith("Z") and rows[0]["origin"] == "198.51.100.4" and rows[0]["detail"]["reason"] == "复核"

    def ids(*args):
        out = run("audit", "list", "--format", "json", *args)
        assert out.exit_code == 0, out.output
        return len(json.loads(out.output))

    assert ids("--actor", "admin1") == 2
    assert ids("--action", "user") == 3 and ids("--action", "user.add") == 3 and ids("--action", "use") == 0
    assert ids("--origin", "cli") == 3
    assert ids("--since", "2000-01-01", "--until", "2999-12-31") == 5 and ids("--until", "2000-01-01") == 0
    assert ids("--limit", "2") == 2 and ids("--limit", "0") == 5
    table = run("audit", "list", "--actor", "admin1")
    assert table.exit_code == 0 and "muni.adjust" in table.output and "198.51.100.4" in table.output
    assert len(table.output.splitlines()) == 2
    bad = run("audit", "list", "--since", "昨天")
    assert bad.exit_code == 2 and "无法识别" in bad.output
    assert run("audit", "list", "--format", "xml").exit_code == 2
