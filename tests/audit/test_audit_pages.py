"""/audit: admins read the log (filters, pages, the chain's status); nobody else sees it or its link;
a web write records the client's address."""

from __future__ import annotations

import re

from audit_helpers import lines, tamper, write
from sqlalchemy import select
from web_helpers import login, make_client

from qunlian.platform.db import session_factory
from qunlian.platform.models import AuditLog


def entry_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-entry="(\d+)"', html)]


def test_only_admins_see_the_page_and_its_link(client, web_store):
    for role in ("analyst", "department", "town", "chain", "enterprise"):
        other = make_client(web_store.engine)
        login(other, web_store.users[role])
        assert 'href="/audit"' not in other.get("/").text, role
        assert other.get("/audit").status_code == 403, role
        assert other.get("/audit/verify").status_code == 403, role
    login(client, "admin1")
    assert 'href="/audit"' in client.get("/").text
    assert client.get("/audit").status_code == 200


def test_signed_out_visitors_go_to_the_login_page(client):
    r = client.get("/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_web_write_records_who_and_from_where(client, web_store):
    login(client, "admin1")
    with session_factory(web_store.engine)() as s:
        line = s.scalars(select(AuditLog).where(AuditLog.action == "auth.login")).one()
    assert (line.actor, line.origin) == ("admin1", "testclient")  # the TestClient's address
    page = client.get("/audit").text
    assert f'data-entry="{line.id}"' in page and "testclient" in page and "auth.login" in page


def test_filters_and_pages(client, web_store):
    write(web_store.engine, 60, actor="cli", action="test.bulk")
    write(web_store.engine, 2, actor="张三", action="targets.task.close", note="<b>销号</b>")
    login(client, "admin1")
    everything = lines(web_store.engine)

    page = client.get("/audit").text
    assert re.search(r'data-testid="audit-total">[^<]*63', page)
    ids = entry_ids(page)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and ids[0] == everything[-1].id
    second = client.get("/audit?page=2").text
    assert entry_ids(second) == sorted((r.id for r in everything), reverse=True)[50:]

    mine = client.get("/audit", params={"actor": "张三"}).text
    assert len(entry_ids(mine)) == 2 and "&lt;b&gt;销号&lt;/b&gt;" in mine and "<b>销号</b>" not in mine
    assert len(entry_ids(client.get("/audit", params={"action": "targets.task"}).text)) == 2  # a dotted prefix
    assert len(entry_ids(client.get("/audit", params={"action": "targets"}).text)) == 2
    assert entry_ids(client.get("/audit", params={"action": "targets.ta"}).text) == []
    assert len(entry_ids(client.get("/audit", params={"entity": "thing", "entity_id": "1"}).text)) == 2
    assert len(entry_ids(client.get("/audit", params={"origin": "testclient"}).text)) == 1
    assert entry_ids(client.get("/audit", params={"until": "2000-01-01"}).text) == []
    assert len(entry_ids(client.get("/audit", params={"since": "2000-01-01", "actor": "cli"}).text)) == 50
    upto = everything[5].id
    assert entry_ids(client.get("/audit", params={"upto": upto}).text) == list(range(upto, everything[0].id - 1, -1))

    bad = client.get("/audit", params={"since": "yesterday"})
    assert bad.status_code == 200 and 'data-testid="audit-error"' in bad.text


def test_the_chain_status_loads_after_the_page(client, web_store):
    write(web_store.engine, 3)
    login(client, "admin1")
    page = client.get("/audit").text
    assert 'hx-get="/audit/verify"' in page and 'href="/audit/verify"' in page  # a link without scripts
    fragment = client.get("/audit/verify", headers={"HX-Request": "true"}).text
    assert 'data-ok="true"' in fragment and "<html" not in fragment
    head = lines(web_store.engine)[-1]
    assert head.hash in fragment
    full = client.get("/audit/verify").text
    assert "<html" in full and 'data-ok="true"' in full


def test_a_broken_chain_is_shown_with_the_line(client, web_store):
    write(web_store.engine, 3)
    victim = lines(web_store.engine)[1]
    tamper(web_store.engine, "UPDATE audit_log SET detail = '{}' WHERE id = :id", id=victim.id)
    login(client, "admin1")
    fragment = client.get("/audit/verify", headers={"HX-Request": "true"}).text
    assert 'data-ok="false"' in fragment
    assert f'href="/audit?upto={victim.id}#entry-{victim.id}"' in fragment


def test_behind_a_trusted_proxy_the_origin_is_the_forwarded_client(web_store):
    from fastapi.testclient import TestClient

    from qunlian.app import create_app
    from qunlian.platform.web.settings import WebSettings

    app = create_app(web_store.engine, settings=WebSettings(secret_key="test-secret-key", trusted_proxies=("10.9.8.0/24",)))
    proxied = TestClient(app, raise_server_exceptions=False, client=("10.9.8.7", 50000))
    stranger = TestClient(app, raise_server_exceptions=False, client=("192.0.2.99", 50000))
    for client in (proxied, stranger):
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"username": "admin1", "password": "wrong", "csrf_token": token, "next": "/"},
                    headers={"X-Forwarded-For": "203.0.113.5"})
    with session_factory(web_store.engine)() as s:
        origins = list(s.scalars(select(AuditLog.origin).where(AuditLog.action == "auth.login_failed").order_by(AuditLog.id)))
    assert origins == ["203.0.113.5", "192.0.2.99"]  # a stranger's X-Forwarded-For is not believed
