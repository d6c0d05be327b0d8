"""The region hierarchy (province → city → county, and city-level zones), the towns and zones where
firms sit (镇街道, 开发区), and parks.

Administrative regions own plans, chain systems, 亩均 runs and users' scopes; towns are where firms
are and where targets are decomposed to. Every town belongs to one region (its county, or the city
for a zone that sits directly under a city, such as 嘉兴港区's own towns).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.core.messages import N_
from qunlian.platform.db import Base

#: the kinds a town may have (the plan schema's Town.kind); each is also the msgid of its name
TOWN_KINDS = (N_("街道"), N_("镇"), N_("开发区"))
#: region levels, from the top; a zone (开发区, 港区) sits beside counties under a city
REGION_LEVELS = ("province", "city", "county", "zone")
#: every level `qunlian regions list` prints (towns and county-level zones come from the towns table)
LISTING_LEVELS = ("province", "city", "county", "town", "zone")
LEVEL_NAMES = {"province": N_("省"), "city": N_("市"), "county": N_("县（市、区）"), "town": N_("镇街道"),
               "zone": N_("开发区")}


class Region(Base):
    """A province, city, county or city-level zone; `code` is the 统计用区划代码 where known."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # "330482", or a stable slug for a zone
    name: Mapped[str] = mapped_column(String(80))  # as printed, e.g. "平湖市"
    level: Mapped[str] = mapped_column(String(20))  # one of REGION_LEVELS
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    division_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    seq: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[Region | None] = relationship(remote_side=[id])


class Town(Base):
    """A 镇/街道 or development zone that targets are decomposed to (003 附件3 has 8)."""

    __tablename__ = "towns"
    # a name is unique within its region (two counties may each have a 新城街道); codes stay global
    # because they are in URLs (/towns/danghu)
    __table_args__ = (UniqueConstraint("region_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stable slug, e.g. "danghu"
    name: Mapped[str] = mapped_column(String(80))  # as printed, e.g. "当湖街道"
    kind: Mapped[str] = mapped_column(String(20))  # 街道 | 镇 | 开发区
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(12))  # 9/12-digit 统计用区划代码 where known
    aliases: Mapped[list[Any]] = mapped_column(default=list)  # other names accepted on import
    seq: Mapped[int] = mapped_column(default=0)  # column order in 003 附件3

    region: Mapped[Region | None] = relationship()
    parks: Mapped[list[Park]] = relationship(back_populates="town")


class Park(Base):
    """An industrial park or platform (开发区, 专业园, 小微企业园)."""

    __tablename__ = "parks"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # 开发区 | 专业园 | 小微园 | 园区外
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))

    town: Mapped[Town | None] = relationship(back_populates="parks")


class Department(Base):
    """A government department of one region (市经信局, 市科技局 …): the lead and responsible units that
    plans name, kept as a registry so that later capabilities refer to it instead of free text."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("region_id", "code"), UniqueConstraint("region_id", "name"))
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # stable slug within the region, e.g. "jxj"
    name: Mapped[str] = mapped_column(String(120))  # as the plans print it, e.g. "市经信局"
    full_name: Mapped[str] = mapped_column(String(200), default="")  # e.g. "平湖市经济和信息化局"
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    seq: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(Text, default="")

    region: Mapped[Region] = relationship()


class Person(Base):
    """A named person of a region (a chain's 链长, a cadre linked to firms, a project's leader in charge,
    a request's handler): later capabilities point here instead of writing names as text."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(120), default="")  # 职务, e.g. 副市长
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, default="")

    region: Mapped[Region] = relationship()
    department: Mapped[Department | None] = relationship()
