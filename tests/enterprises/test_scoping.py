"""Scope rules in the query layer: every role sees exactly its firms, whatever the query."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qunlian.accounts.service import principal_of
from qunlian.platform.db import session_factory
from qunlian.accounts.models import User
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.queries import EnterpriseQuery, enterprise_profile, list_enterprises
from qunlian.enterprises.scoping import enterprise_filter, enterprise_year_filter, get_enterprise
from qunlian.overview.service import overview
from qunlian.platform.permissions import Principal
from qunlian.regions.service import town_detail

from web_helpers import VISIBLE


def principal(session, role_or_username: str, store) -> Principal:
    username = store.users.get(role_or_username, role_or_username)
    return principal_of(session.scalars(select(User).where(User.username == username)).one())


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_sees_exactly_its_firms(web_store, role):
    with session_factory(web_store.engine)() as s:
        p = principal(s, role, web_store)
        seen = set(s.scalars(select(Enterprise.uscc).where(enterprise_filter(p))))
        expected = {web_store.uscc[k] for k in VISIBLE[role]}
        assert seen == expected
        years = set(
            s.scalars(
                select(Enterprise.uscc)
                .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
                .where(enterprise_year_filter(p))
            )
        )
        assert years <= expected
        for key, code in web_store.uscc.items():
            assert (get_enterprise(s, p, code) is not None) == (key in VISIBLE[role])
            assert (enterprise_profile(s, p, code) is not None) == (key in VISIBLE[role])
        # list filters never widen the scope
        for q in (EnterpriseQuery(), EnterpriseQuery(town="zhapu"), EnterpriseQuery(chain="4q8l:nev"),
                  EnterpriseQuery(year=2022), EnterpriseQuery(q="有限公司")):
            listed = {row["uscc"] for row in list_enterprises(s, p, q, paginate=False).items}
            assert listed <= expected


def test_disabled_or_unscoped_users_see_nothing(web_store):
    with session_factory(web_store.engine)() as s:
        town = principal(s, "town", web_store)
        gone = Principal(**{**town.__dict__, "disabled": True})
        assert s.scalars(select(Enterprise).where(enterprise_filter(gone))).all() == []
        for p in (None, Principal(id=0, username="x", role="town"), Principal(id=0, username="x", role="nobody")):
            assert s.scalars(select(Enterprise).where(enterprise_filter(p))).all() == []


def test_chain_scope_includes_nodes_below(web_store):
    with session_factory(web_store.engine)() as s:
        chain = principal(s, "chain", web_store)
        page = list_enterprises(s, chain, EnterpriseQuery(chain="4q8l:optical-devices"), paginate=False)
        assert [r["uscc"] for r in page.items] == [web_store.uscc["e1"]]  # linked to the segment below optical


def test_list_figures_and_sorting(web_store):
    with session_factory(web_store.engine)() as s:
        admin = principal(s, "admin", web_store)
        page = list_enterprises(s, admin, EnterpriseQuery(sort="tax_per_mu", desc=True), paginate=False)
        assert page.year == 2023 and page.years == [2023, 2022]
        assert page.items[0]["uscc"] == web_store.uscc["e1"]  # 750 / 50 = 15 万元/亩
        assert page.items[0]["tax_per_mu"] == pytest.approx(15.0)
        assert page.items[-1]["uscc"] == web_store.uscc["e5"]  # no land: per-mu unknown, sorted last
        assert page.items[-1]["tax_per_mu"] is None
        above = list_enterprises(s, admin, EnterpriseQuery(year=2022, scale="above"), paginate=False)
        assert {r["uscc"] for r in above.items} == {web_store.uscc["e1"], web_store.uscc["e5"]}
        found = list_enterprises(s, admin, EnterpriseQuery(q="光"), paginate=False)
        assert {r["uscc"] for r in found.items} == {web_store.uscc["e1"], web_store.uscc["e3"]}
        assert list_enterprises(s, admin, EnterpriseQuery(q="%"), paginate=False).total == 0  # LIKE wildcards escaped
        paged = list_enterprises(s, admin, EnterpriseQuery(page=2, page_size=2))
        assert paged.total == 5 and len(paged.items) == 2 and paged.pages == 3


def test_overview_and_town_aggregates_are_scoped(web_store):
    with session_factory(web_store.engine)() as s:
        town = principal(s, "town", web_store)
        o = overview(s, town)
        assert o["enterprises"] == 2
        assert o["enterprise_years"][0] == {"year": 2023, "above": 2, "below": 0, "unknown": 0, "total": 2}
        assert {t["code"]: t["firms"] for t in o["towns"]} == {"danghu": 2, "zhapu": 0, "xindai": 0}
        assert o["plans"][0]["indicators"] == 3
        assert {c["system"] for c in o["chain_systems"]} == {"4q8l", "1212"}
        other = town_detail(s, town, "zhapu")
        assert other is not None and other["years"] == []  # another town: nothing of its firms
        own = town_detail(s, town, "danghu")["years"][0]
        assert (own.year, own.firms, own.land_mu, own.tax_wan) == (2023, 2, 70.0, 840.0)
        assert own.tax_per_mu == pytest.approx(840.0 / 70.0)


def test_scoped_years_are_the_years_with_figures_in_scope(web_store):
    """The list's year choices (found by stepping down the year index) equal a plain DISTINCT."""
    from qunlian.regions.models import Town
    from qunlian.enterprises.queries import scoped_years

    with session_factory(web_store.engine)() as s:
        zhapu = s.scalar(select(Town.id).where(Town.code == "zhapu"))
        people = [principal(s, role, web_store) for role in sorted(VISIBLE)]
        people += [Principal(id=0, username="z", role="town", town_id=zhapu),  # figures for 2023 only
                   Principal(id=0, username="x", role="nobody"), None]
        for p in people:
            plain = list(s.scalars(select(EnterpriseYear.year).where(enterprise_year_filter(p)).distinct()
                                   .order_by(EnterpriseYear.year.desc())))
            assert scoped_years(s, p) == plain
        assert scoped_years(s, people[-3]) == [2023]
        assert scoped_years(s, principal(s, "admin", web_store)) == [2023, 2022]
