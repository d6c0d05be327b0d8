"""Industry systems (四群八链, "1212") as a tree of nodes, and the firms linked to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qunlian.platform.db import Base


class ChainNode(Base):
    """One node of an industry taxonomy: system → cluster → chain → segment → node.

    Systems: "4q8l" (四群八链, 001/003), "1212" (000), "jiaxing-clusters-2022" (002 附件).
    industry_codes lists GB/T 4754-2017 codes (any level) whose firms belong to the node.
    """

    __tablename__ = "chain_nodes"
    __table_args__ = (UniqueConstraint("system", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(40))
    # the region whose system this is (a county's 四群八链, a city's cluster list): same on every node
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
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
