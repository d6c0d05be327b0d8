"""Accounts: argon2 passwords, user service validation, audit lines, demo logins, the users CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qunlian.accounts.service import principal_of
from qunlian.accounts.service import (
    AccountError,
    add_user,
    authenticate,
    create_demo_users,
    disable_user,
    hash_password,
    list_users,
    verify_password,
)
from qunlian.accounts.grants import list_grants
from qunlian.cli import app as cli_app
from qunlian.platform.db import session_factory, transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.platform.models import AuditLog
from qunlian.regions.models import Town
from qunlian.enterprises.scoping import enterprise_filter
from web_helpers import PASSWORD, login, make_client


def test_passwords_are_argon2_and_verify():
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "s3cret-pass")
    assert not verify_password(h, "wrong")
    assert not verify_password("not-a-hash", "x")
    assert not verify_password(None, "x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "boss"}, "角色 'boss' 不存在"),
        ({"role": "town"}, "需要范围参数 --town"),
        ({"role": "chain"}, "需要范围参数 --chain"),
        ({"role": "enterprise"}, "需要范围参数 --uscc"),
        ({"role": "analyst", "town": "danghu"}, "--town 只用于角色 town"),
        ({"role": "town", "town": "nowhere"}, "找不到镇街道 'nowhere'"),
        ({"role": "chain", "chain": "4q8l:nothing"}, "找不到产业链节点"),
        ({"role": "enterprise", "uscc": "91330482MA00000000"}, "找不到统一社会信用代码"),
        ({"role": "admin", "password": "short"}, "密码太短"),
        ({"role": "admin", "username": "a b"}, "用户名 'a b' 不合法"),
        ({"role": "admin", "username": "ADMIN1"}, "已存在"),
    ],
)
def test_add_user_refuses_with_a_clear_message(web_store, kwargs, message):
    args = {"username": "newuser", "password": "long-enough-1", **kwargs}
    with transaction(web_store.engine) as s, pytest.raises(AccountError, match=message.replace("(", r"\(")):
        add_user(s, **args)


def test_unknown_town_lists_the_choices(web_store):
    with transaction(web_store.engine) as s, pytest.raises(AccountError) as err:
        add_user(s, username="user1", password="long-enough-1", role="town", town="x")
    assert "danghu（当湖街道）" in str(err.value)


def test_add_scoped_users_disable_and_audit(web_store):
    with transaction(web_store.engine) as s:
        t = add_user(s, username="town2", password="long-enough-1", role="town", town="乍浦镇", actor="tester")
        c = add_user(s, username="chain2", password="long-enough-1", role="chain", chain="光电通信")
        e = add_user(s, username="ent2", password="long-enough-1", role="enterprise", uscc=web_store.uscc["e3"].lower())
        assert s.get(Town, t.town_id).code == "zhapu"
        assert s.get(ChainNode, c.chain_node_id).code == "optical"
        assert s.get(Enterprise, e.enterprise_id).uscc == web_store.uscc["e3"]
    with transaction(web_store.engine) as s:
        assert authenticate(s, "town2", "long-enough-1").username == "town2"
        assert authenticate(s, "town2", "wrong") is None
        disable_user(s, "town2", actor="tester")
    with transaction(web_store.engine) as s:
        assert authenticate(s, "town2", "long-enough-1") is None
        rows = {r["username"]: r for r in list_users(s)}
        assert rows["town2"]["disabled"] and rows["town2"]["scope"] == "镇街道 乍浦镇"
        actions = [(a.actor, a.action) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert ("tester", "user.add") in actions and ("tester", "user.disable") in actions
        with pytest.raises(AccountError, match="不存在"):
            disable_user(s, "nobody")


def test_ambiguous_chain_reference_is_refused(web_store):
    with transaction(web_store.engine) as s:
        s.add(ChainNode(system="other", code="optical", level="chain", name="光电通信"))
    with transaction(web_store.engine) as s, pytest.raises(AccountError, match="不唯一"):
        add_user(s, username="chain3", password="long-enough-1", role="chain", chain="optical")
    with transaction(web_store.engine) as s:
        assert add_user(s, username="chain3", password="long-enough-1", role="chain", chain="4q8l:optical").chain_node_id


def test_demo_users_one_per_role_scoped_to_real_rows(web_store):
    with transaction(web_store.engine) as s:
        logins = create_demo_users(s, password="demo-pass-1")
    assert [x["role"] for x in logins] == ["admin", "analyst", "department", "town", "chain", "enterprise"]
    with session_factory(web_store.engine)() as s:
        users = {u.role: u for u in s.scalars(select(User).where(User.username.like("demo-%")))}
        assert s.get(Town, users["town"].town_id).code == "danghu"  # the town with most firms
        assert s.get(ChainNode, users["chain"].chain_node_id).level == "chain"
        own = s.scalars(select(Enterprise).where(enterprise_filter(principal_of(users["enterprise"])))).all()
        assert len(own) == 1 and own[0].town_id == users["town"].town_id
        # the demo department reads the demo chain's firms through a grant, read-only
        dept = principal_of(users["department"], s)
        chain = principal_of(users["chain"])
        assert dept.grants == (("chain", users["chain"].chain_node_id),)
        assert set(s.scalars(select(Enterprise.id).where(enterprise_filter(dept)))) == \
            set(s.scalars(select(Enterprise.id).where(enterprise_filter(chain))))
    assert "授权只读" in next(x["scope"] for x in logins if x["role"] == "department")
    client = make_client(web_store.engine)
    for x in logins:
        assert login(client, x["username"], x["password"]).status_code == 303
        client.cookies.clear()
    with transaction(web_store.engine) as s:  # running it again resets, and random passwords differ
        again = create_demo_users(s)
    assert len({x["password"] for x in again}) == len(again) and again[0]["password"] != "demo-pass-1"
    with session_factory(web_store.engine)() as s:  # one demo grant in force: the same one, not added again
        assert [g["state"] for g in list_grants(s, "demo-department")] == ["active"]


def test_demo_users_on_an_empty_store(engine):
    with transaction(engine) as s:
        assert [x["role"] for x in create_demo_users(s)] == ["admin", "analyst", "department"]


def test_users_cli(web_store, cli_env):
    run = CliRunner().invoke
    ok = run(cli_app, ["users", "add", "--username", "clitown", "--password", "long-enough-1", "--role", "town",
                       "--town", "danghu"])
    assert ok.exit_code == 0, ok.output
    assert "当湖街道" in ok.output
    bad = run(cli_app, ["users", "add", "--username", "xuser", "--password", "long-enough-1", "--role", "town"])
    assert bad.exit_code == 2 and "需要范围参数 --town" in bad.output
    bad = run(cli_app, ["users", "add", "--username", "xuser", "--password", "long-enough-1", "--role", "king"])
    assert bad.exit_code == 2 and "不存在" in bad.output
    listed = run(cli_app, ["users", "list"])
    assert listed.exit_code == 0 and "clitown\ttown\t镇街道 当湖街道\t启用" in listed.output
    assert run(cli_app, ["users", "disable", "clitown"]).exit_code == 0
    assert "clitown\ttown\t镇街道 当湖街道\t已停用" in run(cli_app, ["users", "list"]).output
    missing = run(cli_app, ["users", "disable", "ghost"])
    assert missing.exit_code == 2 and "不存在" in missing.output
    demo = run(cli_app, ["users", "demo", "--password", "demo-pass-1"])
    assert demo.exit_code == 0 and "demo-enterprise" in demo.output
    with session_factory(web_store.engine)() as s:
        assert authenticate(s, "demo-admin", "demo-pass-1") is not None
        assert authenticate(s, "admin1", PASSWORD) is not None


def test_users_cli_on_an_uninitialised_store(db_url, cli_env):
    result = CliRunner().invoke(cli_app, ["users", "list"])
    assert result.exit_code == 2 and "qunlian init" in result.output
