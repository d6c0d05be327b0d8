"""The demo county's invented task progress (issue #13 item 8): some tasks reported, some closed with
evidence, the rest untouched; every note says it is invented; running it again adds nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from qunlian.platform.db import transaction
from qunlian.targets.models import PlanTask, TaskEvidence, TaskProgress
from qunlian.targets.service import list_tasks, load_demo_progress, load_reference_data

CLUSTERS = "pinghu-clusters-2023-2027"


def test_demo_progress_reports_closes_and_leaves_tasks(engine):
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
        first = load_demo_progress(s, CLUSTERS, seed=2024, today=dt.date(2026, 12, 4))
    with transaction(engine) as s:
        tasks = list_tasks(s, CLUSTERS, as_of="2026Q4")
        notes = list(s.scalars(select(TaskProgress.note)))
        files = s.scalar(select(func.count()).select_from(TaskEvidence))
        closed = s.scalar(select(func.count()).select_from(PlanTask).where(PlanTask.status == "closed"))
    total = len(tasks)
    assert 0 < first["closed"] < first["reported"] < total  # some of each kind
    assert closed == first["closed"] and files == first["closed"]  # each closure has its evidence file
    assert notes and all("演示" in n and "虚构" in n for n in notes)  # never passes for a real report
    assert any(not t["progress"] for t in tasks)  # some untouched
    assert any(w["kind"] == "no_progress" for t in tasks for w in t["warnings"])  # the ledger warns
    with transaction(engine) as s:  # a regenerated demo county: nothing added twice
        again = load_demo_progress(s, CLUSTERS, seed=2024, today=dt.date(2026, 12, 4))
        assert s.scalar(select(func.count()).select_from(TaskProgress)) == len(notes)
    assert again == {"reported": 0, "closed": 0, "notes": 0}
