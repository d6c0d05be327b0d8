"""Reporting periods: a year ("2023"), a quarter ("2023Q1") or a month ("2023-03").

Plans set yearly targets and are tracked quarterly ("五年任务、年度计划、季度跟踪"). A value is either
cumulative to date within its year (累计, e.g. Jan–Mar for 2023Q1) or a point value for the period.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering

from qunlian.core.errors import QunlianError

_YEAR = re.compile(r"^(\d{4})(?:年)?$")
_QUARTER = re.compile(r"^(\d{4})\s*(?:[-_ ]?[Qq]|年第?)([1-4])(?:季度)?$")
_MONTH = re.compile(r"^(\d{4})(?:[-/.]|年)(\d{1,2})(?:月)?$")


class PeriodError(QunlianError):
    pass


@total_ordering
@dataclass(frozen=True)
class Period:
    year: int
    kind: str  # "year" | "quarter" | "month"
    index: int = 0  # quarter 1..4 or month 1..12; 0 for a year

    @classmethod
    def parse(cls, text: str | int) -> Period:
        s = str(text).strip()
        if m := _YEAR.match(s):
            return cls(int(m.group(1)), "year")
        if m := _QUARTER.match(s):
            return cls(int(m.group(1)), "quarter", int(m.group(2)))
        if m := _MONTH.match(s):
            month = int(m.group(2))
            if 1 <= month <= 12:
                return cls(int(m.group(1)), "month", month)
        raise PeriodError(f"无法识别的期间 {text!r}：请写成 2023、2023Q1 或 2023-03")

    def __post_init__(self) -> None:
        limit = {"year": 0, "quarter": 4, "month": 12}.get(self.kind)
        if limit is None:
            raise PeriodError(f"unknown period kind {self.kind!r}")
        if (limit == 0 and self.index != 0) or (limit and not 1 <= self.index <= limit):
            raise PeriodError(f"期间序号 {self.index} 超出范围（{self.kind}）")

    def __str__(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        return f"{self.year}-{self.index:02d}"

    @property
    def start(self) -> dt.date:
        if self.kind == "year":
            return dt.date(self.year, 1, 1)
        month = 3 * (self.index - 1) + 1 if self.kind == "quarter" else self.index
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period."""
        last_month = {"year": 12, "quarter": 3 * self.index, "month": self.index}[self.kind]
        if last_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, last_month + 1, 1) - dt.timedelta(days=1)

    @property
    def months_elapsed_in_year(self) -> int:
        """Months from 1 January to the end of this period (12 for a year)."""
        return self.end.month

    @property
    def year_fraction(self) -> float:
        """Share of the year covered by a cumulative-to-date value ending with this period."""
        return self.months_elapsed_in_year / 12

    def same_period_last_year(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)

    def _key(self) -> tuple[dt.date, int]:
        # a year sorts after its own quarters and months (it ends last, covers most)
        return (self.end, {"month": 0, "quarter": 1, "year": 2}[self.kind])

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()
