"""Languages, the gettext catalogue and locale-aware formatting (Babel).

Chinese is the source language: every msgid is the Chinese text, so Chinese needs no catalogue. English
is a translation, ``locale/en/LC_MESSAGES/messages.po`` compiled to ``messages.mo`` (both kept in the
tree; ``scripts/i18n.sh`` extracts, updates and compiles). A message missing from the catalogue shows
in Chinese; ``tests/platform/test_i18n.py`` fails on any extracted msgid without an English msgstr.

- Literal strings shown later (labels declared at import time, ``Problem`` texts): mark them with
  ``N_("…")`` (returns the text unchanged) and translate where they are shown: ``_(label)`` in a
  template, ``translate(label, lang)`` in Python.
- A message with parameters, built by domain code that knows no language: ``Message("…%(n)s…", n=3)``.
  It *is* the Chinese text (a ``str``: tests, JSON and the CLI see the source text unchanged) and
  also keeps its msgid and parameters, so ``translate`` renders it in any language. Parameters may be
  Messages themselves; ``Joined(separator, parts)`` joins Messages with a translatable separator.
- The language of a request comes from the ``lang`` cookie (POST /lang); the CLI's from ``QUNLIAN_LANG``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

from qunlian.core.messages import N_, Joined, Message

__all__ = [
    "COOKIE", "DEFAULT", "LANGUAGES", "LOCALES", "HTML_LANG", "NAMES", "LOCALE_DIR", "DOMAIN", "KEYWORDS",
    "N_", "Message", "Joined", "lazy", "translations", "translate", "translator", "with_translation", "gettext",
    "ngettext",
    "explain", "cli_language", "say", "echo", "locale_of", "format_number", "format_decimal", "format_percent", "format_money",
    "format_date",
]

COOKIE = "lang"
DEFAULT = "zh"
LANGUAGES = ("zh", "en")
#: the Babel locale of each UI language (numbers, dates)
LOCALES = {"zh": "zh_CN", "en": "en"}
#: each language's tag for <html lang> and its own name (the switch shows the others)
HTML_LANG = {"zh": "zh-CN", "en": "en"}
NAMES = {"zh": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
#: gettext keywords for ``pybabel extract`` beyond Babel's defaults (``_``, ``gettext``, ``N_`` …):
#: a Message's msgid, a Joined's separator and a nav entry's label (its second argument).
#: scripts/i18n.sh passes the same ones with ``-k``
KEYWORDS = {"Message": None, "lazy": None, "Joined": None, "NavEntry": (2,), "Column": (2,)}

#: marks a literal as a msgid where it is declared; the same Message, under the name the docs use
lazy = Message


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The catalogue of a language: none for the source language (and unknown ones), else the .mo."""
    if lang not in LANGUAGES or lang == DEFAULT:
        return NullTranslations()
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fp:
        return Translations(fp, domain=DOMAIN)


def translate(text: Any, lang: str) -> Any:
    """A msgid or Message in ``lang``; None and non-strings pass through."""
    if not isinstance(text, str) or not text:
        return text
    t = translations(lang)
    if isinstance(text, Message):
        return text.render(t.gettext)
    return t.gettext(text)


def translator(lang: str) -> Callable[[str], str]:
    """A ``_`` for Python code that renders for one language (a Message keeps its parameters)."""

    def _(message: str) -> str:
        return translate(message, lang)

    return _


def with_translation(data: Any, key: str = "reason", lang: str = "en") -> Any:
    """A copy of ``data`` (dicts and lists, nested) in which every dict holding ``key`` also holds
    ``<key>_<lang>``, the text in ``lang``. For JSON contracts published with a second-language field
    (the targets API's ``reason_en``): domain code returns the message, this adds the field."""
    if isinstance(data, list):
        return [with_translation(x, key, lang) for x in data]
    if isinstance(data, dict):
        out = {k: with_translation(v, key, lang) for k, v in data.items()}
        if key in data:
            out[f"{key}_{lang}"] = translate(data[key], lang)
        return out
    return data


def gettext(lang: str, message: str, **params: Any) -> str:
    """``message`` in ``lang``, with ``%(name)s`` parameters filled in when given."""
    text = translate(message, lang)
    return text % params if params else text


def ngettext(lang: str, singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"num": n, **params} if "%" in text else text


