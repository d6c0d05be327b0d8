"""The operational store: one region's plans, enterprises, chains, projects, policies and requests.

Units follow DESIGN §5: money in 万元 (columns end in _wan), land in 亩 (_mu), energy in 吨标准煤
(_tce), electricity in 万千瓦时 (_wan_kwh), emissions in 吨排放当量 (_eq_t), ratios as fractions.
Plan data loaded from the seeds keeps the printed text next to the parsed value, so a reader can
always see what the document said.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --------------------------------------------------------------------------- region


class Town(Base):
    """A 镇/街道 or development zone that targets are decomposed to (003 附件3 has 8)."""

    __tablename__ = "towns"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stable slug, e.g. "danghu"
    name: Mapped[str] = mapped_column(String(80), unique=True)  # as printed, e.g. "当湖街道"
    kind: Mapped[str] = mapped_column(String(20))  # 街道 | 镇 | 开发区
    division_code: Mapped[str | None] = mapped_column(String(12))  # 9/12-digit 统计用区划代码 where known
    aliases: Mapped[list[Any]] = mapped_column(default=list)  # other names accepted on import
    seq: Mapped[int] = mapped_column(default=0)  # column order in 003 附件3

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


# --------------------------------------------------------------------------- enterprises


class Enterprise(Base):
    __tablename__ = "enterprises"
    # a town's firms in name order: the town user's default list walks it and stops at the page's end
    __table_args__ = (Index("ix_enterprises_town_id_name", "town_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    industry_code: Mapped[str | None] = mapped_column(String(4), index=True)  # GB/T 4754-2017 小类
    # private | state | collective | foreign | hmt (港澳台) | joint
    ownership: Mapped[str | None] = mapped_column(String(20))
    foreign_investor: Mapped[str | None] = mapped_column(String(200))
    fortune500_investor: Mapped[bool] = mapped_column(default=False)  # 世界500强 投资
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    listed: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[Any]] = mapped_column(default=list)  # free tags, e.g. "chain_master"
    is_demo: Mapped[bool] = mapped_column(default=False)  # invented by `qunlian demo`

    town: Mapped[Town | None] = relationship()
    park: Mapped[Park | None] = relationship()
    years: Mapped[list[EnterpriseYear]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterpriseYear.year"
    )


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
    # A tenant without industrial land of its own names its landowner: 亩均 methods merge tenants with,
    # or grade them as, the landowner (REFERENCE §1: 遂昌, 江山).
    landowner_uscc: Mapped[str | None] = mapped_column(String(18))
    # Why the firm asks not to be evaluated this year (new_firm | under_construction | relocated); the
    # method decides whether the reason is accepted.
    exemption: Mapped[str | None] = mapped_column(String(40))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    enterprise: Mapped[Enterprise] = relationship(back_populates="years")


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


# --------------------------------------------------------------------------- plans and targets


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. "pinghu-mfg-14th"
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    doc_number: Mapped[str | None] = mapped_column(String(80))  # 文号
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(20))  # province | city | county
    region: Mapped[str] = mapped_column(String(40))  # 浙江省 | 嘉兴市 | 平湖市
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # the seed document and section the data comes from
    notes: Mapped[str] = mapped_column(Text, default="")

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Indicator.seq"
    )
    tasks: Mapped[list[PlanTask]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTask.seq"
    )


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))  # stable slug within the plan
    seq: Mapped[int] = mapped_column(Integer)  # 序号 as printed
    table: Mapped[str] = mapped_column(String(40), default="main")  # which table of the plan, e.g. "附件3"
    category: Mapped[str] = mapped_column(String(60), default="")  # 类别 / 一级指标
    name: Mapped[str] = mapped_column(String(200))  # as printed, without the unit
    unit: Mapped[str] = mapped_column(String(40), default="")  # e.g. 万元/亩, %, 亿元, 家
    nature: Mapped[str | None] = mapped_column(String(10))  # 预期性 | 约束性
    direction: Mapped[str] = mapped_column(String(10), default="higher")  # higher | lower
    aggregation: Mapped[str] = mapped_column(String(20), default="not_aggregable")  # sum | weighted_mean | not_aggregable
    weight_by: Mapped[str | None] = mapped_column(String(80))  # for weighted_mean: the weighting base
    responsible_units: Mapped[list[Any]] = mapped_column(default=list)  # first one leads
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_text: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="indicators")
    targets: Mapped[list[Target]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="Target.year"
    )


class Target(Base):
    """A target of an indicator for a year, city-wide (town_id null) or for one town.

    kind: value (reach exactly/at least the value as the indicator's direction says) | lower_bound
    (">50", "50%以上") | cumulative (the "[20]" five-year figure) | qualitative ("完成上级下达任务").
    """

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("indicator_id", "year", "town_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(120))  # exactly as printed in the seed

    indicator: Mapped[Indicator] = relationship(back_populates="targets")
    town: Mapped[Town | None] = relationship()


class Actual(Base):
    """An observed value of an indicator. Corrections add a new revision; the old row stays."""

    __tablename__ = "actuals"
    __table_args__ = (Index("ix_actuals_lookup", "indicator_id", "period", "town_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    period: Mapped[str] = mapped_column(String(10))  # "2023", "2023Q1", "2023-03"
    cumulative: Mapped[bool] = mapped_column(default=False)  # cumulative to date (累计) or a point value
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    is_estimate: Mapped[bool] = mapped_column(default=False)  # invented (demo) or estimated figure
    revision: Mapped[int] = mapped_column(default=1)
    superseded: Mapped[bool] = mapped_column(default=False)
    entered_by: Mapped[str] = mapped_column(String(80), default="system")
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PlanTask(Base):
    """A task of a plan's responsibility table (003 附件2), with its closure (销号)."""

    __tablename__ = "plan_tasks"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(120))  # e.g. "(一)着力空间腾换，优化制造业发展布局"
    heading: Mapped[str] = mapped_column(String(120))  # 重点任务(措施)
    content: Mapped[str] = mapped_column(Text)  # 具体内容
    lead_unit: Mapped[str] = mapped_column(String(120))
    co_units: Mapped[list[Any]] = mapped_column(default=list)
    due_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | in_progress | closed
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    plan: Mapped[Plan] = relationship(back_populates="tasks")


