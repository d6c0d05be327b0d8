"""Issue #12 items 3–5: sessions and tokens end at logout, password change, disable and role change;
the password policy (a dated preset), first sign-in change, account lockout with admin unlock;
forwarded headers believed only from the proxies named in QUNLIAN_TRUSTED_PROXIES."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner
from web_helpers import PASSWORD, csrf_of, login, make_client

from qunlian.accounts.models import User
from qunlian.platform.options import cli_actor
from qunlian.app import create_app
from qunlian.cli import app as cli_app
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.models import AuditLog
from qunlian.platform.web.settings import WebSettings

NEW_PASSWORD = "Brand-new-Pass-7"


def token_of(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def captured(client: TestClient) -> TestClient:
    """Another client holding a copy of the session cookie (as an attacker who captured it would)."""
    other = TestClient(client.app, raise_server_exceptions=False)
    other.cookies.set("qunlian_session", client.cookies.get("qunlian_session"))
    return other


def reads(client: TestClient, path: str = "/enterprises") -> bool:
    return client.get(path, follow_redirects=False).status_code == 200


def user_row(engine, username: str) -> User:
    with session_factory(engine)() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        s.expunge(user)
        return user


def actions(engine) -> list[tuple[str, str]]:
    with session_factory(engine)() as s:
        return [(a.actor, a.action) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]


def client_at(engine, address: str, **settings) -> TestClient:
    app = create_app(engine, settings=WebSettings(secret_key="test-secret-key", **settings))
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


# --------------------------------------------------------------------------- item 3: revocable sessions


def test_logout_ends_a_captured_cookie_and_the_tokens_issued_before(web_store):
    client = make_client(web_store.engine)
    assert login(client, "town1").status_code == 303
    thief = captured(client)
    headers = token_of(client, "town1")
    assert reads(thief) and client.get("/api/me", headers=headers).status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)}, follow_redirects=False)
    assert r.status_code == 303
    stale = thief.get("/enterprises", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")
    assert client.get("/api/me", headers=headers).status_code == 401
    # a fresh login works, with a fresh token
    again = make_client(web_store.engine)
    assert login(again, "town1").status_code == 303 and reads(again)
    assert again.get("/api/me", headers=token_of(again, "town1")).status_code == 200


def test_password_change_ends_every_other_session_and_token(web_store):
    here, elsewhere = make_client(web_store.engine), make_client(web_store.engine)
    login(here, "town1")
    login(elsewhere, "town1")
    headers = token_of(here, "town1")
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
            "csrf_token": csrf_of(here.get("/account/password").text)}
    r = here.post("/account/password", data=form, follow_redirects=False)
    assert r.status_code == 303 and "changed=1" in r.headers["location"]
    assert reads(here)  # the session that changed it goes on
    assert not reads(elsewhere) and here.get("/api/me", headers=headers).status_code == 401
    assert login(make_client(web_store.engine), "town1").status_code == 401  # the old password is gone
    fresh = make_client(web_store.engine)
    assert login(fresh, "town1", NEW_PASSWORD).status_code == 303 and reads(fresh)
    assert ("town1", "auth.password_change") in actions(web_store.engine)


def test_password_change_checks_the_current_password_and_the_policy(web_store):
    client = make_client(web_store.engine)
    login(client, "town1")
    token = csrf_of(client.get("/account/password").text)
    for form, message in (
        ({"current": "wrong-one", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "当前密码不对"),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}, "两次输入的新密码不一致"),
        ({"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}, "不能与当前密码相同"),
        ({"current": PASSWORD, "new": "password", "confirm": "password"}, "密码太短"),
    ):
        r = client.post("/account/password", data={**form, "csrf_token": token})
        assert r.status_code == 400 and message in r.text, message
    assert login(make_client(web_store.engine), "town1").status_code == 303  # unchanged


@pytest.mark.parametrize("how", ["web", "cli"])
def test_disable_and_role_change_end_sessions_and_tokens(web_store, cli_env, how):
    admin = make_client(web_store.engine)
    login(admin, "admin1")
    town, chain = make_client(web_store.engine), make_client(web_store.engine)
    login(town, "town1")
    login(chain, "chain1")
    town_token, chain_token = token_of(town, "town1"), token_of(chain, "chain1")
    thief = captured(town)
    if how == "web":
        csrf = csrf_of(admin.get("/users").text)
        r = admin.post("/users/role", data={"username": "town1", "role": "town", "town": "zhapu", "csrf_token": csrf})
        assert r.status_code == 200 and "town1 → town（镇街道 乍浦镇）" in r.text
        assert admin.post("/users/chain1/disable", data={"csrf_token": csrf}).status_code == 200
    else:
        run = CliRunner().invoke
        r = run(cli_app, ["users", "role", "town1", "--role", "town", "--town", "zhapu"])
        assert r.exit_code == 0 and "乍浦镇" in r.output, r.output
        assert run(cli_app, ["users", "disable", "chain1"]).exit_code == 0
    for c in (town, thief, chain):
        assert not reads(c)
    for c, headers in ((town, town_token), (chain, chain_token)):
        assert c.get("/api/me", headers=headers).status_code == 401
    fresh = make_client(web_store.engine)
    assert login(fresh, "town1").status_code == 303 and "镇街道 乍浦镇" in fresh.get("/").text
    assert login(make_client(web_store.engine), "chain1").status_code == 401  # disabled stays out
    actor = "admin1" if how == "web" else cli_actor()
    assert (actor, "user.role") in actions(web_store.engine)


def test_role_change_is_checked_like_a_new_user(web_store):
    from qunlian.accounts.service import AccountError, set_role

    with transaction(web_store.engine) as s, pytest.raises(AccountError, match="需要范围参数 --town"):
        set_role(s, "analyst1", role="town")
    with transaction(web_store.engine) as s, pytest.raises(AccountError, match="唯一启用的管理员"):
        set_role(s, "admin1", role="analyst")
    with transaction(web_store.engine) as s, pytest.raises(AccountError, match="不存在"):
        set_role(s, "ghost", role="analyst")


def test_a_session_cookie_without_a_version_is_no_session(web_store):
    """A cookie signed before session versions existed (only the user id) does not sign anyone in."""
    from itsdangerous import URLSafeTimedSerializer

    client = make_client(web_store.engine)
    old = URLSafeTimedSerializer("test-secret-key", salt="qunlian.session").dumps({"uid": 1, "csrf": "x"})
    client.cookies.set("qunlian_session", old)
    assert not reads(client)


# --------------------------------------------------------------------------- item 4: password policy

WEAK = [
    ("        ", "密码太短"),
    ("password", "密码太短"),
    ("12345678", "密码太短"),
    ("aaaaaaaa", "密码太短"),
    ("abcdefghijkl", "至少 3 类"),
    ("newuser-Pass-9", "不能包含用户名"),
    ("Password123!", "常见密码"),
    ("P@ssw0rd2024", "常见密码"),
    ("Admin@12345", "常见密码"),
    ("Qwerty!2024", "常见密码"),
]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_weak_passwords_are_refused_everywhere_with_what_to_do(web_store, cli_env, password, message):
    from qunlian.accounts.service import AccountError, add_user

    with transaction(web_store.engine) as s, pytest.raises(AccountError, match=message):
        add_user(s, username="newuser", password=password, role="analyst")
    from qunlian.accounts.service import reset_password

    with transaction(web_store.engine) as s, pytest.raises(AccountError, match=message.replace("newuser", "")):
        reset_password(s, "analyst1", password.replace("newuser", "analyst1"))
    cli = CliRunner().invoke(cli_app, ["users", "add", "--username", "newuser", "--password", password,
                                       "--role", "analyst"])
    assert cli.exit_code == 2 and message in cli.output
    admin = make_client(web_store.engine)
    login(admin, "admin1")
    r = admin.post("/users", data={"username": "newuser", "password": password, "role": "analyst",
                                   "csrf_token": csrf_of(admin.get("/users").text)})
    assert r.status_code == 400 and message in r.text


def test_the_username_itself_is_refused(web_store):
    from qunlian.accounts.service import AccountError, add_user

    with transaction(web_store.engine) as s, pytest.raises(AccountError, match="不能包含用户名"):
        add_user(s, username="Zhang.San-2024", password="Zhang.San-2024", role="analyst")


def test_every_problem_is_named_at_once():
    from qunlian.accounts.policy import password_problems

    problems = password_problems("aaaa", "someone")
    assert len(problems) == 2 and "至少 10 个字符" in problems[0] and "可加上：大写字母、数字、其他符号" in problems[1]
    assert password_problems("correct-horse-9", "town1") == []
    assert password_problems("Qz7!mK2#pL", "town1") == []


def test_the_policy_is_a_dated_preset_loaded_through_the_rules_loader(tmp_path, monkeypatch):
    from qunlian.accounts.policy import (
        DEFAULT_PRESET,
        PRESET_DIR,
        PolicyError,
        load_policy,
        password_problems,
    )
    from qunlian.platform.rules import Dated

    policy = load_policy()
    assert isinstance(policy.rules, Dated) and policy.rules.id == "account-security" and policy.rules.version
    assert any("GB/T 22239-2019" == (s.doc_number or "") for s in policy.rules.sources)
    assert any(s.title.startswith("qunlian") for s in policy.rules.sources)
    assert (policy.password.min_length, policy.password.min_classes) == (10, 3)
    assert (policy.lockout.max_failures, policy.lockout.window_minutes) == (10, 30)
    assert len(policy.common) > 10_000 and {"password", "123456", "5201314", "admin@123"} <= policy.common
    text = (PRESET_DIR / DEFAULT_PRESET).read_text(encoding="utf-8")
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(text.replace("min_length: 10", "min_length: 14").replace("version: \"2025.1\"",
                                                                                  "version: \"2026.1\""),
                        encoding="utf-8")
    monkeypatch.setenv("QUNLIAN_ACCOUNT_POLICY", str(stricter))
    assert load_policy().password.min_length == 14
    # the common list is found beside the preset or in the package
    assert "至少 14 个字符" in password_problems("correct-horse", "x")[0]
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("min_classes: 3", "min_classes: 3\n  min_clases: 2"), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(wrong)
    assert "min_clases" in str(info.value) and "wrong.yaml" in str(info.value)


def test_a_user_created_by_an_admin_changes_the_password_before_anything_else(web_store):
    admin = make_client(web_store.engine)
    login(admin, "admin1")
    r = admin.post("/users", data={"username": "newtown", "password": "Initial-pass-42", "role": "town",
                                   "town": "danghu", "csrf_token": csrf_of(admin.get("/users").text)})
    assert r.status_code == 200 and "待改密码" in r.text
    user = make_client(web_store.engine)
    first = login(user, "newtown", "Initial-pass-42")
    assert first.status_code == 303 and first.headers["location"].startswith("/account/password")
    for path in ("/", "/enterprises", "/towns", "/chains"):
        r = user.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/account/password"), path
    hx = user.get("/enterprises", headers={"HX-Request": "true"}, follow_redirects=False)
    assert hx.status_code == 401 and hx.headers["HX-Redirect"] == "/account/password"
    page = user.get("/account/password")
    assert page.status_code == 200 and 'data-testid="must-change"' in page.text
    api = user.post("/api/token", json={"username": "newtown", "password": "Initial-pass-42"})
    assert api.status_code == 403 and "password change required" in api.json()["detail"]
    form = {"current": "Initial-pass-42", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD, "next": "/towns",
            "csrf_token": csrf_of(page.text)}
    done = user.post("/account/password", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/towns"
    assert reads(user, "/towns") and reads(user, "/enterprises")
    assert user.get("/api/me", headers=token_of(user, "newtown", NEW_PASSWORD)).status_code == 200
    assert not user_row(web_store.engine, "newtown").must_change_password


def test_cli_users_must_change_unless_told_otherwise(web_store, cli_env):
    run = CliRunner().invoke
    ok = run(cli_app, ["users", "add", "--username", "kj9", "--password", "Initial-pass-42", "--role", "analyst"])
    assert ok.exit_code == 0 and "首次登录时须修改密码" in ok.output, ok.output
    assert user_row(web_store.engine, "kj9").must_change_password
    api = run(cli_app, ["users", "add", "--username", "api9", "--password", "Initial-pass-42", "--role", "analyst",
                        "--no-must-change"])
    assert api.exit_code == 0 and not user_row(web_store.engine, "api9").must_change_password
    assert "kj9\tanalyst\t全市\t启用 active · 待改密码" in run(cli_app, ["users", "list"]).output
    # an admin's reset: checked, the owner changes it at next sign-in, its sessions end
    client = make_client(web_store.engine)
    login(client, "town1")
    weak = run(cli_app, ["users", "password", "town1", "--password", "12345678"])
    assert weak.exit_code == 2 and "密码太短" in weak.output
    reset = run(cli_app, ["users", "password", "town1", "--password", "Reset-pass-42"])
    assert reset.exit_code == 0, reset.output
    assert not reads(client)
    r = login(make_client(web_store.engine), "town1", "Reset-pass-42")
    assert r.status_code == 303 and r.headers["location"].startswith("/account/password")


def test_demo_logins_sign_in_as_printed_without_a_change(web_store):
    from qunlian.accounts.policy import password_problems
    from qunlian.accounts.service import create_demo_users

    with transaction(web_store.engine) as s:
        logins = create_demo_users(s)
    for x in logins:
        assert password_problems(x["password"], x["username"]) == []
        client = make_client(web_store.engine)
        r = login(client, x["username"], x["password"])
        assert r.status_code == 303 and r.headers["location"] == "/", x["username"]
        first = client.get("/")  # the 驾驶舱, or (a firm) its own page: signed in either way
        assert first.status_code == 200 and 'data-testid="who"' in first.text, x["username"]


# --------------------------------------------------------------------------- item 4: account lockout


def test_repeated_failures_from_many_addresses_lock_the_account_until_an_admin_unlocks(web_store, cli_env):
    # ten addresses, one failure each: the per-address pause never starts, the account lock does
    for n in range(10):
        r = login(client_at(web_store.engine, f"10.0.0.{n + 1}"), "town1", "wrong-password")
        assert r.status_code in (401, 403)
    assert r.status_code == 403 and "账号已锁定" in r.text
    right = login(client_at(web_store.engine, "10.0.0.99"), "town1")  # even the right password
    assert right.status_code == 403 and "账号已锁定" in right.text and "qunlian users unlock" in right.text
    api = make_client(web_store.engine).post("/api/token", json={"username": "town1", "password": PASSWORD})
    assert api.status_code == 403 and "locked" in api.json()["detail"]
    assert user_row(web_store.engine, "town1").locked_at is not None
    assert ("town1", "auth.locked") in actions(web_store.engine)
    assert "· 已锁定 locked" in CliRunner().invoke(cli_app, ["users", "list"]).output
    admin = make_client(web_store.engine)
    login(admin, "admin1")
    page = admin.get("/users")
    assert 'data-testid="locked"' in page.text
    r = admin.post("/users/town1/unlock", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and "已解锁" in r.text
    assert login(client_at(web_store.engine, "10.0.0.99"), "town1").status_code == 303
    assert ("admin1", "user.unlock") in actions(web_store.engine)


def test_cli_unlock_and_failures_outside_the_window_start_afresh(web_store, cli_env):
    client = client_at(web_store.engine, "10.0.1.1")
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)]
    client.app.state.throttle.clock = lambda: now[0]
    for _ in range(9):  # nine failures, each 20 minutes apart: within the window of the one before
        now[0] += dt.timedelta(minutes=20)
        assert login(client, "town1", "wrong-password").status_code == 401
    now[0] += dt.timedelta(minutes=31)  # the tenth comes after the window: the count starts afresh
    assert login(client, "town1", "wrong-password").status_code == 401
    assert user_row(web_store.engine, "town1").failed_logins == 1
    for _ in range(9):
        now[0] += dt.timedelta(minutes=20)
        login(client, "town1", "wrong-password")
    assert user_row(web_store.engine, "town1").locked_at is not None
    run = CliRunner().invoke
    assert run(cli_app, ["users", "unlock", "town1"]).exit_code == 0
    assert login(client, "town1").status_code == 303
    assert user_row(web_store.engine, "town1").failed_logins == 0
    again = run(cli_app, ["users", "unlock", "town1"])
    assert again.exit_code == 2 and "未被锁定" in again.output
    assert run(cli_app, ["users", "unlock", "ghost"]).exit_code == 2


def test_a_success_clears_the_count(web_store):
    client = client_at(web_store.engine, "10.0.2.1")
    for _ in range(4):
        login(client, "town1", "wrong-password")
    assert login(client, "town1").status_code == 303
    assert user_row(web_store.engine, "town1").failed_logins == 0


# --------------------------------------------------------------------------- item 5: forwarded headers


def test_forwarded_for_from_an_untrusted_peer_is_ignored(web_store):
    client = client_at(web_store.engine, "127.0.0.1")  # loopback, which uvicorn trusted by default
    for n in range(5):
        r = login_via(client, "town1", "wrong-password", forwarded=f"203.0.113.{n + 1}")
        assert r.status_code == 401
    blocked = login_via(client, "town1", PASSWORD, forwarded="203.0.113.9")
    assert blocked.status_code == 429
    with session_factory(web_store.engine)() as s:
        clients = {a.detail.get("client") for a in s.scalars(select(AuditLog).where(AuditLog.action.like("auth.%")))}
    assert clients == {"127.0.0.1"}
    https = login_via(client_at(web_store.engine, "127.0.0.1"), "chain1", PASSWORD, proto="https")
    assert "Secure" not in https.headers["set-cookie"]


def test_forwarded_for_from_a_named_proxy_gives_the_client(web_store):
    proxy = client_at(web_store.engine, "10.9.8.7", trusted_proxies=("10.9.8.0/24",))
    for _ in range(5):
        assert login_via(proxy, "town1", "wrong-password", forwarded="203.0.113.1").status_code == 401
    assert login_via(proxy, "town1", PASSWORD, forwarded="203.0.113.1").status_code == 429
    ok = login_via(proxy, "town1", PASSWORD, forwarded="198.51.100.4", proto="https")  # another client
    assert ok.status_code == 303 and "Secure" in ok.headers["set-cookie"]
    with session_factory(web_store.engine)() as s:
        clients = {a.detail.get("client") for a in s.scalars(select(AuditLog).where(AuditLog.action.like("auth.%")))}
    assert clients == {"203.0.113.1", "198.51.100.4"}


def served(monkeypatch) -> TestClient:
    """The app as ``qunlian serve`` hands it to uvicorn, wrapped as uvicorn wraps it (its proxy-header
    handling included), reached from 127.0.0.1: a proxy on the same host, or anyone on it."""
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 0, result.output
    app = seen.pop("app")
    config = uvicorn.Config(app, **{k: v for k, v in seen.items() if k not in ("host", "port")})
    config.load()
    return TestClient(config.loaded_app, raise_server_exceptions=False, client=("127.0.0.1", 50000))


def test_the_served_app_ignores_forwarded_for_unless_the_proxy_is_named(web_store, cli_env, monkeypatch):
    monkeypatch.delenv("QUNLIAN_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    client = served(monkeypatch)
    for n in range(5):  # a new X-Forwarded-For each time: the throttle still counts the peer
        assert login_via(client, "town1", "wrong-password", forwarded=f"203.0.113.{n + 1}").status_code == 401
    assert login_via(client, "town1", PASSWORD, forwarded="203.0.113.9").status_code == 429
    # named in QUNLIAN_TRUSTED_PROXIES, the proxy's header gives the client
    monkeypatch.setenv("QUNLIAN_TRUSTED_PROXIES", "127.0.0.1")
    proxy = served(monkeypatch)
    assert login_via(proxy, "chain1", "wrong-password", forwarded="198.51.100.7").status_code == 401
    assert login_via(proxy, "chain1", PASSWORD, forwarded="198.51.100.8").status_code == 303
    with session_factory(web_store.engine)() as s:
        chain = {a.detail.get("client") for a in s.scalars(select(AuditLog).where(AuditLog.actor == "chain1"))}
    assert chain == {"198.51.100.7", "198.51.100.8"}


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUNLIAN_SECRET_KEY", "k")
    monkeypatch.delenv("QUNLIAN_TRUSTED_PROXIES", raising=False)
    assert WebSettings.from_env().trusted_proxies == ()
    monkeypatch.setenv("QUNLIAN_TRUSTED_PROXIES", "127.0.0.1, 10.1.2.0/24")
    assert WebSettings.from_env().trusted_proxies == ("127.0.0.1", "10.1.2.0/24")


def login_via(client: TestClient, username: str, password: str, forwarded: str | None = None,
              proto: str | None = None):
    headers = {k: v for k, v in (("X-Forwarded-For", forwarded), ("X-Forwarded-Proto", proto)) if v}
    page = client.get("/login", headers=headers)
    return client.post("/login", headers=headers, follow_redirects=False,
                       data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"})


def test_the_common_password_list_names_its_source():
    from qunlian.accounts.policy import DATA_DIR

    head = Path(DATA_DIR / "common-passwords.txt").read_text(encoding="utf-8").splitlines()[:10]
    assert any("zxcvbn 4.5.0" in line for line in head)
