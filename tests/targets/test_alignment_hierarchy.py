"""Alignment follows the region hierarchy: a county answers to its city and province, never to a
sibling county, whatever the plans' level text says."""

from __future__ import annotations

from qunlian.targets.alignment import align

NAME = "规上工业增加值率"  # a concept of concepts.yaml (va-rate)


def _row(plan: str, region: str, code: str, ancestors: list[str], value: float, level: str = "county") -> dict:
    return {"plan": plan, "plan_title": plan, "level": level, "region": region, "region_code": code,
            "ancestors": ancestors, "indicator": NAME, "code": None, "unit": "%", "direction": "higher",
            "baseline_year": None, "baseline_value": None,
            "targets": {2025: {"value": value, "text": str(value), "kind": "value"}}}


def _flags(rows: list[dict]) -> list[dict]:
    (entry,) = align(rows)
    return entry["flags"]


def test_two_sibling_counties_are_not_compared_with_each_other():
    rows = [_row("a", "平湖市", "330482", ["330400", "330000"], 20.0), _row("b", "嘉善县", "330421", ["330400", "330000"], 25.0)]
    assert _flags(rows) == []


def test_a_county_below_its_city_target_is_flagged_by_the_hierarchy():
    city = _row("city", "嘉兴市", "330400", ["330000"], 24.0, level="city")
    low = _row("a", "平湖市", "330482", ["330400", "330000"], 20.0)
    sibling = _row("b", "嘉善县", "330421", ["330400", "330000"], 30.0)
    flags = _flags([city, low, sibling])
    weaker = [f for f in flags if f["kind"] == "weaker_than_upper"]
    assert [f["plans"] for f in weaker] == [["a", "city"]]
    different = next(f for f in flags if f["kind"] == "different_target")
    assert set(different["values"]) == {"city", "a", "b"}


def test_a_plan_outside_the_lineage_is_not_above_even_at_a_higher_level():
    # a city plan of another city is not 平湖's upper level, though its level text is "city"
    other_city = _row("hz", "杭州市", "330100", ["330000"], 30.0, level="city")
    county = _row("a", "平湖市", "330482", ["330400", "330000"], 20.0)
    assert _flags([other_city, county]) == []