class TaskProgress(Base):
    __tablename__ = "task_progress"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_tasks.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(10))  # e.g. "2024Q2"
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(default=list)  # attachment file names / references
    entered_by: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TaskEvidence(Base):
    """An evidence file attached to a task (and, when given, to one progress note).

    The bytes live in the database next to their record, so an upload is stored whole or not at all
    and a backup of the database is a backup of the evidence. ``content`` is loaded only on download.
    """

    __tablename__ = "task_evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_tasks.id", ondelete="CASCADE"), index=True)
    progress_id: Mapped[int | None] = mapped_column(ForeignKey("task_progress.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))  # the uploader's name, cleaned
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --------------------------------------------------------------------------- clusters and chains


class ChainNode(Base):
    """One node of an industry taxonomy: system → cluster → chain → segment → node.

    Systems: "4q8l" (四群八链, 001/003), "1212" (000), "jiaxing-clusters-2022" (002 附件).
    industry_codes lists GB/T 4754-2017 codes (any level) whose firms belong to the node.
    """

    __tablename__ = "chain_nodes"
    __table_args__ = (UniqueConstraint("system", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("chain_nodes.id"))
    level: Mapped[str] = mapped_column(String(20))  # system | cluster | chain | segment | node
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(40))  # e.g. key | incubating; 先导/主导/优势/未来
    seq: Mapped[int] = mapped_column(default=0)
    industry_codes: Mapped[list[Any]] = mapped_column(default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # leading firms, institutes, funds …
    source: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[ChainNode | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[ChainNode]] = relationship(back_populates="parent", order_by="ChainNode.seq")


class EnterpriseChainNode(Base):
    __tablename__ = "enterprise_chain_nodes"
    __table_args__ = (UniqueConstraint("enterprise_id", "node_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("chain_nodes.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")  # member | chain_master (链主) | supplier
    source: Mapped[str] = mapped_column(String(40), default="industry_code")  # industry_code | manual | import


# --------------------------------------------------------------------------- projects, policies, requests


class Project(Base):
    """A key project (000 附件 lists about 60) or an investment-attraction lead."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    seq: Mapped[int | None] = mapped_column(Integer)
    industry: Mapped[str] = mapped_column(String(80), default="")  # as printed, e.g. "数字产业"
    name: Mapped[str] = mapped_column(String(300))
    investor: Mapped[str] = mapped_column(String(300), default="")
    total_investment_yi: Mapped[float | None] = mapped_column(Float)  # 亿元, as printed
    total_investment_text: Mapped[str | None] = mapped_column(String(40))  # the raw seed text
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_nodes.id"))
    status: Mapped[str] = mapped_column(String(20), default="planned")  # planned | started | completed | late
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="")


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


# --------------------------------------------------------------------------- accounts, imports, audit

ROLES = ("admin", "analyst", "department", "town", "chain", "enterprise")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # one of ROLES
    display_name: Mapped[str] = mapped_column(String(120), default="")
    department: Mapped[str | None] = mapped_column(String(120))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_nodes.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AccessGrant(Base):
    """Read-only access to enterprise data granted to a department user (DESIGN §2: "read-only
    elsewhere by grant"): all firms, one town's firms, or one chain node's firms, until an optional date."""

    __tablename__ = "access_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(10))  # all | town | chain
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_nodes.id"))
    reason: Mapped[str] = mapped_column(String(300))
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed login, kept in the store so that throttling holds across worker processes."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "username", "client", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))  # as typed, lower-cased
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ImportBatch(Base):
    """One accepted import, with its provenance. Rejected imports store nothing but the audit line."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # enterprise-years | actuals | …
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200), default="")  # 税务局 / 供电公司 / 统计局 …
    units: Mapped[dict[str, Any]] = mapped_column(default=dict)  # declared unit per column
    rows: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(80), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=func.now())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))  # e.g. import.enterprise-years, user.add, demo.generate
    entity: Mapped[str] = mapped_column(String(60), default="")
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
