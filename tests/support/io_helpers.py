"""Helpers for the import/export tests (imported by the test modules; not a conftest so names stay unique)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from qunlian.core.uscc import make_uscc
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import AuditLog, ImportBatch

COUNTED = (Enterprise, EnterpriseYear, ImportBatch, AuditLog)

def code(i: int) -> str:
    """A valid 平湖 (330482) USCC, distinct per i."""
    return make_uscc("330482", f"{i:08d}")


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], sheet: str = "企业数据") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


HEADER = ["统一社会信用代码", "企业名称", "年度", "所属镇街", "行业代码", "是否规上", "用地面积（亩）", "税收", "从业人员"]


def good_rows(n: int = 3, year: int = 2023) -> list[list[Any]]:
    """Rows under HEADER: tax in 元 (undeclared in the header; tests declare it)."""
    towns = ["当湖街道", "当湖", "钟埭街道"]
    return [[code(i), f"平湖测试企业{i}有限公司", year, towns[i % 3], "3976", "是" if i % 2 else "否",
             10 + i, 1_200_000 * (i + 1), 50 + i] for i in range(n)]


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail loudly if anything reaches openpyxl: refusals must come from the checks before parsing."""

    def boom(*a, **k):
        raise AssertionError("openpyxl was called on a file that should have been refused")

    monkeypatch.setattr(openpyxl, "load_workbook", boom)


def seed_towns(engine):
    """Two towns (one with an alias, 当湖) and one park: what good_rows() names. Returns the engine."""
    from qunlian.platform.db import transaction
    from qunlian.regions.models import Park, Town

    with transaction(engine) as s:
        danghu = Town(code="danghu", name="当湖街道", kind="街道", aliases=["当湖"], seq=1)
        zhongdai = Town(code="zhongdai", name="钟埭街道", kind="街道", seq=2)
        s.add_all([danghu, zhongdai])
        s.flush()
        s.add(Park(code="pinghu-kechuang", name="平湖科创园", kind="专业园", town_id=danghu.id))
    return engine
