"""Statuses are cached; a new actual or a correction must show at once all the same."""

from qunlian.targets.actuals import add_actual
from qunlian.targets.service import plan_status


def _tax(rows):
    return next(r for r in rows if r["code"] == "tax-per-mu")


def test_status_follows_new_actuals_and_corrections(session):
    first = _tax(plan_status(session, "pinghu-mfg-14th", as_of="2024"))
    assert first["actual"] is None
    add_actual(session, "pinghu-mfg-14th", "tax-per-mu", "2024", 30.0, entered_by="test", source="市统计局")
    assert _tax(plan_status(session, "pinghu-mfg-14th", as_of="2024"))["actual"] == 30.0
    add_actual(session, "pinghu-mfg-14th", "tax-per-mu", "2024", 31.5, entered_by="test", source="市统计局")  # a correction
    again = plan_status(session, "pinghu-mfg-14th", as_of="2024")
    assert _tax(again)["actual"] == 31.5
    again[0]["status"] = "tampered"  # callers get copies: the cache cannot be changed from outside
    assert plan_status(session, "pinghu-mfg-14th", as_of="2024")[0]["status"] != "tampered"
