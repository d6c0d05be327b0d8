"""Firms and their yearly figures (DESIGN §5 units: 万元, 亩, 吨标准煤, 万千瓦时, 吨排放当量).

`Policy` and `ServiceRequest` are placeholder tables of migration 0001; they move to the policies
and requests capability when it is built (issue 18)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    JSON,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.platform import models as _platform_models  # noqa: F401  (import_batches: the FK target of enterprise_years)
from qunlian.platform.db import Base, _now

if TYPE_CHECKING:
    from qunlian.regions.models import Park, Town


class Enterprise(Base):
    __tablename__ = "enterprises"
    # a town's firms in name order: the town user's default list walks it and stops at the page's end
    __table_args__ = (Index("ix_enterprises_town_id_name", "town_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    # the county (or city-level zone) the firm belongs to: its town's region, kept on the row so that
    # a region scope is one indexed comparison; set by every writer from the town or the import's region
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    industry_code: Mapped[str | None] = mapped_column(String(4), index=True)  # GB/T 4754-2017 小类
    # private | state | collective | foreign | hmt (港澳台) | joint
    ownership: Mapped[str | None] = mapped_column(String(20))
    foreign_investor: Mapped[str | None] = mapped_column(String(200))
    fortune500_investor: Mapped[bool] = mapped_column(default=False)  # 世界500强 投资
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    main_products: Mapped[str | None] = mapped_column(Text)  # 主营产品, as the registry or the firm states them
    business_scope: Mapped[str | None] = mapped_column(Text)  # 经营范围, as on the business licence
    listed: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[Any]] = mapped_column(default=list)  # free tags, e.g. "chain_master"
    is_demo: Mapped[bool] = mapped_column(default=False)  # invented by `qunlian demo`

    town: Mapped[Town | None] = relationship()
    park: Mapped[Park | None] = relationship()
    years: Mapped[list[EnterpriseYear]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterpriseYear.year"
    )


@event.listens_for(Enterprise, "before_insert")
@event.listens_for(Enterprise, "before_update")
def _region_from_town(_mapper: Any, connection: Any, target: Enterprise) -> None:
    """A firm written through the ORM with a town and no region takes its town's region (bulk writers
    set region_id themselves)."""
    if target.region_id is None and target.town_id is not None:
        from qunlian.regions.models import Town

        target.region_id = connection.scalar(select(Town.region_id).where(Town.id == target.town_id))


class EnterpriseYear(Base):
    """One enterprise's figures for one year (DESIGN §5 canonical columns)."""

    __tablename__ = "enterprise_years"
    __table_args__ = (UniqueConstraint("enterprise_id", "year"), Index("ix_enterprise_years_year", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    above_scale: Mapped[bool | None] = mapped_column(Boolean)  # 规上
    land_mu: Mapped[float | None] = mapped_column(Float)
    rented_out_mu: Mapped[float | None] = mapped_column(Float)
    tenants: Mapped[int | None] = mapped_column(Integer)  # firms renting on this firm's land
    tax_wan: Mapped[float | None] = mapped_column(Float)
    value_added_wan: Mapped[float | None] = mapped_column(Float)
    revenue_wan: Mapped[float | None] = mapped_column(Float)
    main_revenue_wan: Mapped[float | None] = mapped_column(Float)
    output_wan: Mapped[float | None] = mapped_column(Float)
    energy_tce: Mapped[float | None] = mapped_column(Float)
    electricity_wan_kwh: Mapped[float | None] = mapped_column(Float)
    emission_eq_t: Mapped[float | None] = mapped_column(Float)
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_wan: Mapped[float | None] = mapped_column(Float)
    profit_wan: Mapped[float | None] = mapped_column(Float)
    assets_wan: Mapped[float | None] = mapped_column(Float)
    liabilities_wan: Mapped[float | None] = mapped_column(Float)
    export_wan: Mapped[float | None] = mapped_column(Float)
    high_tech_revenue_wan: Mapped[float | None] = mapped_column(Float)
    invention_patents: Mapped[int | None] = mapped_column(Integer)
    standards_led: Mapped[int | None] = mapped_column(Integer)  # standards the firm led or co-drafted (项)
    zhejiang_made: Mapped[bool | None] = mapped_column(Boolean)  # holds a 品字标浙江制造 certificate
    # A tenant without industrial land of its own names its landowner: 亩均 methods merge tenants with,
    # or grade them as, the landowner (REFERENCE §1: 遂昌, 江山).
    landowner_uscc: Mapped[str | None] = mapped_column(String(18))
    # Why the firm asks not to be evaluated this year (new_firm | under_construction | relocated); the
    # method decides whether the reason is accepted.
    exemption: Mapped[str | None] = mapped_column(String(40))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    enterprise: Mapped[Enterprise] = relationship(back_populates="years")


class FigureRevision(Base):
    """One change of one stored figure by an import: what it was, what it became, which batch did it.

    Written for every cell an import sets to a different value (a first value included), never for a
    cell it leaves as it was; so a figure's history is its revisions, and its value on an earlier date
    is the value after the last revision before that date (``enterprises.history``)."""

    __tablename__ = "figure_revisions"
    __table_args__ = (Index("ix_figure_revisions_enterprise_year", "enterprise_id", "year", "field"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    year: Mapped[int | None] = mapped_column(Integer)  # None for an enterprise attribute (name, town …)
    field: Mapped[str] = mapped_column(String(40))  # canonical column name
    old_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    import_batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class EnterpriseEvent(Base):
    """Dated events that matter to evaluations, e.g. a safety accident on the negative list."""

    __tablename__ = "enterprise_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    # safety_accident | environmental_violation | food_safety | quality_violation | tax_violation
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")


class UsccException(Base):
    """A real code that fails the GB 32100 checksum, accepted after review (REFERENCE §3)."""

    __tablename__ = "uscc_exceptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(80))
    approved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)



class Policy(Base):
    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    rule_preset: Mapped[str | None] = mapped_column(String(80))  # conditions live in a rules preset
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")


class ServiceRequest(Base):
    """An enterprise request (诉求) through 企业码, the 96871 hotline, a 亲清夜沙龙 …, closed in a loop."""

    __tablename__ = "service_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="received")  # received | assigned | resolved | closed
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
