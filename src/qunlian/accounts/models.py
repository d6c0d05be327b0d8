"""Users, department access grants and failed logins (for throttling across workers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunlian.platform.db import Base, _now

from qunlian.platform.permissions import ROLES  # noqa: F401  (re-exported)

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
    # the region the user works for (a city analyst sees its counties); null: the installation's root
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # carried in the session cookie and in API tokens and compared on every request: bumped at logout,
    # password change or reset, disable and role or scope change, it ends every session and token at once
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # a password an administrator set (users page, CLI): replaced by its owner at first sign-in
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # failed logins since the last success (a failure longer than the preset's window after the
    # previous one starts afresh); at the preset's limit the account is locked until an admin unlocks it
    failed_logins: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_failed_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


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
