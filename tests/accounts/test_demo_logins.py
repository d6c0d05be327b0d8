"""Demo logins stay the same across restarts (issue #13 item 10): the passwords are kept in the data
directory's demo-logins file; a password its user changed is kept (not printed); the demo
department's grant is not added again; CLI writes name a person, not "cli"."""

from __future__ import annotations

import os
import stat

from sqlalchemy import func, select

from qunlian.accounts.models import AccessGrant, User
from qunlian.accounts.passwords import verify_password
from qunlian.accounts.service import create_demo_users, read_demo_logins, reset_password, write_demo_logins
from qunlian.platform.db import transaction
from qunlian.platform.options import cli_actor


def _versions(engine) -> dict[str, int]:
    with transaction(engine) as s:
        return {u.username: u.session_version for u in s.scalars(select(User).where(User.username.like("demo-%")))}


def test_a_restart_keeps_the_printed_logins_and_their_sessions(web_store, tmp_path):
    path = tmp_path / "demo-logins.txt"
    with transaction(web_store.engine) as s:
        first = create_demo_users(s, keep=read_demo_logins(path))
    write_demo_logins(path, first)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # passwords: readable by the owner only
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    assert [ln[0] for ln in lines] == [x["role"] for x in first]  # ROLE USERNAME PASSWORD SCOPE…
    assert {ln[1]: ln[2] for ln in lines} == {x["username"]: x["password"] for x in first}
    versions = _versions(web_store.engine)

    with transaction(web_store.engine) as s:  # the next start
        again = create_demo_users(s, keep=read_demo_logins(path))
    assert [(x["username"], x["password"]) for x in again] == [(x["username"], x["password"]) for x in first]
    assert _versions(web_store.engine) == versions  # nobody signed in was signed out
    with transaction(web_store.engine) as s:
        for x in again:
            user = s.scalar(select(User).where(User.username == x["username"]))
            assert verify_password(user.password_hash, x["password"])
        dept = s.scalar(select(User).where(User.username == "demo-department"))
        grants = s.scalar(select(func.count()).select_from(AccessGrant).where(AccessGrant.user_id == dept.id))
    assert grants == 1  # the demo grant is kept, not revoked and added again


def test_a_password_changed_by_its_user_is_kept(web_store, tmp_path):
    path = tmp_path / "demo-logins.txt"
    with transaction(web_store.engine) as s:
        write_demo_logins(path, create_demo_users(s, keep={}))
    with transaction(web_store.engine) as s:
        reset_password(s, "demo-town", "Their-own-pass-2026", actor="demo-town")
    with transaction(web_store.engine) as s:
        logins = {x["username"]: x for x in create_demo_users(s, keep=read_demo_logins(path))}
        town = s.scalar(select(User).where(User.username == "demo-town"))
        assert verify_password(town.password_hash, "Their-own-pass-2026")
    assert logins["demo-town"]["password"] is None and logins["demo-analyst"]["password"]
    write_demo_logins(path, list(logins.values()))
    assert read_demo_logins(path)["demo-town"] == "-"


def test_an_explicit_password_resets_every_login(web_store):
    with transaction(web_store.engine) as s:
        create_demo_users(s, keep={})
    before = _versions(web_store.engine)
    with transaction(web_store.engine) as s:
        logins = create_demo_users(s, password="Shared-demo-pass-2026")
    assert {x["password"] for x in logins} == {"Shared-demo-pass-2026"}
    after = _versions(web_store.engine)
    assert all(after[u] == before[u] + 1 for u in before)  # a new password ends the old sessions


def test_cli_writes_name_a_person(monkeypatch):
    assert cli_actor("  王科长 ") == "王科长"
    monkeypatch.setattr("getpass.getuser", lambda: "zhangsan")
    assert cli_actor() == "zhangsan" and cli_actor("") == "zhangsan"

    def nobody():
        raise KeyError("no name for this uid")

    monkeypatch.setattr("getpass.getuser", nobody)
    assert cli_actor() == "cli"
