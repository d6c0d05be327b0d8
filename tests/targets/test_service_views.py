"""The targets service's views for the web pages: latest period, town map, indicator view, cockpit tiles."""

from __future__ import annotations

from sqlalchemy import select

from qunlian.targets.service import add_actual, load_seed_actuals
from qunlian.per_mu.service import class_mix_in_scope as muni_class_mix
from qunlian.targets.service import (
    chain_strength,
    decomposed_indicators,
    indicator_view,
    latest_period,
    plan_periods,
    town_map,
    town_targets,
)
from qunlian.platform.permissions import Principal

CLUSTERS = "pinghu-clusters-2023-2027"
MFG14 = "pinghu-mfg-14th"


def test_latest_period_and_periods(session):
    assert latest_period(session, CLUSTERS) is None
    load_seed_actuals(session)
    assert latest_period(session, CLUSTERS) == "2023Q1"
    add_actual(session, CLUSTERS, "tax-per-mu", "2023", 36.1, entered_by="t", source="测试")
    assert latest_period(session, CLUSTERS) == "2023"  # a year ends after its first quarter
    assert plan_periods(session, CLUSTERS)[:2] == ["2023", "2023Q1"]
    assert latest_period(session, MFG14) == "2023Q1"  # 001 prints the 2023 Q1 亩均税收; baselines are 2020


def test_town_map_lights_and_targets_table(session):
    add_actual(session, CLUSTERS, "t23-tax-per-mu", "2023", 16.0, entered_by="t", town="当湖街道", source="测试")
    add_actual(session, CLUSTERS, "t23-tax-per-mu", "2023", 40.0, entered_by="t", town="经开区", source="测试")
    rows = {r["town"]: r for r in town_map(session, CLUSTERS, "t23-tax-per-mu", "2023")}
    assert len(rows) == 8
    assert rows["当湖街道"]["light"] == "green" and rows["当湖街道"]["town_code"] == "danghu"
    assert rows["经开区"]["light"] == "red"  # 40 / 49
    assert rows["新埭镇"]["light"] == "grey"
    codes = [d["code"] for d in decomposed_indicators(session, CLUSTERS)]
    assert "t23-mfg-investment" in codes and "tax-per-mu" not in codes
    table = town_targets(session, CLUSTERS)
    inv = next(r for r in table["rows"] if r["code"] == "t23-mfg-investment")
    assert inv["city"] == 118 and sum(v["value"] for v in inv["towns"].values()) == 118


def test_indicator_view_series_and_history(session):
    load_seed_actuals(session)
    add_actual(session, CLUSTERS, "tax-per-mu", "2023", 36.0, entered_by="a", source="测试")
    add_actual(session, CLUSTERS, "tax-per-mu", "2023", 36.5, entered_by="b", source="测试")
    v = indicator_view(session, CLUSTERS, "tax-per-mu")
    assert v["years"][0] <= 2023 <= v["years"][-1] and 2027 in v["years"]
    assert v["actuals"][v["years"].index(2023)] == 36.5
    assert v["targets"][v["years"].index(2023)] == 35
    revs = [(h["period"], h["revision"], h["superseded"]) for h in v["history"]]
    assert ("2023", 2, False) in revs and ("2023", 1, True) in revs and any(p == "2023Q1" for p, _, _ in revs)


def test_cockpit_tiles_are_scoped_and_empty_without_data(session):
    admin = Principal(id=1, username="a", role="admin")
    dept = Principal(id=2, username="d", role="department", department="市经信局")
    assert muni_class_mix(session, admin) is None  # no 亩均 run yet
    s = chain_strength(session, admin)
    assert s["chains"] and all(c["firms"] == 0 for c in s["chains"])
    assert all(c["firms"] == 0 for c in chain_strength(session, dept)["chains"])


def test_chain_strength_lists_chains_in_the_systems_order(session):
    """Chains come cluster by cluster as the system lists them, not interleaved by their place in a cluster."""
    from qunlian.chains.models import ChainNode

    admin = Principal(id=1, username="a", role="admin")
    shown = [c["code"] for c in chain_strength(session, admin)["chains"]]
    nodes = {n.id: n for n in session.scalars(select(ChainNode).where(ChainNode.system == "4q8l"))}
    root = next(n for n in nodes.values() if n.parent_id is None)

    def walk(node):  # depth-first in seq order: the order of the YAML and of the plan text
        kids = sorted((n for n in nodes.values() if n.parent_id == node.id), key=lambda n: (n.seq or 0, n.code))
        return ([node.code] if node.level == "chain" else []) + [c for k in kids for c in walk(k)]

    assert shown == walk(root) and len(shown) == 8
    clusters = [nodes[next(n.parent_id for n in nodes.values() if n.code == c)].code for c in shown]
    assert clusters == sorted(clusters, key=clusters.index)  # each cluster's chains are contiguous
    assert len(set(clusters)) > 1
