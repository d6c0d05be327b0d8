"""Department access grants: read-only firm data by grant, in the query layer, the pages, the API and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qunlian.accounts.service import principal_of
from qunlian.accounts.grants import grant_access, list_grants, revoke_grant
from qunlian.accounts.service import AccountError
from qunlian.cli import app as cli_app
from qunlian.platform.db import session_factory, transaction
from qunlian.accounts.models import AccessGrant, User
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import AuditLog
from qunlian.accounts.grants import active_grants
from qunlian.enterprises.scoping import enterprise_filter, enterprise_year_filter, get_enterprise
from qunlian.platform.permissions import Principal

from web_helpers import PASSWORD, csrf_of, login


def dept(session) -> Principal:
    return principal_of(session.scalars(select(User).where(User.username == "dept1")).one(), session)


def seen(session, p: Principal) -> set[str]:
    return set(session.scalars(select(Enterprise.uscc).where(enterprise_filter(p))))


def keys(store, *names) -> set[str]:
    return {store.uscc[n] for n in names}


def test_department_sees_nothing_without_a_grant(web_store):
    with session_factory(web_store.engine)() as s:
        p = dept(s)
        assert p.grants == () and not p.granted
        assert seen(s, p) == set()


@pytest.mark.parametrize(
    ("scope", "target", "visible"),
    [("all", {}, ("e1", "e2", "e3", "e4", "e5")),
     ("town", {"town": "zhapu"}, ("e3", "e4")),
     ("chain", {"chain": "4q8l:optical"}, ("e1", "e3"))],
)
def test_a_grant_opens_exactly_its_firms(web_store, scope, target, visible):
    with transaction(web_store.engine) as s:
        grant_access(s, username="dept1", scope=scope, reason="高企认定核查", actor="admin1", **target)
    with session_factory(web_store.engine)() as s:
        p = dept(s)
        assert seen(s, p) == keys(web_store, *visible)
        figures = set(s.scalars(select(Enterprise.uscc).join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
                                .where(enterprise_year_filter(p))))
        assert figures <= keys(web_store, *visible) and figures
        outside = set(web_store.uscc.values()) - keys(web_store, *visible)
        assert all(get_enterprise(s, p, code) is None for code in outside)


def test_grants_add_up_and_end_when_revoked_or_expired(web_store):
    with transaction(web_store.engine) as s:
        town = grant_access(s, username="dept1", scope="town", town="xindai", reason="技改核查", actor="admin1")
        chain = grant_access(s, username="dept1", scope="chain", chain="4q8l:optical", reason="链上核查",
                             expires_on=dt.date.today(), actor="admin1")
    with session_factory(web_store.engine)() as s:
        assert seen(s, dept(s)) == keys(web_store, "e1", "e3", "e5")
    with transaction(web_store.engine) as s:
        revoke_grant(s, town.id, actor="admin1")
    with session_factory(web_store.engine)() as s:
        assert seen(s, dept(s)) == keys(web_store, "e1", "e3")
    # the day after its end date the chain grant is no longer in force
    with session_factory(web_store.engine)() as s:
        user_id = s.scalars(select(User.id).where(User.username == "dept1")).one()
        assert active_grants(s, user_id) == (("chain", chain.chain_node_id),)
        assert active_grants(s, user_id, today=dt.date.today() + dt.timedelta(days=1)) == ()
    with session_factory(web_store.engine)() as s:
        states = {g["id"]: g["state"] for g in list_grants(s)}
        assert states == {town.id: "revoked", chain.id: "active"}
        actions = [a for (a,) in s.execute(select(AuditLog.action).where(AuditLog.action.like("grant.%")))]
        assert actions == ["grant.add", "grant.add", "grant.revoke"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"username": "town1", "scope": "all", "reason": "核查"}, "只用于角色 department"),
     ({"username": "nobody", "scope": "all", "reason": "核查"}, "不存在"),
     ({"username": "dept1", "scope": "everything", "reason": "核查"}, "授权范围"),
     ({"username": "dept1", "scope": "town", "reason": "核查"}, "--town"),
     ({"username": "dept1", "scope": "town", "town": "atlantis", "reason": "核查"}, "找不到镇街道"),
     ({"username": "dept1", "scope": "all", "town": "zhapu", "reason": "核查"}, "只用于授权范围 town"),
     ({"username": "dept1", "scope": "all", "reason": " "}, "事由"),
     ({"username": "dept1", "scope": "all", "reason": "核查", "expires_on": dt.date(2020, 1, 1)}, "已过")],
)
def test_bad_grants_are_refused_and_store_nothing(web_store, kwargs, message):
    with session_factory(web_store.engine)() as s:
        with pytest.raises(AccountError, match=message):
            grant_access(s, actor="admin1", **kwargs)
        s.rollback()
        assert s.scalars(select(AccessGrant)).all() == []


def test_granted_department_reads_firms_on_pages_and_api_but_cannot_adjust(web_store, client):
    with transaction(web_store.engine) as s:
        grant_access(s, username="dept1", scope="town", town="zhapu", reason="质量抽查", actor="admin1")
    assert login(client, "dept1").status_code == 303
    home = client.get("/")
    assert 'href="/enterprises"' in home.text
    listing = client.get("/enterprises")
    assert listing.status_code == 200
    assert web_store.uscc["e3"] in listing.text and web_store.uscc["e1"] not in listing.text
    assert client.get(f"/enterprises/{web_store.uscc['e3']}").status_code == 200
    assert client.get(f"/enterprises/{web_store.uscc['e1']}").status_code == 404
    assert client.get("/muni").status_code == 200
    token = client.post("/api/token", json={"username": "dept1", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    api = client.get("/api/enterprises", headers=auth).json()
    listed = {item["uscc"] for item in (api["items"] if isinstance(api, dict) else api)}
    assert listed == keys(web_store, "e3", "e4")
    assert client.get(f"/api/enterprises/{web_store.uscc['e5']}", headers=auth).status_code in (403, 404)
    # read-only: a 亩均 adjustment is refused whatever the run id
    page = client.get("/muni")
    r = client.post("/muni/runs/1/adjust", data={"uscc": web_store.uscc["e3"], "points": "5", "reason": "x",
                                                  "csrf_token": csrf_of(page.text)})
    assert r.status_code in (403, 404)


def test_department_without_grant_has_no_enterprise_link(client):
    assert login(client, "dept1").status_code == 303
    home = client.get("/")
    assert 'href="/enterprises"' not in home.text
    assert client.get("/muni").status_code == 403


def test_admin_grants_and_revokes_on_the_users_page(web_store, client):
    assert login(client, "admin1").status_code == 303
    page = client.get("/users")
    assert page.status_code == 200 and 'data-testid="add-grant"' in page.text
    bad = client.post("/users/grants", data={"username": "dept1", "scope": "town", "town": "", "reason": "核查",
                                             "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 400 and "--town" in bad.text
    ok = client.post("/users/grants", data={"username": "dept1", "scope": "chain", "chain": "4q8l:nev",
                                            "reason": "新能源汽车链核查", "expires_on": "",
                                            "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert ok.status_code == 303
    page = client.get("/users")
    assert "新能源汽车链核查" in page.text and "4q8l:nev" in page.text
    with session_factory(web_store.engine)() as s:
        grant_id = s.scalars(select(AccessGrant.id)).one()
        assert seen(s, dept(s)) == keys(web_store, "e2", "e5")
    no_csrf = client.post(f"/users/grants/{grant_id}/revoke")
    assert no_csrf.status_code == 403
    r = client.post(f"/users/grants/{grant_id}/revoke", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    with session_factory(web_store.engine)() as s:
        assert seen(s, dept(s)) == set()


def test_other_roles_cannot_manage_grants(client):
    assert login(client, "analyst1").status_code == 303
    page = client.get("/")
    r = client.post("/users/grants", data={"username": "dept1", "scope": "all", "reason": "x x",
                                           "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403


def test_cli_grant_list_revoke(web_store, cli_env):
    runner = CliRunner()
    r = runner.invoke(cli_app, ["users", "grant", "--username", "dept1", "--town", "zhapu", "--reason", "抽查"], env=cli_env)
    assert r.exit_code == 0, r.output
    assert "乍浦镇" in r.output
    r = runner.invoke(cli_app, ["users", "grant", "--username", "dept1", "--all", "--town", "zhapu", "--reason", "x"],
                      env=cli_env)
    assert r.exit_code == 2 and "只选一个" in r.output
    r = runner.invoke(cli_app, ["users", "grant", "--username", "dept1", "--all", "--reason", "抽查", "--expires", "31/12"],
                      env=cli_env)
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = runner.invoke(cli_app, ["users", "grants"], env=cli_env)
    assert r.exit_code == 0 and "dept1" in r.output and "active" in r.output
    with session_factory(web_store.engine)() as s:
        grant_id = s.scalars(select(AccessGrant.id)).one()
    r = runner.invoke(cli_app, ["users", "revoke", str(grant_id)], env=cli_env)
    assert r.exit_code == 0
    r = runner.invoke(cli_app, ["users", "revoke", "999"], env=cli_env)
    assert r.exit_code == 2 and "不存在" in r.output
    with session_factory(web_store.engine)() as s:
        assert seen(s, dept(s)) == set()
