"""The one check for every number a person types into a form, an API call or a CLI option.

A number is accepted when it is a finite decimal ("1,234.5", "１２３", "-3", "2e3"), within the
plausible range of its unit (the dated preset ``presets/plausible-2026.yaml``) and within the bounds
its field sets (a figure of a firm is not negative).
Everything else — "nan", "inf", "1e308", "abc", a logical value — is refused with a message that names
the field, says what is wrong and how to fix it; nothing is stored.

- ``parse_number(raw, field)`` for form fields and internal callers;
- ``api_number(field)`` for pydantic / FastAPI fields and query parameters;
- ``number_option(...)`` / ``year_option(...)`` (parser ``NumberType``) for typer options;
- ``id_option(...)`` / ``id_argument(...)`` (parser ``IdType``) for record ids typed on the command line (within the store's
  INTEGER, so a PostgreSQL query never overflows).

Spreadsheet cells have their own parser (``enterprises.values``): a cell may carry a unit, a blank
or "—"; that parser is for files, this one for what a person types in one field.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from qunlian.core.errors import QunlianError
from qunlian.core.messages import N_, Message
from qunlian.platform.i18n import explain, say
from qunlian.platform.rules import Dated, RulesError, Strict, load

PRESET = Path(__file__).parent / "presets" / "plausible-2026.yaml"
#: the largest record id a store holds (SQL INTEGER); a larger one typed anywhere is simply not there
MAX_ID = 2**31 - 1

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_NOT_FINITE = {"nan", "inf", "infinity"}
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


# --------------------------------------------------------------------------- the plausible ranges


class Bounds(Strict):
    min: float
    max: float


class Plausible(Dated):
    units: dict[str, Bounds] = Field(default_factory=dict)
    default: Bounds

    def bounds(self, unit: str | None) -> Bounds:
        return self.units.get((unit or "").strip(), self.default)


class PlausiblePresetError(RulesError):
    kind = N_("规则文件")


@functools.cache
def plausible(path: str | None = None) -> Plausible:
    """The plausible range of a value per unit (the dated preset, or a copy named by path)."""
    return load(Plausible, Path(path) if path else PRESET, error=PlausiblePresetError, doc="docs/web.md")


# --------------------------------------------------------------------------- the check


class NumberInvalid(QunlianError):
    """A typed number was refused: ``message`` says what is wrong, ``fix`` what to type instead."""

    def __init__(self, message: str, fix: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.field = message, fix, field

    def render(self, gettext=lambda s: s) -> str:  # noqa: ANN001 - a gettext callable
        def tr(text: str) -> str:
            return text.render(gettext) if isinstance(text, Message) else gettext(text)

        parts = [tr(self.message)]
        if self.fix:
            parts.append(tr(self.fix))
        return tr(N_("；")).join(parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class NumberField:
    """What a number field accepts: its label (a msgid), its unit and the field's own bounds
    (intersected with the unit's plausible range)."""

    label: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    #: False: only the field's own bounds (a figure in a unit still to be converted, checked after)
    plausible_range: bool = True

    def bounds(self) -> tuple[float, float]:
        lo, hi = -math.inf, math.inf
        if self.plausible_range:
            unit = plausible().bounds(self.unit)
            lo, hi = unit.min, unit.max
        if self.minimum is not None:
            lo = max(lo, self.minimum)
        if self.maximum is not None:
            hi = min(hi, self.maximum)
        return lo, hi


def _fold(text: str) -> str:
    """Full-width digits and signs → ASCII, Unicode minus → '-', no whitespace."""
    t = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    return "".join(t.split())


def _g(x: float) -> str:
    return format(x, ",.15g") if abs(x) >= 10000 else format(x, ".15g")


def parse_number(raw: object, field: NumberField, *, blank: bool = False) -> float | None:
    """``raw`` (text as typed, or a number) as a float, or NumberInvalid. ``blank=True`` lets an
    empty field mean "no value" (None); otherwise an empty field is refused."""
    label = Message(field.label)
    if raw is None or (isinstance(raw, str) and not _fold(raw)):
        if blank:
            return None
        raise NumberInvalid(Message("%(field)s不能为空", field=label), N_("填写一个数字"), field.label)
    if isinstance(raw, bool):
        raise NumberInvalid(Message("%(field)s应为数字，收到的是逻辑值", field=label), N_("填写一个数字"), field.label)
    if isinstance(raw, int | float):
        value = float(raw) if not isinstance(raw, int) or abs(raw) < 10**308 else math.inf
    else:
        text = _fold(str(raw))
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        if text.lstrip("+-").lower() in _NOT_FINITE:
            text = "nan"  # spelled out: refused below as not finite, not as "not a number"
        elif not _DECIMAL.fullmatch(text):
            raise NumberInvalid(Message("%(field)s不是数字：“%(value)s”", field=label, value=str(raw)[:40]),
                                N_("只填数字（可带正负号、小数点和千分位逗号，如 1,234.5），不带单位"), field.label)
        value = float(text)
    if not math.isfinite(value):
        raise NumberInvalid(Message("%(field)s必须是有限的数字", field=label),
                            N_("填写一个具体的数字（不接受 nan、inf 或超出浮点范围的数）"), field.label)
    if field.integer and not value.is_integer():
        raise NumberInvalid(Message("%(field)s应为整数：%(value)s", field=label, value=_g(value)),
                            N_("填写整数"), field.label)
    lo, hi = field.bounds()
    if not lo <= value <= hi:
        if field.unit:
            raise NumberInvalid(
                Message("%(field)s %(value)s 超出可能的范围（%(lo)s 至 %(hi)s %(unit)s）", field=label, value=_g(value),
                        lo=_g(lo), hi=_g(hi), unit=field.unit),
                Message("检查是否多打了位数或单位不对：本项按 %(unit)s 填写", unit=field.unit), field.label)
        raise NumberInvalid(Message("%(field)s %(value)s 超出可能的范围（%(lo)s 至 %(hi)s）", field=label, value=_g(value),
                                    lo=_g(lo), hi=_g(hi)), N_("检查是否多打了位数"), field.label)
    return value + 0.0  # -0.0 → 0.0


def parse_id(raw: object) -> int | None:
    """A record id as typed (a whole number from 1 to the store's INTEGER), or None: an id that
    cannot exist is simply not there (the caller answers 404 or a usage error)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 1 <= raw <= MAX_ID else None
    typed = "".join(str(raw).split()).lstrip("+＋")
    text = _fold(typed)[:12]
    # isdecimal: full-width digits are digits; "²" is not a number anyone types as an id
    if not typed.isdecimal() or not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= MAX_ID:
        return None
    return int(text)


def api_number(field: NumberField) -> Any:
    """The type of a float field of an API model or query parameter: refused values (nan, inf,
    1e308, beyond the field's range) are a 422 whose detail is ``parse_number``'s message."""

    def check(value: float) -> float:
        try:
            return parse_number(value, field)  # type: ignore[return-value]
        except NumberInvalid as exc:
            raise ValueError(exc.render()) from None

    return Annotated[float, Field(allow_inf_nan=False), AfterValidator(check)]


# --------------------------------------------------------------------------- CLI


def _usage_error(text: str) -> Exception:
    """What a typer parser raises for a refused value: typer reports it as "Invalid value for
    '--option': <text>" (exit status 2); a custom pydantic error keeps "Value error," off the text."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError("qunlian_number", "{text}", {"text": text})


class NumberType:
    """The parser of a typer / click option that checks with ``parse_number``: a refused value is a
    usage error naming the option (exit status 2), never a traceback or a stored nan."""

    def __init__(self, field: NumberField) -> None:
        self.field = field

    def __call__(self, value: Any) -> float | int:
        try:  # a default passes here too, so a default outside the field's range is caught
            out = parse_number(value, self.field)
        except NumberInvalid as exc:
            raise _usage_error(explain(exc)) from None
        assert out is not None
        return int(out) if self.field.integer else out


class IdType:
    """The parser of a record id (run, task, evidence, grant …): a whole number from 1 to the store's
    INTEGER."""

    def __call__(self, value: Any) -> int:
        out = parse_id(value)
        if out is None:
            raise _usage_error(say(Message("编号应为 1 至 %(max)s 的整数：“%(value)s”", max=MAX_ID,
                                           value=str(value)[:40])))
        return out


def number_option(default: Any, *names: str, field: NumberField, help: str | None = None) -> Any:  # noqa: A002
    """``typer.Option`` for a number, checked by ``parse_number``."""
    import typer

    return typer.Option(default, *names, parser=NumberType(field), help=help)


def id_option(default: Any, *names: str, help: str | None = None) -> Any:  # noqa: A002
    """``typer.Option`` for a record id."""
    import typer

    return typer.Option(default, *names, parser=IdType(), help=help)


def id_argument(default: Any, help: str | None = None) -> Any:  # noqa: A002
    import typer

    return typer.Argument(default, parser=IdType(), help=help)


#: a data year typed anywhere (the store keeps years of plans and firms in this span)
YEAR = NumberField(N_("年度"), minimum=1900, maximum=2200, integer=True)


def year_option(default: Any, *names: str, help: str | None = None) -> Any:  # noqa: A002
    """``typer.Option`` for a data year (1900–2200)."""
    return number_option(default, *names, field=YEAR, help=help)
