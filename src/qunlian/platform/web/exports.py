"""Table downloads (issue #11 item 4): a page's table, or an API list, as .xlsx or .csv.

Every download goes through the one writer (``qunlian.platform.tabular_out``: text is text in .xlsx,
formula-like text is marked in .csv, UTF-8 with BOM). A route chooses the rows exactly as its page or
JSON endpoint does — the same query, the same filters, the caller's scope applied in the query — and
describes its columns; this module turns them into a file and a download response.

Columns have two headers: the Chinese heading with its unit (``税收（万元）``, the default: what people
read in Excel or WPS), and the canonical English key (``tax_wan``, with ``headers=en``: what scripts
want). With ``headers=en`` coded values are written as their codes (``green``, not 绿灯) and messages in
English; with ``zh`` codes become their Chinese labels. The stored value is never changed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import Response

from qunlian.platform import i18n
from qunlian.platform.tabular_out import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Sheet,
    csv_text,
    xlsx_bytes,
)

FORMATS = ("xlsx", "csv")
HEADERS = ("zh", "en")
MEDIA_TYPES = {"xlsx": XLSX_MEDIA_TYPE, "csv": CSV_MEDIA_TYPE}

#: OpenAPI: the file answers an API list endpoint gives with ``format=xlsx|csv``
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "JSON by default; with format=xlsx or format=csv a download (csv: UTF-8 with BOM) "
                   "of the same rows, all pages",
    "content": {XLSX_MEDIA_TYPE: {}, "text/csv": {}},
}}
FORMAT_DESCRIPTION = ("json (default), or a download of every matching row (page and page_size ignored): "
                      "xlsx or csv (UTF-8 with BOM) / 默认 JSON；xlsx、csv 下载全部符合条件的行")
HEADERS_DESCRIPTION = ("file headers: zh (default) Chinese headings with units, e.g. 税收（万元）; en the "
                       "English keys, e.g. tax_wan, with coded values as codes / 表头：zh 中文带单位（默认），en 英文键名")


@dataclass(frozen=True)
class ExportColumn:
    """One column of a download.

    key: the canonical English key (snake_case, e.g. ``tax_wan``), the header with ``headers=en`` and,
    unless ``value`` is given, the row's field. heading: the Chinese heading with its unit (a msgid or
    a Message, e.g. ``enterprises.columns.heading("tax_wan")``). value: the cell from a row. labels:
    coded values → Chinese labels (msgids): ``zh`` writes the label, ``en`` the code. width: in
    characters (.xlsx)."""

    key: str
    heading: str
    value: Callable[[Any], Any] | None = None
    labels: Mapping[Any, str] | None = None
    width: float | None = None


def header_choice(headers: str = Query("zh", pattern="^(zh|en)$", description=HEADERS_DESCRIPTION)) -> str:
    """The ``headers`` query parameter of a download: zh (default) or en."""
    return headers


def api_format(fmt: str = Query("json", alias="format", pattern="^(json|xlsx|csv)$",
                                description=FORMAT_DESCRIPTION)) -> str:
    """The ``format`` query parameter of an API list endpoint: json (default), xlsx or csv."""
    return fmt


def file_format(request: Request) -> str:
    """The format of a page download route, from its path (``/tasks.xlsx``, ``/tasks.csv``)."""
    suffix = request.url.path.rsplit(".", 1)[-1]
    return suffix if suffix in FORMATS else "xlsx"


def header_row(columns: Sequence[ExportColumn], headers: str = "zh") -> list[str]:
    return [c.key if headers == "en" else str(c.heading) for c in columns]


def cell(column: ExportColumn, row: Any, headers: str = "zh") -> Any:
    """A row's value for a column, as the file holds it."""
    if column.value is not None:
        value = column.value(row)
    elif isinstance(row, Mapping):
        value = row.get(column.key)
    else:
        value = getattr(row, column.key, None)
    if column.labels is not None and headers == "zh":
        if isinstance(value, (list, tuple)):
            value = [column.labels.get(v, v) if isinstance(v, (str, int)) else v for v in value]
        elif isinstance(value, (str, int)) and value in column.labels:
            value = column.labels[value]
    return plain(value, headers)


def plain(value: Any, headers: str = "zh") -> Any:
    """A value a spreadsheet cell can hold: messages in the file's language, lists joined, no NaN, no
    time zones (Excel has none)."""
    if isinstance(value, i18n.Message):
        return str(value) if headers == "zh" else i18n.translate(value, "en")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [plain(v, headers) for v in value]
        return ("、" if headers == "zh" else "; ").join(str(p) for p in parts if p not in (None, ""))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {plain(v, headers)}" for k, v in value.items())
    return value


def table_rows(columns: Sequence[ExportColumn], rows: Iterable[Any], headers: str = "zh") -> list[list[Any]]:
    return [[cell(c, r, headers) for c in columns] for r in rows]


def content_disposition(filename: str, fallback: str = "download") -> str:
    """``attachment`` with an ASCII fallback name and the real (e.g. Chinese) name per RFC 5987/6266."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%/' else "_" for ch in filename)
    stem, dot, ext = ascii_name.rpartition(".")
    if not (stem if dot else ascii_name).strip("_ ."):
        ascii_name = f"{fallback}.{ext}" if dot else fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(columns: Sequence[ExportColumn], rows: Iterable[Any], fmt: str, headers: str = "zh", *,
             name: str, title: str = "", stamp: bool = True) -> Response:
    """The rows as a file download. name: the file's stem after ``qunlian-`` (plain ASCII, e.g.
    ``enterprises`` or ``targets-<plan>-status``; the date is added); title: the Chinese sheet title
    (``en`` uses the name)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    header = header_row(columns, headers)
    body = table_rows(columns, rows, headers)
    if fmt == "xlsx":
        widths = [c.width or _width(h, [r[i] for r in body[:200]]) for i, (c, h) in enumerate(zip(columns, header))]
        data = xlsx_bytes([Sheet((title or name) if headers == "zh" else name, header, body, widths=widths)])
    else:
        data = csv_text(header, body).encode("utf-8")
    filename = f"qunlian-{name}" + (f"-{dt.date.today():%Y%m%d}" if stamp else "") + f".{fmt}"
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": content_disposition(filename, fallback=f"qunlian-export-{fmt}"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",  # scoped, often confidential figures: no shared cache keeps them
    })


def _width(header: str, values: list[Any]) -> float:
    """A column width in characters: wide enough for the header and the first rows, at most 50."""
    def size(v: Any) -> float:
        text = "" if v is None else str(v)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK characters take two

    return float(min(50, max([8.0, size(header) + 2] + [size(v) + 2 for v in values])))


__all__ = ["FILE_RESPONSES", "FORMATS", "HEADERS", "ExportColumn", "api_format", "cell", "content_disposition",
           "download", "file_format", "header_choice", "header_row", "plain", "table_rows"]