def explain(exc: BaseException, lang: str | None = None) -> str:
    """A user-facing error (QunlianError, ValidationFailed with its Problems) in ``lang`` (default: the
    CLI's language); other exceptions as ``str``."""
    render = getattr(exc, "render", None)
    if render is None:
        return str(exc)
    return render(translations(lang or cli_language()).gettext)


def say(message: Any, lang: str | None = None) -> Any:
    """A msgid or Message in the CLI's language (``QUNLIAN_LANG``): what a command prints."""
    return translate(message, lang or cli_language())


def echo(message: Any, *, err: bool = False) -> None:
    """Print a msgid, Message, Problem or user-facing error in the CLI's language (``typer.echo``)."""
    import typer

    typer.echo(explain(message) if hasattr(message, "render") and not isinstance(message, str) else say(message),
               err=err)


def cli_language() -> str:
    """The CLI's language: ``QUNLIAN_LANG`` (zh or en), else Chinese. The system locale is not
    consulted, so scripts that parse the CLI's output see the same text on every machine."""
    lang = os.environ.get("QUNLIAN_LANG", "").strip().lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT


# --------------------------------------------------------------------------- numbers and dates


@lru_cache(maxsize=None)
def locale_of(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES[DEFAULT]))


def _exact(value: float, digits: int) -> decimal.Decimal:
    # Python's own correctly rounded digits (as f"{x:.2f}" gives them), so Babel only groups them;
    # Babel would otherwise round str(x) half-even and 2.675 (really 2.67499…) would become 2.68
    return decimal.Decimal(f"{value:.{digits}f}")


@lru_cache(maxsize=None)
def _threes(lang: str) -> tuple[str, str, str] | None:
    """The locale's group, decimal and minus signs when it groups digits by threes (zh, en): Python's own
    ``format(x, ",.2f")`` with these signs is then exactly Babel's result, at a twentieth of the cost (a
    page formats thousands of figures). None for a locale that groups otherwise (Babel formats it)."""
    loc = locale_of(lang)
    pattern = loc.decimal_formats.get(None)
    symbols = loc.number_symbols.get("latn") or {}
    if pattern is None or tuple(pattern.grouping) != (3, 3) or not {"group", "decimal", "minusSign"} <= set(symbols):
        return None
    return symbols["group"], symbols["decimal"], symbols["minusSign"]


def _grouped(text: str, signs: tuple[str, str, str]) -> str:
    """Python's "1,234.5" / "-3" in the locale's signs."""
    group, point, minus = signs
    if (group, point, minus) == (",", ".", "-"):
        return text
    return text.translate(str.maketrans({",": group, ".": point, "-": minus}))


def format_number(value: int | float, lang: str = DEFAULT) -> str:
    """A whole number with the locale's grouping (1,234,567)."""
    signs = _threes(lang)
    if signs is not None:
        return _grouped(f"{int(value):,d}", signs)
    return babel_numbers.format_decimal(int(value), format="#,##0", locale=locale_of(lang))


def format_decimal(value: float, lang: str = DEFAULT, digits: int = 2) -> str:
    """A number with ``digits`` decimals and the locale's grouping (1,234.50)."""
    value = float(value)
    if not math.isfinite(value):
        return f"{value:,.{digits}f}"
    signs = _threes(lang)
    if signs is not None:
        return _grouped(f"{value:,.{digits}f}", signs)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return babel_numbers.format_decimal(_exact(value, digits), format=pattern, locale=locale_of(lang),
                                        decimal_quantization=False)


def format_percent(value: float, lang: str = DEFAULT, digits: int = 1) -> str:
    """A fraction as a percentage with ``digits`` decimals (0.125 → 12.5%)."""
    value = float(value)
    if not math.isfinite(value):
        return f"{value * 100:.{digits}f}%"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return babel_numbers.format_percent(_exact(value * 100, digits) / 100, format=pattern,
                                        locale=locale_of(lang), decimal_quantization=False)


def format_money(value: float, lang: str = DEFAULT, currency: str = "CNY", digits: int = 2) -> str:
    """An amount of money in ``currency`` (¥1,234.50 / CN¥1,234.50)."""
    return babel_numbers.format_currency(_exact(float(value), digits), currency, locale=locale_of(lang),
                                         currency_digits=False, decimal_quantization=False)


def format_date(value: dt.date | dt.datetime | str, lang: str = DEFAULT, format: str = "medium") -> str:
    """A date in the locale's words (2024年3月5日 / Mar 5, 2024); an ISO string is parsed first."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return babel_dates.format_date(value, format=format, locale=locale_of(lang))
