"""Units and conversion. Internal units (DESIGN §5): 万元, 亩, 吨标准煤, 万千瓦时, 吨排放当量, persons, fractions.

A column's unit is always declared (in its header such as "税收（元）", or by the importer's option),
never guessed from the size of the numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qunlian.core.errors import QunlianError


@dataclass(frozen=True)
class Unit:
    symbol: str  # canonical Chinese symbol, e.g. "万元"
    dimension: str  # money | area | energy | electricity | emission | count | ratio
    factor: float  # multiply by this to get the dimension's internal unit
    aliases: tuple[str, ...] = ()


UNITS: tuple[Unit, ...] = (
    Unit("元", "money", 1e-4, ("yuan", "rmb", "cny")),
    Unit("千元", "money", 0.1, ("thousand yuan",)),
    Unit("万元", "money", 1.0, ("wan", "wan yuan", "10k yuan", "万")),
    Unit("亿元", "money", 1e4, ("yi", "yi yuan", "100m yuan", "亿")),
    Unit("亩", "area", 1.0, ("mu",)),
    Unit("公顷", "area", 15.0, ("ha", "hectare", "hectares")),
    Unit("平方米", "area", 1 / (10000 / 15), ("m2", "m²", "㎡", "sqm", "平米")),  # 1 亩 = 10000/15 m²
    Unit("平方公里", "area", 1500.0, ("km2", "km²")),
    Unit("吨标准煤", "energy", 1.0, ("tce", "吨标煤", "t standard coal")),
    Unit("万吨标准煤", "energy", 1e4, ("万tce", "万吨标煤", "10k tce")),
    Unit("千克标准煤", "energy", 1e-3, ("kgce", "千克标煤")),
    Unit("千瓦时", "electricity", 1e-4, ("kwh", "度")),
    Unit("万千瓦时", "electricity", 1.0, ("万kwh", "万度", "10k kwh")),
    Unit("亿千瓦时", "electricity", 1e4, ("亿kwh", "亿度")),
    Unit("吨", "emission", 1.0, ("t", "吨排放当量", "ton", "tons")),
    Unit("人", "count", 1.0, ("persons", "person", "people")),
    Unit("件", "count", 1.0, ("items", "pcs")),
    Unit("家", "count", 1.0, ("firms",)),
    Unit("项", "count", 1.0, ("standards",)),
    Unit("比例", "ratio", 1.0, ("fraction", "ratio")),
    Unit("%", "ratio", 0.01, ("％", "percent", "百分比")),
    Unit("‰", "ratio", 0.001, ("permille",)),
)

_BY_NAME: dict[str, Unit] = {}
for _u in UNITS:
    for _name in (_u.symbol, *_u.aliases):
        _BY_NAME[_name.lower()] = _u

INTERNAL = {"money": "万元", "area": "亩", "energy": "吨标准煤", "electricity": "万千瓦时", "emission": "吨",
            "count": "人", "ratio": "比例"}


class UnitError(QunlianError):
    pass


def parse_unit(label: str) -> Unit:
    """Look a unit up by its symbol or alias, case- and width-insensitively."""
    key = _fold(label)
    try:
        return _BY_NAME[key]
    except KeyError:
        known = "、".join(u.symbol for u in UNITS)
        raise UnitError(f"未知单位 {label!r}；可用单位：{known}") from None


def convert(value: float | None, from_unit: str | Unit, to_unit: str | Unit) -> float | None:
    """Convert a value between two units of the same dimension (None stays None)."""
    src = from_unit if isinstance(from_unit, Unit) else parse_unit(from_unit)
    dst = to_unit if isinstance(to_unit, Unit) else parse_unit(to_unit)
    if src.dimension != dst.dimension:
        raise UnitError(f"不能把 {src.symbol} 换算为 {dst.symbol}：量纲不同（{src.dimension} ≠ {dst.dimension}）")
    if value is None:
        return None
    return value * src.factor / dst.factor


def compatible(a: str | Unit, b: str | Unit) -> bool:
    ua = a if isinstance(a, Unit) else parse_unit(a)
    ub = b if isinstance(b, Unit) else parse_unit(b)
    return ua.dimension == ub.dimension


_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[（(\[【]\s*(?P<unit>[^）)\]】]+?)\s*[）)\]】]\s*$")


def split_header(header: str) -> tuple[str, str | None]:
    """'税收（万元）' → ('税收', '万元'); 'tax_wan' → ('tax_wan', None)."""
    text = str(header).strip()
    m = _HEADER_UNIT.match(text)
    if m:
        return m.group("name").strip(), m.group("unit").strip()
    return text, None


def _fold(label: str) -> str:
    out = []
    for ch in str(label).strip():
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E and ch != "％":
            ch = chr(o - 0xFEE0)
        out.append(ch)
    return "".join(out).lower().replace(" ", " ").strip()
