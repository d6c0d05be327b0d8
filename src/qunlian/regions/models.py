"""Towns (镇街道, 开发区) and parks: where firms sit and where targets are decomposed to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.core.messages import N_
from qunlian.platform.db import Base

#: the kinds a town may have (the plan schema's Town.kind); each is also the msgid of its name
TOWN_KINDS = (N_("街道"), N_("镇"), N_("开发区"))


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
