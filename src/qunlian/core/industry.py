"""国民经济行业分类 GB/T 4754-2017 lookup.

The table ships as package data (reference_data/gbt4754-2017.csv: 20 门类, 97 大类, 1380 小类).
Where a 中类 has a single 小类 the table omits the 中类 row; we derive it from the 小类 (same name,
flagged ``derived``) so every 3-digit code resolves.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEVELS = {1: "门类", 2: "大类", 3: "中类", 4: "小类"}


@dataclass(frozen=True)
class Industry:
    code: str  # "C" (门类), "39" (大类), "397" (中类) or "3976" (小类)
    name: str
    level: int  # 1..4
    section: str  # 门类 letter
    remark: str = ""
    derived: bool = False  # 中类 row rebuilt from its only 小类

    @property
    def level_name(self) -> str:
        return LEVELS[self.level]

    @property
    def division(self) -> str | None:
        return self.code[:2] if self.level >= 2 else None

    @property
    def is_manufacturing(self) -> bool:
        return self.section == "C"


@cache
def _table() -> dict[str, Industry]:
    text = resources.files("qunlian.core.reference_data").joinpath("gbt4754-2017.csv").read_text(encoding="utf-8")
    table: dict[str, Industry] = {}
    classes: list[Industry] = []
    for row in csv.DictReader(text.splitlines()):
        level = int(row["level"])
        code = {1: row["section"], 2: row["division"], 3: row["group"], 4: row["class"]}[level]
        item = Industry(code, row["name"], level, row["section"], row.get("remark") or "")
        table[code] = item
        if level == 4:
            classes.append(item)
    for item in classes:
        group = item.code[:3]
        if group not in table:
            table[group] = Industry(group, item.name, 3, item.section, item.remark, derived=True)
    return table


def get_industry(code: str | int | None) -> Industry | None:
    """The entry for a code at any level, or None. Accepts ints and stray spaces ('3976 ')."""
    if code is None:
        return None
    key = str(code).strip().upper()
    return _table().get(key)


def is_class(code: str | None) -> bool:
    """True for an existing 4-digit 小类 — the level enterprise records carry."""
    item = get_industry(code)
    return item is not None and item.level == 4


def is_manufacturing(code: str | None) -> bool:
    item = get_industry(code)
    return item is not None and item.is_manufacturing


def parents(code: str) -> list[Industry]:
    """The chain from 门类 down to the code itself, e.g. C → 39 → 397 → 3976."""
    item = get_industry(code)
    if item is None:
        return []
    out = [_table()[item.section]]
    for n in (2, 3, 4):
        if item.level >= n:
            out.append(_table()[item.code[:n]])
    return out


def children(code: str) -> list[Industry]:
    """Direct children of a code (门类 → 大类 → 中类 → 小类)."""
    item = get_industry(code)
    if item is None or item.level == 4:
        return []
    if item.level == 1:
        return [i for i in _table().values() if i.level == 2 and i.section == item.code]
    return [i for i in _table().values() if i.level == item.level + 1 and i.code.startswith(item.code)]


def all_classes() -> list[Industry]:
    return sorted((i for i in _table().values() if i.level == 4), key=lambda i: i.code)


def covers(prefix: str, code: str) -> bool:
    """Whether a code at any level (e.g. '39', '397', 'C') includes a 4-digit class."""
    item = get_industry(code)
    if item is None:
        return False
    p = prefix.strip().upper()
    return item.section == p if p.isalpha() else item.code.startswith(p)
