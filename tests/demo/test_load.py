"""Loading the demo county into the store (SQLite by default, PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunlian.demo.generator import generate, load_calibration
from qunlian.demo.load import load_demo
from qunlian.platform.db import transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseEvent, EnterpriseYear
from qunlian.platform.models import AuditLog
from qunlian.regions.models import Town


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_load_twice_leaves_one_copy(engine):
    with transaction(engine) as s:  # a real firm must survive demo reloads
        s.add(Enterprise(uscc="91330482MA2B000009", name="真实企业（测试）", is_demo=False))
    steps = []
    load_demo(engine, seed=5, scale=0.2, progress=lambda stage, done, total: steps.append(done))
    assert steps[-1] == steps[0] + 7
    data = generate(5, 0.2)
    with transaction(engine) as s:
        firm = s.scalars(select(Enterprise).where(Enterprise.is_demo.is_(True)).order_by(Enterprise.id)).first()
        s.add(User(username="firm-user", password_hash="x", role="enterprise", enterprise_id=firm.id))
        linked_uscc = firm.uscc
    text = load_demo(engine, seed=5, scale=0.2)
    assert "亩均税收" in text and "替换" in text
    with transaction(engine) as s:
        assert _count(s, Enterprise, Enterprise.is_demo.is_(True)) == data.enterprises.num_rows
        assert _count(s, Enterprise, Enterprise.is_demo.is_(False)) == 1
        assert _count(s, EnterpriseYear) == data.enterprise_years.num_rows
        assert _count(s, EnterpriseEvent) == data.events.num_rows
        assert _count(s, AuditLog, AuditLog.action == "demo.generate") == 2
        user = s.scalars(select(User).where(User.username == "firm-user")).one()
        assert s.get(Enterprise, user.enterprise_id).uscc == linked_uscc
        assert _count(s, Town) == 8


def test_full_county_load_and_figures_in_store(engine):
    load_demo(engine, seed=2024, scale=1.0)
    t = load_calibration().targets.figures
    with transaction(engine) as s:
        y = EnterpriseYear
        above = (y.year == 2020, y.above_scale.is_(True))
        assert _count(s, y, *above) == 741
        tot = s.execute(select(func.sum(y.output_wan), func.sum(y.value_added_wan)).where(*above)).one()
        assert tot[0] == pytest.approx(t["output_wan"].value, rel=0.02)
        assert tot[1] == pytest.approx(t["value_added_wan"].value, rel=0.02)
        tax, land = s.execute(
            select(func.sum(y.tax_wan), func.sum(y.land_mu)).where(*above, y.tax_wan.is_not(None), y.land_mu.is_not(None))
        ).one()
        assert tax / land == pytest.approx(t["tax_per_mu"].value, rel=0.02)
        va, emp = s.execute(
            select(func.sum(y.value_added_wan), func.sum(y.employees)).where(*above, y.employees.is_not(None))
        ).one()
        assert va / emp == pytest.approx(t["labour_productivity"].value, rel=0.02)
        # firms are linked to the 4q8l chains by industry code, else to their cluster; chains have masters
        chains = s.scalars(select(ChainNode.id).where(ChainNode.system == "4q8l", ChainNode.level == "chain")).all()
        clusters = s.scalars(select(ChainNode.id).where(ChainNode.system == "4q8l", ChainNode.level == "cluster")).all()
        linked = set(s.scalars(select(EnterpriseChainNode.node_id).distinct()).all())
        assert set(chains) <= linked <= set(chains) | set(clusters)
        assert linked & set(clusters), "firms outside every chain but inside a cluster are linked to the cluster"
        per_firm = s.execute(select(EnterpriseChainNode.enterprise_id, ChainNode.level)
                             .join(ChainNode, ChainNode.id == EnterpriseChainNode.node_id)).all()
        in_chain = {e for e, level in per_firm if level == "chain"}
        assert not {e for e, level in per_firm if level == "cluster"} & in_chain
        masters = _count(s, EnterpriseChainNode, EnterpriseChainNode.role == "chain_master")
        master_nodes = s.scalars(select(EnterpriseChainNode.node_id)
                                 .where(EnterpriseChainNode.role == "chain_master").distinct()).all()
        assert set(master_nodes) <= set(chains)
        assert len(chains) <= masters <= 2 * len(chains)
        assert _count(s, EnterpriseChainNode, EnterpriseChainNode.source != "industry_code") == 0
        flagged = [f for f in s.scalars(select(Enterprise.flags)) if "chain_master" in f]
        assert len(flagged) == masters


def test_cli_demo_command(cli_env):
    from qunlian.cli import app

    result = CliRunner().invoke(app, ["demo", "--seed", "3", "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    assert "亩均税收" in result.output and "目标 target" in result.output


def test_cli_demo_if_empty_keeps_existing_firms(cli_env):
    from qunlian.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--scale", "0.05", "--if-empty"])
    assert first.exit_code == 0 and "亩均税收" in first.output, first.output
    again = runner.invoke(app, ["demo", "--scale", "0.05", "--if-empty"])
    assert again.exit_code == 0 and "未重新生成" in again.output, again.output
