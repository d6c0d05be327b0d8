"""Plans, their indicators, targets, actuals, tasks and evidence, and the plans' key projects.

Plan data loaded from the seeds keeps the printed text next to each parsed value."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.platform.db import Base, _now

if TYPE_CHECKING:
    from qunlian.regions.models import Town


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # e.g. "pinghu-mfg-14th"
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    doc_number: Mapped[str | None] = mapped_column(String(80))  # 文号
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(20))  # province | city | county
    region: Mapped[str] = mapped_column(String(40))  # 浙江省 | 嘉兴市 | 平湖市, as the plan file names it
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
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
    # one file once per task: the same bytes uploaded twice at the same instant are still one row
    __table_args__ = (UniqueConstraint("task_id", "sha256"),)
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
