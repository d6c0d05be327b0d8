"""Helpers for the web tests: a small store: 3 towns, two chain systems, 5 firms, one user per role.

Seeded into the `engine` fixture of tests/conftest.py, so it runs on SQLite by default and on
PostgreSQL when QUNLIAN_TEST_DATABASE_URL points at one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from qunlian.accounts.passwords import hash_password
from qunlian.core.uscc import make_uscc
from qunlian.platform.db import transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.regions.models import Park, Town
from qunlian.targets.models import Indicator, Plan
from qunlian.app import create_app
from qunlian.platform.web.settings import WebSettings

PASSWORD = "correct-horse-9"
EVIL_NAME = "<script>alert('x')</script>精密&机械有限公司"


@dataclass
class WebStore:
    engine: Engine
    uscc: dict[str, str] = field(default_factory=dict)  # key → USCC
    users: dict[str, str] = field(default_factory=dict)  # role → username


def seed(engine: Engine) -> WebStore:
    store = WebStore(engine)
    with transaction(engine) as s:
        towns = {
            code: Town(code=code, name=name, kind=kind, seq=seq, aliases=[])
            for code, name, kind, seq in (
                ("danghu", "当湖街道", "街道", 1),
                ("zhapu", "乍浦镇", "镇", 2),
                ("xindai", "新埭镇", "镇", 3),
            )
        }
        s.add_all(towns.values())
        s.flush()
        park = Park(code="pinghu-edz", name="平湖经济技术开发区", kind="开发区", town_id=towns["danghu"].id)
        s.add(park)
        plan = Plan(code="pinghu-mfg-test", title="平湖市制造业测试规划", level="county", region="平湖市",
                    start_year=2021, end_year=2025, source="test")
        plan.indicators = [Indicator(code=f"i{i}", seq=i, name=f"指标{i}", unit="亿元") for i in range(1, 4)]
        s.add(plan)

        root = ChainNode(system="4q8l", code="4q8l", level="system", name="四群八链")
        cluster = ChainNode(system="4q8l", code="it", level="cluster", name="新一代信息技术", parent=root, seq=1)
        optical = ChainNode(system="4q8l", code="optical", level="chain", name="光电通信", parent=cluster,
                            kind="key", seq=1, industry_codes=["397"])
        devices = ChainNode(system="4q8l", code="optical-devices", level="segment", name="光器件",
                            parent=optical, seq=1, industry_codes=["3976"])
        equip = ChainNode(system="4q8l", code="equipment", level="cluster", name="高端装备", parent=root, seq=2)
        nev = ChainNode(system="4q8l", code="nev", level="chain", name="新能源汽车", parent=equip, kind="key",
                        seq=1, industry_codes=["3670"])
        r1212 = ChainNode(system="1212", code="1212", level="system", name="1212 产业体系")
        digital = ChainNode(system="1212", code="digital", level="chain", name="数字产业", parent=r1212, seq=1,
                            industry_codes=["39"])
        s.add_all([root, cluster, optical, devices, equip, nev, r1212, digital])
        s.flush()

        firms = [
            # key, name, town, industry, nodes, years: (year, above, land, output, tax)
            ("e1", "平湖光联通信有限公司", "danghu", "3976", [devices, digital],
             [(2022, True, 50.0, 10000.0, 600.0), (2023, True, 50.0, 15000.0, 750.0)]),
            ("e2", "平湖新能汽车零部件有限公司", "danghu", "3670", [nev],
             [(2022, False, 20.0, 1800.0, 40.0), (2023, True, 20.0, 2600.0, 90.0)]),
            ("e3", "乍浦光纤科技有限公司", "zhapu", "3976", [optical],
             [(2023, True, 30.0, 9000.0, 300.0)]),
            ("e4", EVIL_NAME, "zhapu", "3421", [],
             [(2023, False, 12.5, 800.0, 10.0)]),
            ("e5", "新埭电驱动有限公司", "xindai", "3670", [nev],
             [(2022, True, 40.0, 7000.0, 280.0), (2023, True, None, 7500.0, 310.0)]),
        ]
        for n, (key, name, town, industry, nodes, years) in enumerate(firms, start=1):
            code = make_uscc("330482", f"MA2B{n:03d}X")
            ent = Enterprise(uscc=code, name=name, town_id=towns[town].id, industry_code=industry,
                             park_id=park.id if town == "danghu" else None, flags=[])
            ent.years = [
                EnterpriseYear(year=y, above_scale=a, land_mu=land, output_wan=o, tax_wan=t)
                for y, a, land, o, t in years
            ]
            s.add(ent)
            s.flush()
            for node in nodes:
                s.add(EnterpriseChainNode(enterprise_id=ent.id, node_id=node.id))
            store.uscc[key] = code
        s.flush()

        by_code = {e.uscc: e for e in s.query(Enterprise)}
        pw = hash_password(PASSWORD)
        users = [
            User(username="admin1", role="admin", password_hash=pw, display_name="管理员"),
            User(username="analyst1", role="analyst", password_hash=pw, display_name="分析员"),
            User(username="dept1", role="department", password_hash=pw, department="市科技局", display_name="科技局"),
            User(username="town1", role="town", password_hash=pw, town_id=towns["danghu"].id, display_name="当湖"),
            User(username="chain1", role="chain", password_hash=pw, chain_node_id=optical.id, display_name="光电链"),
            User(username="ent1", role="enterprise", password_hash=pw,
                 enterprise_id=by_code[store.uscc["e1"]].id, display_name="光联通信"),
        ]
        s.add_all(users)
        store.users = {u.role: u.username for u in users}
    return store


# who sees which firms (by key), the contract the tests check everywhere
VISIBLE = {
    "admin": {"e1", "e2", "e3", "e4", "e5"},
    "analyst": {"e1", "e2", "e3", "e4", "e5"},
    "department": set(),
    "town": {"e1", "e2"},
    "chain": {"e1", "e3"},
    "enterprise": {"e1"},
}


def make_client(engine: Engine, **settings) -> TestClient:
    app = create_app(engine, settings=WebSettings(secret_key="test-secret-key", **settings))
    return TestClient(app, raise_server_exceptions=False)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )


def app_routes(app) -> list:
    """Every APIRoute the app serves, with its mounted path in ``route.mounted`` (``qunlian.app.served_routes``)."""
    from qunlian.app import served_routes

    return served_routes(app)
