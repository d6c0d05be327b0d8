"""Login throttling is counted in the store: two app instances (two worker processes) share it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from qunlian.accounts.throttle import LoginThrottle
from qunlian.platform.db import session_factory
from qunlian.accounts.models import LoginFailure

from web_helpers import login, make_client


def test_two_workers_share_the_failure_count(web_store):
    first, second = make_client(web_store.engine), make_client(web_store.engine)
    for client in (first, second, first, second, first):
        assert login(client, "town1", "wrong-password").status_code == 401
    blocked = login(second, "town1")  # the fifth failure came through the other "worker"
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_window_slides_and_old_failures_are_pruned(web_store):
    now = [dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)]
    throttle = LoginThrottle(3, 60, clock=lambda: now[0])
    with session_factory(web_store.engine)() as s:
        for _ in range(3):
            throttle.failed(s, "Town1 ", "10.0.0.1")
        s.commit()
        assert 55 <= throttle.retry_after(s, "town1", "10.0.0.1") <= 61
        assert throttle.retry_after(s, "town1", "10.0.0.2") == 0  # another address is not blocked
        now[0] += dt.timedelta(seconds=61)
        assert throttle.retry_after(s, "town1", "10.0.0.1") == 0
        throttle.failed(s, "someone", "10.0.0.9")  # a new failure prunes rows older than the window
        s.commit()
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 1
        throttle.succeeded(s, "someone", "10.0.0.9")
        s.commit()
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 0
