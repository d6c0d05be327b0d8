"""Cell parsing and unit conversion: examples and hypothesis properties."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunlian.core.units import INTERNAL, UNITS, parse_unit
from qunlian.enterprises.values import (
    CellError,
    clean,
    parse_bool,
    parse_date,
    parse_industry_code,
    parse_quantity,
    parse_year,
    to_internal,
)

FULL = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@pytest.mark.parametrize(
    ("raw", "value", "unit"),
    [
        (12, 12.0, None),
        (1.5, 1.5, None),
        ("1,234.5", 1234.5, None),
        ("１２，３４５．６", 12345.6, None),
        (" 12 000 ", 12000.0, None),
        ("-3.5", -3.5, None),
        ("\u22123.5", -3.5, None),
        ("12000元", 12000.0, "元"),
        ("1.2万元", 1.2, "万元"),
        ("1.2 万", 1.2, "万元"),
        ("3亿元", 3.0, "亿元"),
        ("5e3", 5000.0, None),
        ("10亩", 10.0, "亩"),
    ],
)
def test_parse_quantity(raw, value, unit):
    q = parse_quantity(raw)
    assert q is not None
    assert q.value == pytest.approx(value)
    assert (q.unit.symbol if q.unit else None) == unit


@pytest.mark.parametrize("raw", [None, "", "  ", "—", "——", "-", "--", "/", "N/A", float("nan")])
def test_missing_cells(raw):
    assert parse_quantity(raw) is None
    assert parse_bool(raw) is None


@pytest.mark.parametrize("raw", ["abc", "十二", "1,2345", "12 元/吨", "12xyz", True, dt.date(2023, 1, 1), "(123)"])
def test_text_in_number_column_is_an_error(raw):
    with pytest.raises(CellError) as info:
        parse_quantity(raw)
    assert info.value.message and info.value.fix


@pytest.mark.parametrize(("raw", "value"), [("是", True), ("否", False), ("Y", True), ("n", False), (1, True),
                                            (0, False), ("1", True), ("0", False), ("Ｙ", True), (True, True)])
def test_parse_bool(raw, value):
    assert parse_bool(raw) is value


def test_parse_bool_rejects_other_text():
    with pytest.raises(CellError):
        parse_bool("也许")


@pytest.mark.parametrize(("raw", "year"), [(2023, 2023), (2023.0, 2023), ("2023", 2023), ("2023年", 2023),
                                          ("２０２３", 2023), ("2023年度", 2023)])
def test_parse_year(raw, year):
    assert parse_year(raw, 1980, 2030) == year


@pytest.mark.parametrize("raw", [1979, 2031, "23", "二〇二三", None, "2023-01"])
def test_parse_year_rejects(raw):
    with pytest.raises(CellError):
        parse_year(raw, 1980, 2030)


def test_industry_code_keeps_excel_leading_zero():
    assert parse_industry_code(111) == "0111"
    assert parse_industry_code(3976.0) == "3976"
    assert parse_industry_code(" c3976 ") == "C3976"


def test_conversion_drops_binary_noise():
    assert to_internal(12000, parse_unit("元"), "万元") == 1.2
    assert to_internal(1.2, parse_unit("亿元"), "万元") == 12000.0
    assert to_internal(6666.666666666667, parse_unit("平方米"), "亩") == pytest.approx(10.0)


# --------------------------------------------------------------------------- properties

amounts = st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False)


@given(amounts)
def test_thousands_separators_and_full_width_parse_to_the_same_number(d):
    plain = f"{d:f}"
    grouped = f"{d:,.2f}"
    expected = float(d)
    assert parse_quantity(plain).value == pytest.approx(expected, rel=1e-15, abs=1e-9)
    assert parse_quantity(grouped).value == pytest.approx(expected, rel=1e-15, abs=1e-9)
    assert parse_quantity(grouped.translate(FULL)).value == pytest.approx(expected, rel=1e-15, abs=1e-9)


money_units = [u for u in UNITS if u.dimension == "money"]


@given(amounts, st.sampled_from(money_units))
def test_unit_suffix_is_read_and_converted(d, unit):
    q = parse_quantity(f"{d:,.2f}{unit.symbol}")
    assert q.unit == unit
    wan = to_internal(q.value, q.unit, "万元")
    assert wan == pytest.approx(float(d) * unit.factor, rel=1e-12, abs=1e-12)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.sampled_from([u for u in UNITS
                                                                                     if u.dimension != "ratio"]))
def test_conversion_round_trips(x, unit):
    internal = INTERNAL[unit.dimension]
    there = to_internal(x, unit, internal)
    back = to_internal(there, parse_unit(internal), unit)
    assert back == pytest.approx(x, rel=1e-12, abs=1e-9)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_clean_keeps_fifteen_digits(x):
    y = clean(x)
    assert y == pytest.approx(x, rel=1e-14, abs=0) or (x == 0 and y == 0)
    assert not math.isnan(y)


@given(st.integers(min_value=0, max_value=10**9))
def test_integer_cells_parse_exactly(n):
    assert parse_quantity(n).value == n
    assert parse_quantity(f"{n:,}").value == n


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("raw", "date"), [
    (dt.date(2023, 1, 5), dt.date(2023, 1, 5)),
    (dt.datetime(2023, 1, 5, 14, 30), dt.date(2023, 1, 5)),
    ("2023-01-05", dt.date(2023, 1, 5)),
    ("2023/1/5", dt.date(2023, 1, 5)),
    ("2023.1.5", dt.date(2023, 1, 5)),
    ("2023年1月5日", dt.date(2023, 1, 5)),
    ("2023年01月05号", dt.date(2023, 1, 5)),
    ("20230105", dt.date(2023, 1, 5)),
    ("２０２３年１月５日", dt.date(2023, 1, 5)),
    ("２０２３／１／５", dt.date(2023, 1, 5)),
    (" 2023-01-05 00:00:00 ", dt.date(2023, 1, 5)),  # a datetime written out by a program
    (44931, dt.date(2023, 1, 5)),  # Excel's serial number for 2023-01-05
    (44931.75, dt.date(2023, 1, 5)),  # with a time of day
    ("44931", dt.date(2023, 1, 5)),  # a serial exported as text
    (25569, dt.date(1970, 1, 1)),
    (36526, dt.date(2000, 1, 1)),
    (43890, dt.date(2020, 2, 29)),
])
def test_parse_date(raw, date):
    assert parse_date(raw) == date


@pytest.mark.parametrize("raw", [None, "", "  ", "—", "-", "N/A", float("nan")])
def test_parse_date_missing(raw):
    assert parse_date(raw) is None


@pytest.mark.parametrize("raw", ["2023-02-30", "2023-13-01", "2023年1月", "2023", 2023, 12, "1/5/2023", "明天",
                                 True, dt.time(8, 30), float("inf"), 10**7, "2023-1/5", "2023-01-05x"])
def test_parse_date_rejects(raw):
    with pytest.raises(CellError) as info:
        parse_date(raw)
    assert info.value.message and info.value.fix


def test_a_year_typed_into_a_date_column_is_not_read_as_1905():
    with pytest.raises(CellError) as info:
        parse_date(2023)
    assert "不像日期" in info.value.message


@given(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_serial_numbers_and_texts_agree(d):
    serial = (d - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == parse_date(float(serial)) == d
    assert parse_date(d.isoformat()) == parse_date(f"{d.year}年{d.month}月{d.day}日") == d
    assert parse_date(f"{d.year}/{d.month}/{d.day}") == parse_date(d.strftime("%Y%m%d")) == d
