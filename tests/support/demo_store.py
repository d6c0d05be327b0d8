"""The small demo county store shared by the targets, export, cache, backup and browser tests: built
once per test session, each module (or test) gets a copy of its own (``shared_stores``)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shared_stores import copy_of
from sqlalchemy import Engine, create_engine, func, select, text
from web_helpers import PASSWORD, login, make_client

from qunlian.accounts.passwords import hash_password
from qunlian.platform.db import make_engine, session_factory, transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.regions.models import Town

CLUSTERS = "pinghu-clusters-2023-2027"
MFG14 = "pinghu-mfg-14th"


@dataclass
class DemoStore:
    engine: Engine
    users: dict[str, str] = field(default_factory=dict)  # role → username
    town: str = "当湖街道"
    town_code: str = "danghu"


def _fresh_engine(tmp: Path) -> tuple[Engine, callable]:
    url = os.environ.get("QUNLIAN_TEST_DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        eng = make_engine(f"sqlite:///{tmp / 'targets-web.sqlite'}")
        return eng, lambda: None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    eng = make_engine(f"{url}{sep}options=-csearch_path%3D{schema}")

    def drop() -> None:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return eng, drop


def demo_store(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[DemoStore, callable]:
    """A copy of the session's demo county (in a folder ``name`` of its own) and the function that drops it."""
    return copy_of(DemoStore, fill_demo_store, tmp_path_factory.mktemp(name), tmp_path_factory.getbasetemp())


def fill_demo_store(engine: Engine) -> DemoStore:
    """The demo county (scale 0.1) with plans, actuals, a 亩均 run and one user per role, in a migrated store."""
    from qunlian.targets.service import load_demo_actuals, load_seed_actuals
    from qunlian.demo.load import load_demo
    from qunlian.targets.plans.loader import load_reference_data

    load_demo(engine, scale=0.1)
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
        load_seed_actuals(s)
        load_demo_actuals(s, CLUSTERS)
        load_demo_actuals(s, MFG14)
    from qunlian.per_mu.runs import evaluate_store
    from qunlian.enterprises.models import EnterpriseYear

    with session_factory(engine)() as s:
        year = s.scalar(select(func.max(EnterpriseYear.year)))
    evaluate_store(engine, "demo-pinghu", year, actor="test")
    store = DemoStore(engine)
    with transaction(engine) as s:
        town = s.scalar(select(Town).where(Town.code == "danghu"))
        chain = s.scalar(select(ChainNode).where(ChainNode.system == "4q8l", ChainNode.code == "optoelectronic-comm"))
        firm = s.scalar(select(Enterprise).order_by(Enterprise.uscc).limit(1))
        pw = hash_password(PASSWORD)
        users = [
            User(username="admin1", role="admin", password_hash=pw, display_name="管理员"),
            User(username="analyst1", role="analyst", password_hash=pw, display_name="分析员"),
            User(username="dept1", role="department", password_hash=pw, department="市经信局", display_name="经信局"),
            User(username="dept2", role="department", password_hash=pw, department="市科技局", display_name="科技局"),
            User(username="town1", role="town", password_hash=pw, town_id=town.id, display_name="当湖"),
            User(username="chain1", role="chain", password_hash=pw, chain_node_id=chain.id, display_name="光电链"),
            User(username="ent1", role="enterprise", password_hash=pw, enterprise_id=firm.id, display_name="企业"),
        ]
        s.add_all(users)
        store.users = {u.role: u.username for u in users}
    return store


def client_for(demo: DemoStore, username: str) -> TestClient:
    c = make_client(demo.engine)
    r = login(c, username)
    assert r.status_code == 303, r.text
    return c
