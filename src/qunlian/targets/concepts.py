"""What an indicator measures, independent of the plan that prints it.

The province, 嘉兴 and 平湖 plans print the same indicator under slightly different names
("规模以上工业亩均增加值" in 000, "规上工业亩均增加值" in 003 and 004). A *concept* groups those
names so that plans can be compared side by side (alignment) and demo actuals can be derived once
per concept. Where two plans measure nearly the same thing on a different scope (工业 vs 制造业,
R&D 经费 vs 研发费用) the variant carries a ``scope`` label and alignment flags the difference.

A concept also says what *kind of quantity* the indicator is (``measure``), which decides how a
quarterly cumulative value is compared with an annual target:

- ``flow``       a total over the period (产值, 投资, 增加值 in 亿元): pro-rated within the year
- ``intensity``  a flow per stock (亩均税收 万元/亩, 劳动生产率 万元/人): pro-rated, numerator is a flow
- ``ratio``      a share of two flows of the same period (比重, 增加值率, R&D 强度): never pro-rated
- ``rate``       a growth rate or a decline (增长 %, 增速 %, 降幅 %): never pro-rated
- ``stock``      a count at a date (企业数, 累计…, 标准数): interpolated from the previous year-end
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict

from qunlian.platform.rules import Dated, StrictValues, load

CONCEPTS_FILE = Path(__file__).with_name("concepts.yaml")

MEASURES = ("flow", "intensity", "ratio", "rate", "stock")


@dataclass(frozen=True)
class Concept:
    key: str
    label: str  # short Chinese label
    measure: str
    names: dict[str, str] = field(default_factory=dict)  # normalised printed name → scope label ("" = core)


def normalise_name(name: str) -> str:
    """Fold the printing differences that do not change meaning."""
    s = re.sub(r"\s+", "", name)
    s = re.sub(r"[（(][^（()）]*[)）]$", "", s)  # a trailing unit "(%)"
    for ch in "“”\"'‘’「」#＃*＊":
        s = s.replace(ch, "")
    s = s.replace("规模以上", "规上")
    return s


class _NameSpec(StrictValues):
    name: str
    scope: str = ""


class _ConceptSpec(StrictValues):
    key: str
    label: str
    measure: Literal["flow", "intensity", "ratio", "rate", "stock"]
    names: list[_NameSpec]


class _ConceptFile(Dated):
    model_config = ConfigDict(strict=True, frozen=True)

    concepts: list[_ConceptSpec]


def load_concepts(path: Path = CONCEPTS_FILE) -> tuple[Concept, ...]:
    """Read the concept registry (data, not code); unknown keys are errors naming the file, key and line."""
    spec = load(_ConceptFile, path, name=path.name)
    return tuple(
        Concept(c.key, c.label, c.measure, {normalise_name(n.name): n.scope for n in c.names}) for c in spec.concepts
    )


CONCEPTS: tuple[Concept, ...] = load_concepts()

_BY_NAME: dict[str, tuple[Concept, str]] = {n: (c, scope) for c in CONCEPTS for n, scope in c.names.items()}
_BY_KEY = {c.key: c for c in CONCEPTS}


def concept_of(name: str, code: str | None = None) -> tuple[Concept, str] | None:
    """The concept and scope label of a printed indicator name (or of an indicator code equal to a key)."""
    hit = _BY_NAME.get(normalise_name(name))
    if hit:
        return hit
    n = normalise_name(name)
    # "规上工业单位增加值能耗降幅" printed with a leading scope word or a trailing # mark
    for key, val in _BY_NAME.items():
        if n.endswith(key) and len(key) >= 6 and len(n) - len(key) <= 2:
            return val
    if code and code in _BY_KEY:
        return _BY_KEY[code], ""
    return None


def concept(key: str) -> Concept:
    return _BY_KEY[key]


def infer_measure(name: str, unit: str, code: str | None = None) -> str:
    """The measure of an indicator: from its concept, else from its unit and wording."""
    hit = concept_of(name, code)
    if hit:
        return hit[0].measure
    n = normalise_name(name)
    u = (unit or "").strip()
    if any(w in n for w in ("增长", "增速", "降幅", "下降")):
        return "rate"
    if u in ("%", "％", "‰") or "比重" in n or "占" in n:
        return "ratio"
    if "/" in u:
        return "intensity" if any(x in u.split("/")[0] for x in ("元",)) else "stock"
    if u in ("亿元", "万元", "元", "千元", "亩", "吨标准煤", "万吨标准煤"):
        return "flow"
    return "stock"
