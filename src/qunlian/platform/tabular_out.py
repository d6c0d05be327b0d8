"""The one writer: every export (pages, API, CLI) writes .xlsx and .csv through here.

A text value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read as a
formula by Excel or WPS (a firm named ``=HYPERLINK("http://evil.example","click")`` becomes a live link
in the bureau's own export — "CSV/formula injection"). So:

- .xlsx: every text value is written as a text cell (an inline string, never a formula), as stored
  except that a carriage return becomes a line feed (XML readers turn a bare CR into LF anyway, so
  saying so keeps the file the same for every reader); numbers stay numbers.
- .csv: UTF-8 with BOM (Excel and WPS open it without mojibake); a text value with one of those
  prefixes gets a leading apostrophe, which spreadsheet programs read as "this is text". The tabular
  reader removes that apostrophe again, so an exported file imports back to the same values.

The stored value is never changed: neutralising happens only on the way out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: what makes a spreadsheet program read a text cell as a formula (OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: the mark that a CSV cell with such a prefix is text (removed again by the tabular reader)
TEXT_MARK = "'"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: None empty, formula-like text marked as text, the rest as is."""
    if value is None:
        return ""
    return TEXT_MARK + value if is_formula_like(value) else value


def unmark_csv_cell(text: str) -> str:
    """The reader's side of ``csv_cell``: the apostrophe this writer put before a formula-like text."""
    return text[1:] if text.startswith(TEXT_MARK) and text[1:].startswith(FORMULA_PREFIXES) else text


@dataclass
class Sheet:
    """One worksheet: a title, header rows (the first is the column header), data rows; widths in characters."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    before: Sequence[Sequence[Any]] = ()  # rows above the header (a title line, say)
    widths: Sequence[float] = ()
    freeze_header: bool = True


def write_xlsx(target: str | Path | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """A workbook with one sheet per ``Sheet``; text is always text (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for spec in sheets:
        ws = wb.create_sheet(_sheet_title(spec.title))
        for i, width in enumerate(spec.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if spec.freeze_header:
            ws.freeze_panes = f"A{len(spec.before) + 2}"

        def cells(values: Sequence[Any], ws: Any = ws) -> list[Any]:
            out = []
            for v in values:
                if isinstance(v, str):
                    c = WriteOnlyCell(ws, value=v.replace("\r\n", "\n").replace("\r", "\n"))
                    c.data_type = "s"  # never a formula, whatever the text starts with
                    out.append(c)
                else:
                    out.append(v)
            return out

        for row in spec.before:
            ws.append(cells(row))
        ws.append(cells(spec.header))
        for row in spec.rows:
            ws.append(cells(row))
    if isinstance(target, (str, Path)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, sheets)
    return buf.getvalue()


def write_csv(target: str | Path | IO[str], header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> int:
    """UTF-8 with BOM (for a path), formula-like text marked; returns the number of data rows."""
    if isinstance(target, (str, Path)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with Path(target).open("w", encoding="utf-8-sig", newline="") as f:
            return write_csv(f, header, rows)
    w = csv.writer(target)
    w.writerow([csv_cell(h) for h in header])
    n = 0
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
        n += 1
    return n


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]], bom: bool = True) -> str:
    buf = io.StringIO()
    write_csv(buf, header, rows)
    return ("\ufeff" if bom else "") + buf.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title)).strip() or "Sheet"
    return clean[:31]


__all__ = ["CSV_MEDIA_TYPE", "FORMULA_PREFIXES", "XLSX_MEDIA_TYPE", "Sheet", "csv_cell", "csv_text",
           "is_formula_like", "unmark_csv_cell", "write_csv", "write_xlsx", "xlsx_bytes"]
