import datetime as dt

import pytest

from qunlian.core.industry import all_classes, children, covers, get_industry, is_class, parents
from qunlian.core.periods import Period, PeriodError


def test_table_counts_match_the_standard():
    assert len(all_classes()) == 1380
    assert len(children("C")) == 31  # manufacturing 大类 13–43
    assert {i.code for i in children("C")} == {str(n) for n in range(13, 44)}


def test_every_class_has_its_group_even_when_the_table_omits_it():
    for cls in all_classes():
        group = get_industry(cls.code[:3])
        assert group is not None and group.level == 3
    derived = get_industry("019")
    assert derived.derived and derived.name == get_industry("0190").name


def test_lookup_and_hierarchy():
    item = get_industry(" 3976 ")
    assert item.name == "光电子器件制造" and item.is_manufacturing
    assert [p.code for p in parents("3976")] == ["C", "39", "397", "3976"]
    assert is_class("3976") and not is_class("397") and not is_class("9999")
    assert covers("39", "3976") and covers("C", "3976") and not covers("38", "3976")
    assert get_industry(None) is None


@pytest.mark.parametrize(
    "text, canonical, start, end, fraction",
    [
        ("2023", "2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31), 1.0),
        ("2023Q1", "2023Q1", dt.date(2023, 1, 1), dt.date(2023, 3, 31), 0.25),
        ("2023年第3季度", "2023Q3", dt.date(2023, 7, 1), dt.date(2023, 9, 30), 0.75),
        ("2024-02", "2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), 2 / 12),
        ("2023年11月", "2023-11", dt.date(2023, 11, 1), dt.date(2023, 11, 30), 11 / 12),
    ],
)
def test_period_parsing(text, canonical, start, end, fraction):
    p = Period.parse(text)
    assert str(p) == canonical and p.start == start and p.end == end
    assert p.year_fraction == pytest.approx(fraction)
    assert Period.parse(str(p)) == p


def test_period_order_and_errors():
    ps = sorted(Period.parse(x) for x in ["2024", "2023Q4", "2023-01", "2023", "2023Q1"])
    assert [str(p) for p in ps] == ["2023-01", "2023Q1", "2023Q4", "2023", "2024"]
    assert Period.parse("2023Q2").same_period_last_year() == Period.parse("2022Q2")
    for bad in ["2023Q5", "2023-13", "Q1", "去年"]:
        with pytest.raises(PeriodError):
            Period.parse(bad)
