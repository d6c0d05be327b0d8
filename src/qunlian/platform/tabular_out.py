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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    # cells to point out, by (row, column) as written (first row = 1, first column = 1) → a note: the
    # cell gets a red fill and the note as a comment (validation reports)
    marks: Mapping[tuple[int, int], str] = field(default_factory=dict)


def write_xlsx(target: str | Path | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """A workbook with one sheet per ``Sheet``; text is always text (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    MARK_FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's "bad" red
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for spec in sheets:
        ws = wb.create_sheet(_sheet_title(spec.title))
        for i, width in enumerate(spec.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if spec.freeze_header:
            ws.freeze_panes = f"A{len(spec.before) + 2}"

        written = 0

        def cells(values: Sequence[Any], ws: Any = ws, spec: Sheet = spec) -> list[Any]:
            nonlocal written
            written += 1
            out = []
            for j, v in enumerate(values, 1):
                note = spec.marks.get((written, j)) if spec.marks else None
                if isinstance(v, str):
                    c = WriteOnlyCell(ws, value=v.replace("\r\n", "\n").replace("\r", "\n"))
                    c.data_type = "s"  # never a formula, whatever the text starts with
                elif note is not None:
                    c = WriteOnlyCell(ws, value=v)
                else:
                    out.append(v)
                    continue
                if note is not None:
                    c.fill = MARK_FILL
                    c.comment = Comment(note, "qunlian", width=320, height=120)
                out.append(c)
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


#: the column a validation report adds to say each row's problems (ignored when the report is re-imported)
REPORT_COLUMN = "校验问题（改好后可删去此列）"


def write_validation_report(target: str | Path | IO[bytes], problems: Sequence[Any], *,
                            rows: Sequence[tuple[int, Sequence[Any]]] = (), header_row: int | None = None,
                            sheet: str = "数据") -> None:
    """A validation report a person can fix and re-import: the file's rows where they stood (same
    row numbers), each problem cell in red with the problem and the fix as its comment, and a 问题清单
    sheet listing every problem. ``rows`` are the reader's (row number, cells); ``header_row`` the
    header's row number, whose texts locate a problem's column. Without rows (a file the reader
    refused as a whole) the report is the list alone."""
    header: Sequence[Any] = next((cells for n, cells in rows if n == header_row), ())
    where = {" ".join(str(h).split()): j for j, h in enumerate(header, 1) if h is not None}
    marks: dict[tuple[int, int], str] = {}
    for p in problems:
        if p.row is None:
            continue
        col = where.get(" ".join(str(p.column).split())) if p.column else None
        note = str(p.message) + (f"\n→ {p.fix}" if p.fix else "")
        key = (p.row, col or 1)
        marks[key] = marks[key] + "\n\n" + note if key in marks else note
    sheets = []
    if rows:
        by_number = dict(rows)
        last = max(by_number)
        width = max((len(c) for _n, c in rows), default=1)
        body = [list(by_number.get(n, ())) + [None] * (width - len(by_number.get(n, ()))) for n in range(1, last + 1)]
        # one more column says each row's problems in words, for reading and printing without hovering
        # over comments; the importer ignores a column it does not know
        per_row: dict[int, list[str]] = {}
        for p in problems:
            if p.row is not None:
                per_row.setdefault(p.row, []).append(str(p.message))
        for n, line in enumerate(body, 1):
            if header_row is not None and n == header_row:
                line.append(REPORT_COLUMN)
            elif n in per_row:
                line.append("；".join(per_row[n]))
        sample = body[(header_row or 1) - 1:][:200]  # a title row above the header does not set widths
        widths = [min(40.0, max([8.0] + [len(str(line[j])) * 1.8 + 2 for line in sample
                                         if j < len(line) and line[j] is not None]))
                  for j in range(width)] + [60.0]
        sheets.append(Sheet(sheet, body[0], body[1:], marks=marks, freeze_header=False, widths=widths))
    listing = [[p.file or "", p.sheet or "", p.row, p.column or "", _shown(p.value), str(p.message), str(p.fix or "")]
               for p in problems]
    sheets.append(Sheet("问题清单", ["文件", "工作表", "行", "列", "单元格内容", "问题", "怎么改"], listing,
                        widths=(18, 12, 6, 16, 22, 50, 50)))
    write_xlsx(target, sheets)


def _shown(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def _sheet_title(title: str) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title)).strip() or "Sheet"
    return clean[:31]


__all__ = ["CSV_MEDIA_TYPE", "FORMULA_PREFIXES", "XLSX_MEDIA_TYPE", "Sheet", "csv_cell", "csv_text",
           "is_formula_like", "unmark_csv_cell", "write_csv", "write_validation_report", "write_xlsx", "xlsx_bytes"]
