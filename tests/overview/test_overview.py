"""Pure aggregates behind the overview, town and chain pages."""

from __future__ import annotations

import pytest

from qunlian.chains.tree import build_chain_tree, code_matches
from qunlian.enterprises.figures import aggregate_years, per_mu, scale_counts


def test_per_mu():
    assert per_mu(100.0, 20.0) == 5.0
    assert per_mu(100.0, 0.0) is None and per_mu(None, 2.0) is None and per_mu(1.0, None) is None


def test_scale_counts():
    rows = [(2022, True, 3), (2022, False, 5), (2023, None, 1), (2023, True, 4)]
    assert scale_counts(rows) == [
        {"year": 2023, "above": 4, "below": 0, "unknown": 1, "total": 5},
        {"year": 2022, "above": 3, "below": 5, "unknown": 0, "total": 8},
    ]


def test_aggregate_years_per_mu_only_over_firms_with_land():
    rows = [
        {"year": 2023, "above_scale": True, "land_mu": 10.0, "output_wan": 100.0, "tax_wan": 10.0},
        {"year": 2023, "above_scale": False, "land_mu": None, "output_wan": 50.0, "tax_wan": 5.0},
    ]
    [a] = aggregate_years(rows)
    assert (a.firms, a.above_scale, a.land_mu, a.output_wan, a.tax_wan) == (2, 1, 10.0, 150.0, 15.0)
    assert a.tax_per_mu == pytest.approx(1.0) and a.output_per_mu == pytest.approx(10.0)


def test_chain_tree_rolls_up_distinct_firms():
    nodes = [
        {"id": 1, "parent_id": None, "code": "root", "name": "体系", "level": "system", "industry_codes": []},
        {"id": 2, "parent_id": 1, "code": "a", "name": "A", "level": "chain", "industry_codes": ["39"], "seq": 2},
        {"id": 3, "parent_id": 2, "code": "a1", "name": "A1", "level": "segment", "industry_codes": ["3976"]},
        {"id": 4, "parent_id": 1, "code": "b", "name": "B", "level": "chain", "industry_codes": ["3670"], "seq": 1},
    ]
    links = [(2, 10, "3976"), (3, 10, "3976"), (3, 11, "3971"), (4, 12, "3670")]
    [root] = build_chain_tree(nodes, links, {"3976": 2, "3971": 1, "3670": 1, None: 4})
    assert [c.code for c in root.children] == ["b", "a"]
    assert root.firms == 3
    a = root.children[1]
    assert a.firms == 2 and a.by_industry == {"3971": 1, "3976": 1} and a.matched == 3
    assert [n.code for _d, n in root.walk()] == ["root", "b", "a", "a1"]


def test_code_matches():
    assert code_matches("3976", ["39"]) and code_matches("3976", ["3976"])
    assert not code_matches("3670", ["39"]) and not code_matches(None, ["39"]) and not code_matches("3976", [""])
