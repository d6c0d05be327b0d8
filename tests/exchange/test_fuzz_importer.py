"""Fuzz the enterprise-year importer (issue #12, item 10): whatever file comes in, the import either
succeeds or raises ValidationFailed with clear Problems (a message, a fix and the file named), and a
refused file stores nothing (no enterprise, year, batch or figure revision).

Bounded and derandomized so CI stays lean: a fixed number of generated CSV files (UTF-8, GBK, UTF-16,
random delimiters, quotes, NULs, huge numbers, full-width digits, formulas, headers from the canonical
columns and their aliases) and small xlsx files (random cell values and types).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from web_helpers import WebStore

from qunlian.core.errors import ValidationFailed
from qunlian.core.uscc import make_uscc
from qunlian.enterprises import columns
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.enterprises.models import Enterprise, EnterpriseYear, FigureRevision
from qunlian.platform.models import ImportBatch

COUNTED = (Enterprise, EnterpriseYear, ImportBatch, FigureRevision)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

HEADERS = sorted({h for c in columns.COLUMNS for h in (c.name, c.label, *c.aliases)})
UNITS = ["", "（元）", "(万元)", "（亩）", "（平方米）", "(吨标准煤)", "（个）", "(furlong)"]

cells = st.one_of(
    st.sampled_from(["", " ", "是", "否", "当湖街道", "乍浦镇", "新埭", "nowhere镇", "3976", "3670", "0000",
                     "2023", "２０２３", "１２３４．５", "-1", "0", "1e400", "NaN", "inf", "9" * 40,
                     "=1+1", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(1)", "\x00", "a\x00b",
                     "\"", "\"\"quoted\"\"", "line\nbreak", "2023-01-05", "45000", "光电通信", "4q8l:optical",
                     "生产经营正常", "\ufeff", "\u202e反向", make_uscc("330482", "MA2B001X"), "91330482MA2B001X0X"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
    st.integers(min_value=1, max_value=999).map(lambda i: make_uscc("330482", f"{i:08d}")),
)


@st.composite
def tables(draw) -> list[list[str]]:
    header = draw(st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=8)), min_size=0, max_size=9))
    header = [h + draw(st.sampled_from(UNITS)) for h in header]
    width = max(len(header), 1)
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=width + 1), max_size=6))
    return [header, *rows]


def _csv_bytes(table: list[list[str]], delimiter: str, quoting: int, encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, escapechar="\\")
    for row in table:
        try:
            writer.writerow(row)
        except csv.Error:  # e.g. QUOTE_NONE with a character it cannot escape: write it raw
            buf.write(delimiter.join(row) + "\n")
    return buf.getvalue().encode(encoding, errors="replace")


def _xlsx_value(v: str, kind: int):
    if kind == 0:
        return v
    if kind == 1:
        try:
            return float(v)
        except ValueError:
            return len(v)
    if kind == 2:
        return bool(len(v) % 2)
    if kind == 3:
        return dt.datetime(2023, 1, 1) + dt.timedelta(days=len(v))
    return None


@pytest.fixture
def counts(web_store: WebStore):
    def _counts() -> dict[str, int]:
        with web_store.engine.connect() as conn:
            return {m.__tablename__: conn.scalar(select(func.count()).select_from(m)) for m in COUNTED}

    return _counts


_names = itertools.count()


def _check(engine: Engine, path: Path, counts) -> None:
    before = counts()
    try:
        import_enterprise_years(engine, path, dry_run=False)
    except ValidationFailed as exc:
        assert exc.problems, "a refusal names at least one problem"
        for p in exc.problems:
            assert str(p.message).strip(), p
            assert str(p.fix).strip(), p
            assert p.file, p
        assert counts() == before, "a refused file stored something"


@FUZZ
@given(table=tables(), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE, csv.QUOTE_NONNUMERIC]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16", "latin-1"]),
       garbage=st.one_of(st.just(b""), st.binary(max_size=40)))
def test_fuzzed_csv_imports_or_is_refused_cleanly(web_store: WebStore, counts, tmp_path: Path, table, delimiter,
                                                  quoting, encoding, garbage: bytes) -> None:
    path = tmp_path / f"fuzz-{next(_names)}.csv"
    path.write_bytes(_csv_bytes(table, delimiter, quoting, encoding) + garbage)
    _check(web_store.engine, path, counts)


@FUZZ
@given(table=tables(), kinds=st.lists(st.integers(0, 4), min_size=1, max_size=10),
       sheet=st.sampled_from(["企业数据", "Sheet1", "数据 (2)"]))
def test_fuzzed_xlsx_imports_or_is_refused_cleanly(web_store: WebStore, counts, tmp_path: Path, table, kinds,
                                                   sheet: str) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(table):
        values = [ILLEGAL_CHARACTERS_RE.sub("", v) for v in row]
        ws.append(values if r == 0 else [_xlsx_value(v, kinds[i % len(kinds)]) for i, v in enumerate(values)])
    path = tmp_path / f"fuzz-{next(_names)}.xlsx"
    wb.save(path)
    _check(web_store.engine, path, counts)
