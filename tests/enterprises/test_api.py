"""The JSON API: bearer tokens, scoped lists and profiles, 404 outside the scope, OpenAPI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qunlian.platform.db import transaction
from qunlian.accounts.models import User
from web_helpers import PASSWORD, VISIBLE


def token(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_token_needs_the_right_password(client):
    r = client.post("/api/token", json={"username": "town1", "password": "wrong"})
    assert r.status_code == 401 and "wrong" in r.json()["detail"]
    assert client.post("/api/token", json={"username": "town1"}).status_code == 422
    assert client.post("/api/token", json={"username": "town1", "password": PASSWORD, "x": 1}).status_code == 422


def test_api_needs_a_valid_unexpired_token(client, web_store):
    assert client.get("/api/enterprises").status_code == 401
    assert client.get("/api/enterprises", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    headers = token(client, "admin1")
    assert client.get("/api/me", headers=headers).json()["role"] == "admin"
    tampered = {"Authorization": headers["Authorization"][:-2] + "xx"}
    assert client.get("/api/me", headers=tampered).status_code == 401
    client.app.state.tokens.ttl_s = -1  # every token is now older than its lifetime
    r = client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_a_disabled_users_token_stops_working(client, web_store):
    headers = token(client, "chain1")
    assert client.get("/api/me", headers=headers).status_code == 200
    with transaction(web_store.engine) as s:
        s.scalars(select(User).where(User.username == "chain1")).one().disabled = True
    assert client.get("/api/me", headers=headers).status_code == 401


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_lists_and_profiles_are_scoped(client, web_store, role):
    headers = token(client, web_store.users[role])
    visible = {web_store.uscc[k] for k in VISIBLE[role]}
    for params in ({}, {"year": 2022}, {"town": "danghu"}, {"town": "zhapu"}, {"chain": "4q8l:optical"}):
        body = client.get("/api/enterprises", params=params, headers=headers).json()
        assert {item["uscc"] for item in body["items"]} <= visible
    assert {i["uscc"] for i in client.get("/api/enterprises", headers=headers).json()["items"]} == visible
    missing = client.get("/api/enterprises/91330482MA2B999X00", headers=headers)
    for key, code in web_store.uscc.items():
        r = client.get(f"/api/enterprises/{code}", headers=headers)
        if key in VISIBLE[role]:
            assert r.status_code == 200 and r.json()["uscc"] == code
        else:  # exactly like a firm that does not exist
            assert r.status_code == 404 and r.json() == missing.json() == {"detail": "not found"}


def test_list_filters_pagination_and_figures(client, web_store):
    headers = token(client, "analyst1")
    body = client.get("/api/enterprises", params={"page_size": 2, "page": 3}, headers=headers).json()
    assert body["total"] == 5 and body["page"] == 3 and len(body["items"]) == 1 and body["year"] == 2023
    body = client.get("/api/enterprises", params={"chain": "4q8l:optical", "year": 2022}, headers=headers).json()
    items = {i["uscc"]: i for i in body["items"]}
    assert set(items) == {web_store.uscc["e1"], web_store.uscc["e3"]}
    assert items[web_store.uscc["e3"]]["year"] is None  # listed, but no figures for 2022
    item = items[web_store.uscc["e1"]]
    assert item["year"] == 2022
    assert (item["land_mu"], item["output_wan"], item["tax_wan"], item["tax_per_mu"]) == (50.0, 10000.0, 600.0, 12.0)
    assert client.get("/api/enterprises", params={"page_size": 501}, headers=headers).status_code == 422
    assert client.get("/api/enterprises", params={"chain": "4q8l:none"}, headers=headers).json()["total"] == 0
    profile = client.get(f"/api/enterprises/{web_store.uscc['e1']}", headers=headers).json()
    assert profile["industry_name"] == "光电子器件制造"
    assert [y["year"] for y in profile["years"]] == [2022, 2023]
    assert profile["years"][1]["tax_wan"] == 750.0
    assert {n["code"] for n in profile["chain_nodes"]} == {"optical-devices", "digital"}


def test_openapi_is_served_locally(client):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/token", "/api/enterprises", "/api/enterprises/{uscc}", "/api/me"} <= set(spec["paths"])
    assert not any(p.startswith(("/enterprises", "/login", "/towns")) for p in spec["paths"])  # pages stay out
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/nothing").json() == {"detail": "未找到"}
