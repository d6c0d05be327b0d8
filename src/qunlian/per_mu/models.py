"""Tables of the 亩均论英雄 capability: evaluation runs, their results, manual adjustments, 整治 ledger.

A run is immutable (DESIGN §4): it keeps the method as it was (id, version, sha256 and the whole
preset), a fingerprint of the data it read, who ran it and when, and one result row per firm with
every indicator's value, benchmark and points. Manual adjustments (初评 → 加减分 → 调档后) are rows
of their own and never change a result row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.platform.db import Base, _now


class MuniRun(Base):
    __tablename__ = "muni_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    method_id: Mapped[str] = mapped_column(String(80), index=True)  # preset id, e.g. zj-huangyan-2022
    method_family: Mapped[str] = mapped_column(String(80))  # e.g. zj-huangyan
    method_version: Mapped[str] = mapped_column(String(40))
    method_sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of the preset
    method_snapshot: Mapped[dict[str, Any]] = mapped_column()  # the whole preset as evaluated
    year: Mapped[int] = mapped_column(Integer, index=True)  # data year evaluated
    # the county evaluated (one county's method per run); its firms are the run's population
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    data_source: Mapped[str] = mapped_column(String(300))  # "store" or the input file name
    data_sha256: Mapped[str] = mapped_column(String(64))  # fingerprint of the input rows read
    data_rows: Mapped[int] = mapped_column(Integer)
    firms: Mapped[int] = mapped_column(Integer)
    evaluated: Mapped[int] = mapped_column(Integer)
    backend: Mapped[str] = mapped_column(String(20), default="duckdb")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    note: Mapped[str] = mapped_column(Text, default="")

    results: Mapped[list[MuniResult]] = relationship(back_populates="run", cascade="all, delete-orphan")


class MuniResult(Base):
    __tablename__ = "muni_results"
    __table_args__ = (UniqueConstraint("run_id", "uscc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("muni_runs.id", ondelete="CASCADE"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(80))
    park: Mapped[str | None] = mapped_column(String(120))
    industry_code: Mapped[str | None] = mapped_column(String(4))
    part: Mapped[str | None] = mapped_column(String(40))  # e.g. above | below; null = out of scope
    total_score: Mapped[float | None] = mapped_column(Float)
    score_before_deduction: Mapped[float | None] = mapped_column(Float)
    deduction: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    group_size: Mapped[int | None] = mapped_column(Integer)
    grade_by_score: Mapped[str | None] = mapped_column(String(8))  # before the negative-list cap
    grade: Mapped[str | None] = mapped_column(String(8))  # 初评等级
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[Any]] = mapped_column(default=list)  # cap, tenant and deduction notes
    indicators: Mapped[dict[str, Any]] = mapped_column(default=dict)  # code → value, benchmark, points, status
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the figures the method read

    run: Mapped[MuniRun] = relationship(back_populates="results")


class MuniAdjustment(Base):
    """A manual step after the 初评: points added or taken off, or the class moved, with reason and user."""

    __tablename__ = "muni_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("muni_runs.id", ondelete="CASCADE"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    points: Mapped[float | None] = mapped_column(Float)  # 加减分
    grade_override: Mapped[str | None] = mapped_column(String(8))  # 调档
    score_before: Mapped[float | None] = mapped_column(Float)
    grade_before: Mapped[str | None] = mapped_column(String(8))
    score_after: Mapped[float | None] = mapped_column(Float)
    grade_after: Mapped[str | None] = mapped_column(String(8))  # 调档后等级
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MuniRemediation(Base):
    """整治 ledger: D-class and 高耗低效 firms, and the land (亩) and energy (吨标准煤) freed."""

    __tablename__ = "muni_remediation"
    __table_args__ = (UniqueConstraint("uscc", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(80))
    year: Mapped[int] = mapped_column(Integer)  # data year of the run that listed the firm
    run_id: Mapped[int | None] = mapped_column(ForeignKey("muni_runs.id", ondelete="SET NULL"))
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # grade_D, high_energy_low_efficiency …
    status: Mapped[str] = mapped_column(String(20), default="listed")  # listed | in_progress | done | removed
    land_mu: Mapped[float | None] = mapped_column(Float)  # land held when listed
    energy_tce: Mapped[float | None] = mapped_column(Float)  # energy used when listed
    land_freed_mu: Mapped[float] = mapped_column(Float, default=0.0)
    energy_freed_tce: Mapped[float] = mapped_column(Float, default=0.0)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(80), default="system")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
