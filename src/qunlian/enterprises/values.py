"""Parsing single cells the way clerks write them: "1,234.5", "１２３４", "12000元", "—", "是".

Pure functions; each either returns a value (None = missing) or raises CellError with a Chinese
message and a fix. Units are looked up in qunlian.core.units; nothing here guesses a unit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

from qunlian.core.units import Unit, UnitError, convert, parse_unit

# Cells that mean "no value". "0" is a value; "无" is not accepted because it may mean either.
MISSING_TEXT = frozenset({"", "—", "——", "–", "-", "--", "/", "／", "n/a", "na", "null", "none", "nan", "#n/a"})

TRUE_TEXT = frozenset({"是", "y", "yes", "1", "true", "t", "√", "✓", "规上", "规模以上"})
FALSE_TEXT = frozenset({"否", "n", "no", "0", "false", "f", "×", "✗", "规下", "规模以下"})

_NUMBER = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?|[+-]?\.\d+(?:e[+-]?\d+)?)"
    r"(?P<unit>[^\d.,+-].*)?$",
    re.IGNORECASE,
)


class CellError(Exception):
    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: Unit | None  # the unit written in the cell, if any ("12000元")


def fold(text: str) -> str:
    """Full-width → half-width (NFKC), Unicode minus → '-', no whitespace."""
    t = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\u00a0", " ")
    return "".join(t.split())


def is_missing(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and fold(raw).lower() in MISSING_TEXT


def parse_quantity(raw: object) -> Quantity | None:
    """A number, possibly followed by a unit ("1.2万元"). None when the cell is blank or "—"."""
    if is_missing(raw):
        return None
    if isinstance(raw, bool):
        raise CellError("这里应填数字，单元格却是逻辑值（TRUE/FALSE）", "填写数字，或留空表示缺失")
    if isinstance(raw, int):
        return Quantity(float(raw), None)
    if isinstance(raw, float):
        if math.isinf(raw):
            raise CellError("数值无穷大", "填写有限的数字")
        return Quantity(raw, None)
    if isinstance(raw, dt.date | dt.datetime | dt.time):
        raise CellError("这里应填数字，单元格却是日期", "把单元格格式改为“数值”后重新输入数字")
    text = fold(str(raw))
    m = _NUMBER.match(text)
    if not m:
        raise CellError("这里应填数字，单元格却是文字", "只填数字（可带千分位逗号，如 1,234.5），缺失请留空或填 —")
    value = float(m.group("num").replace(",", ""))
    if math.isinf(value):
        raise CellError("数值超出范围", "检查数字是否多写了位数")
    unit_text = m.group("unit")
    if not unit_text:
        return Quantity(value, None)
    try:
        unit = parse_unit(unit_text)
    except UnitError:
        raise CellError(f"无法识别数字后面的“{unit_text}”",
                        "只填数字，把单位写在表头，如“税收（万元）”；缺失请留空或填 —") from None
    return Quantity(value, unit)


def to_internal(value: float, unit: Unit, internal: str) -> float:
    """Convert with core.units and drop binary noise: 12000 元 → 1.2 万元, not 1.2000000000000002."""
    out = convert(value, unit, internal)
    assert out is not None
    return clean(out)


def clean(x: float) -> float:
    """Round to 15 significant digits (what a float can carry in decimal)."""
    if x == 0 or not math.isfinite(x):
        return x + 0.0
    y = float(f"{x:.15g}")
    return y if math.isfinite(y) else x  # rounding up the largest floats would overflow


def parse_bool(raw: object) -> bool | None:
    if is_missing(raw):
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    key = fold(str(raw)).lower()
    if key in TRUE_TEXT:
        return True
    if key in FALSE_TEXT:
        return False
    raise CellError("无法识别为“是”或“否”", "填 是/否、Y/N 或 1/0；不清楚请留空")


def parse_year(raw: object, lo: int, hi: int) -> int:
    if is_missing(raw):
        raise CellError("年度为空", "每行都要填写年度，如 2023")
    if isinstance(raw, bool):
        raise CellError("年度应为 4 位数字", "填写如 2023")
    if isinstance(raw, dt.datetime | dt.date):
        year = raw.year
    elif isinstance(raw, int):
        year = raw
    elif isinstance(raw, float) and raw.is_integer():
        year = int(raw)
    else:
        text = fold(str(raw))
        m = re.fullmatch(r"(\d{4})(?:\.0+|年度?)?", text)
        if not m:
            raise CellError("年度应为 4 位数字", "填写如 2023（也可写 2023年）")
        year = int(m.group(1))
    if not lo <= year <= hi:
        raise CellError(f"年度超出范围 {lo}–{hi}", "检查年度是否填错")
    return year


def parse_text(raw: object) -> str | None:
    """Free text such as a name: trimmed, inner runs of whitespace collapsed; full-width kept."""
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    return None if is_missing(text) else text


def parse_industry_code(raw: object) -> str | None:
    """A GB/T 4754 code as text. Excel drops leading zeros of numeric cells (0111 → 111): pad them."""
    if is_missing(raw):
        return None
    if isinstance(raw, bool):
        raise CellError("行业代码应为 4 位数字", "填写 GB/T 4754-2017 小类代码，如 3976")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        return str(raw).zfill(4) if 0 <= raw < 10000 else str(raw)
    return fold(str(raw)).upper()


# Excel's 1900 date system counts days from 1899-12-30 (it wrongly takes 1900 as a leap year, so the
# serials before 1900-03-01 are off by one; they are outside the accepted range anyway).
EXCEL_EPOCH = dt.date(1899, 12, 30)
#: serial numbers read as dates: 1920-01-01 … 2199-12-31. A number below (2023, 12) is not a date a
#: county sheet holds (a year typed into a date column, a count), so it is refused, not misread.
DATE_SERIAL_MIN = (dt.date(1920, 1, 1) - EXCEL_EPOCH).days
DATE_SERIAL_MAX = (dt.date(2199, 12, 31) - EXCEL_EPOCH).days

_DATE_TEXT = re.compile(
    r"(?P<y>\d{4})(?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})|年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})[日号]?)"
    r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # a time of day after the date ("2023-01-05 00:00:00")
)
_DATE_DIGITS = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_DATE_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_DATE_FIX = "按 2023-01-05、2023/1/5 或 2023年1月5日 的格式填写；不清楚请留空"


def _serial_date(serial: float) -> dt.date:
    if not DATE_SERIAL_MIN <= serial < DATE_SERIAL_MAX + 1:
        raise CellError(f"数字 {serial:g} 不像日期（Excel 日期序号应在 {DATE_SERIAL_MIN}–{DATE_SERIAL_MAX} 之间，"
                        "即 1920-01-01 至 2199-12-31）", _DATE_FIX)
    return EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))


def parse_date(raw: object) -> dt.date | None:
    """A date as clerks and spreadsheet programs write it. None when the cell is blank or "—".

    Accepted: a date or datetime cell; an Excel serial number (what a date cell holds when it is read
    without its format, or exported as a plain number; 1900 date system, 1920–2199); texts
    "2023-01-05", "2023/1/5", "2023.1.5", "2023年1月5日", "20230105", also in full-width digits and
    with a time of day after the date.
    """
    if is_missing(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise CellError("这里应填日期，单元格却是逻辑值（TRUE/FALSE）", _DATE_FIX)
    if isinstance(raw, dt.time):
        raise CellError("这里应填日期，单元格却只有时间", _DATE_FIX)
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise CellError("数值无穷大，不是日期", _DATE_FIX)
        return _serial_date(raw)
    text = fold(str(raw))
    m = _DATE_TEXT.fullmatch(text) or _DATE_DIGITS.fullmatch(text)
    if m is None:
        if _DATE_SERIAL.fullmatch(text):
            return _serial_date(float(text))
        raise CellError("无法识别为日期", _DATE_FIX)
    parts = m.groupdict()
    year, month, day = int(parts["y"]), int(parts.get("m") or parts["m2"]), int(parts.get("d") or parts["d2"])
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(f"不是有效的日期：{year} 年没有 {month} 月 {day} 日", "检查月份和日期是否填错") from None
