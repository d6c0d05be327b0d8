import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunlian.core.units import UNITS, UnitError, convert, parse_unit, split_header

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


def test_known_conversions():
    assert convert(12_345_678, "元", "万元") == pytest.approx(1234.5678)
    assert convert(1.5, "亿元", "万元") == pytest.approx(15_000)
    assert convert(1, "公顷", "亩") == pytest.approx(15)
    assert convert(10000 / 15, "平方米", "亩") == pytest.approx(1)
    assert convert(12_000, "kWh", "万千瓦时") == pytest.approx(1.2)
    assert convert(4.5, "万吨标准煤", "吨标准煤") == pytest.approx(45_000)
    assert convert(3.02, "%", "比例") == pytest.approx(0.0302)
    assert convert(None, "元", "万元") is None


@given(finite, st.sampled_from(UNITS), st.data())
def test_round_trip_within_a_dimension(value, unit, data):
    other = data.draw(st.sampled_from([u for u in UNITS if u.dimension == unit.dimension]))
    back = convert(convert(value, unit, other), other, unit)
    assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-9)


def test_dimension_mismatch_is_refused():
    with pytest.raises(UnitError, match="量纲不同"):
        convert(1, "万元", "亩")


def test_unknown_unit_lists_the_known_ones():
    with pytest.raises(UnitError, match="万元"):
        parse_unit("美元")


def test_aliases_and_full_width():
    assert parse_unit("ＷＡＮ").symbol == "万元"
    assert parse_unit("％").symbol == "%"
    assert parse_unit("tce").symbol == "吨标准煤"


@pytest.mark.parametrize(
    "header, expected",
    [("税收（万元）", ("税收", "万元")), ("land (mu)", ("land", "mu")), ("用地面积[亩]", ("用地面积", "亩")), ("tax_wan", ("tax_wan", None))],
)
def test_split_header(header, expected):
    assert split_header(header) == expected
