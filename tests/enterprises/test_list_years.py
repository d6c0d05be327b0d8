"""The enterprise list counts what it shows (issue #13 item 11): "共 4431 家企业，2025 年数据" while only
3,978 firms have 2025 figures misread the list; it now says how many have the year's figures and marks
the rows that do not."""

from __future__ import annotations

import re

import pytest
from demo_store import client_for, demo_store
from sqlalchemy import func, select

from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.db import session_factory


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory):
    store, drop = demo_store(tmp_path_factory, "list-years")
    yield store
    drop()


def test_the_list_says_how_many_firms_have_the_years_figures(demo):
    with session_factory(demo.engine)() as s:
        year = s.scalar(select(func.max(EnterpriseYear.year)))
        firms = s.scalar(select(func.count()).select_from(Enterprise))
        with_year = s.scalar(select(func.count()).select_from(EnterpriseYear).where(EnterpriseYear.year == year))
        without = s.scalar(select(Enterprise.uscc).where(Enterprise.id.not_in(
            select(EnterpriseYear.enterprise_id).where(EnterpriseYear.year == year))).order_by(Enterprise.uscc).limit(1))
    assert with_year < firms and without is not None  # the demo county has firms without the newest year
    c = client_for(demo, "analyst1")
    html = c.get("/enterprises").text
    said = re.search(r"共 ([\d,]+) 家企业，其中 ([\d,]+) 家有 (\d+) 年数据", html)
    assert said and [int(x.replace(",", "")) for x in said.groups()] == [firms, with_year, year]
    row = re.search(rf'<tr data-uscc="{without}">.*?</tr>', c.get(f"/enterprises?q={without}").text, re.S).group(0)
    assert f"无 {year} 年数据" in row
