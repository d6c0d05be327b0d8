"""Login throttling kept in the store, so every worker process (and every server behind a proxy
sharing the database) counts the same failures.

At most ``max_failures`` failed logins per (username, client address) within a sliding window of
``window_s`` seconds; a success clears that pair's count. Rows older than the window are deleted
as new failures come in, so the table stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from qunlian.accounts.models import LoginFailure


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class LoginThrottle:
    def __init__(self, max_failures: int, window_s: int, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return (username or "").strip().lower()[:80], (client or "unknown")[:64]

    def retry_after(self, session: Session, username: str, client: str) -> int:
        """Seconds until this username may try again from this address; 0 when not blocked."""
        user, addr = self._key(username, client)
        now = self.clock()
        since = now - dt.timedelta(seconds=self.window_s)
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.username == user, LoginFailure.client == addr, LoginFailure.at > since)
        ).one()
        if count < self.max_failures or oldest is None:
            return 0
        return max(1, int((_aware(oldest) + dt.timedelta(seconds=self.window_s) - now).total_seconds()) + 1)

    def failed(self, session: Session, username: str, client: str) -> None:
        user, addr = self._key(username, client)
        now = self.clock()
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - dt.timedelta(seconds=self.window_s)))
        session.add(LoginFailure(username=user, client=addr, at=now))

    def succeeded(self, session: Session, username: str, client: str) -> None:
        user, addr = self._key(username, client)
        session.execute(delete(LoginFailure).where(LoginFailure.username == user, LoginFailure.client == addr))
