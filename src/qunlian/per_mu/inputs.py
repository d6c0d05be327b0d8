"""Files in and out of a standalone evaluation: csv / xlsx / parquet enterprise-years in, one row per
firm out, and the Excel 公示 list of a run.

Files are read by the one tabular reader (``qunlian.platform.tabular``: encodings, WPS workbooks,
size and zip-bomb limits) and named in the one column vocabulary (``enterprises.service.columns``):
canonical English names (DESIGN §5), the Chinese labels and aliases the importer knows, and the
columns only the engine reads (``columns.ENGINE_COLUMNS``: negative_events, founded_year, chain). A
unit in brackets ("税收（元）") is converted to the internal unit; a header without one is taken in
the internal unit. Cells are parsed as the importer parses them (``enterprises.service.values``).
What is left here is the 亩均-specific mapping into one Arrow table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.units import UnitError, convert, parse_unit
from qunlian.enterprises.service import columns as C
from qunlian.enterprises.service import values as V
from qunlian.platform.tabular import ALL_FORMATS, read_table
from qunlian.platform.tabular_out import Sheet, write_csv, write_xlsx

# column kinds (``columns`` module docstring) read as text, as whole numbers, as 是/否
TEXT_KINDS = {"uscc", "text", "town", "park", "industry", "ref_uscc", "exemption", "events", "label"}
INT_KINDS = {"integer"}
REQUIRED = ("uscc", "year")
YEAR_MIN, YEAR_MAX = 1900, 2200


def _canonical(header: str) -> tuple[C.Column | None, str | None]:
    """(column, declared unit) of a header, or (None, None)."""
    return C.bind(header, engine=True)


def _known(header: str) -> bool:
    return _canonical(header)[0] is not None


def read_input(path: str | Path) -> pa.Table:
    """Read canonical enterprise-year columns from csv, xlsx or parquet into one Arrow table."""
    table = read_table(path, formats=ALL_FORMATS)
    sheet = table.to_arrow(_known)
    return _normalise(sheet.table, sheet.rows, table.file)


def _normalise(raw: pa.Table, rows: list[int], file: str) -> pa.Table:
    problems: list[Problem] = []
    out: dict[str, pa.Array] = {}
    for i, h in enumerate(raw.column_names):
        col, unit = _canonical(h)
        if col is None:
            continue  # other columns are ignored
        canon = col.name
        if canon in out:
            problems.append(Problem(f"列 {h} 与另一列都表示 {canon}", fix="删除重复的列", file=file, column=h))
            continue
        arr = raw.column(i).combine_chunks()

        def bad(k: int, value: object, e: V.CellError, h: str = h) -> None:
            problems.append(Problem(e.message, fix=e.fix, file=file, row=rows[k], column=h, value=value))

        try:
            if col.kind in TEXT_KINDS:
                out[canon] = _cells(arr, _text(col), pa.string(), bad)
            elif col.kind == "bool":
                out[canon] = arr if pa.types.is_boolean(arr.type) else _cells(arr, V.parse_bool, pa.bool_(), bad)
            elif col.kind == "year":
                out[canon] = pc.cast(arr, pa.int64()) if pa.types.is_integer(arr.type) else \
                    _cells(arr, _year, pa.int64(), bad)
            else:
                factor = 1.0
                if unit is not None and col.unit:
                    factor = convert(1.0, parse_unit(unit), col.unit) or 1.0
                num = _number(arr, bad)
                num = pc.multiply(num, factor) if factor != 1.0 else num
                out[canon] = pc.cast(pc.round(num), pa.int64()) if col.kind in INT_KINDS else num
        except UnitError as exc:
            problems.append(Problem(str(exc), file=file, column=h))
    for req in REQUIRED:
        if req not in out:
            problems.append(Problem(f"缺少必需的列 {req}", fix="加上统一社会信用代码 (uscc) 与年度 (year) 列", file=file, column=req))
    if problems:
        raise ValidationFailed(problems, summary=f"{file}：输入数据未通过校验")
    return pa.table(out)


def _text(col: C.Column) -> Callable[[Any], Any]:
    if col.kind == "industry":
        return V.parse_industry_code
    return V.parse_text


def _cells(arr: pa.Array, parse: Callable[[Any], Any], typ: pa.DataType,
           bad: Callable[[int, object, V.CellError], None]) -> pa.Array:
    """Parse each distinct value once (towns, years and codes repeat), then spread the results."""
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), typ)
    enc = arr.dictionary_encode() if not pa.types.is_dictionary(arr.type) else arr
    parsed: list[Any] = []
    failed: dict[int, V.CellError] = {}
    for j, v in enumerate(enc.dictionary.to_pylist()):
        try:
            parsed.append(parse(v))
        except V.CellError as e:
            parsed.append(None)
            failed[j] = e
    if failed:
        values = enc.dictionary.to_pylist()
        for k, j in enumerate(enc.indices.to_pylist()):
            if j in failed:
                bad(k, values[j], failed[j])
    return pc.take(pa.array(parsed, typ), enc.indices)


def _year(raw: Any) -> int | None:
    return None if V.is_missing(raw) else V.parse_year(raw, YEAR_MIN, YEAR_MAX)


def _quantity(raw: Any) -> float | None:
    q = V.parse_quantity(raw)
    if q is None:
        return None
    if q.unit is not None:
        raise V.CellError(f"单元格里写了单位“{q.unit.symbol}”", "只填数字，单位写在表头括号里")
    return q.value


def _number(arr: pa.Array, bad: Callable[[int, object, V.CellError], None]) -> pa.Array:
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        return pc.cast(arr, pa.float64())
    return _cells(arr, _quantity, pa.float64(), bad)


# --------------------------------------------------------------------------- output


def output_table(results: pa.Table, method_id: str, codes: list[str]) -> pa.Table:
    """One row per firm: uscc, year, method, total_score, grade, rank, then per-indicator columns."""
    n = results.num_rows
    cols: dict[str, pa.Array] = {
        "uscc": results.column("uscc"),
        "year": results.column("year"),
        "method": pa.array([method_id] * n, pa.string()),
        "total_score": results.column("total_score"),
        "grade": results.column("grade"),
        "rank": results.column("rank"),
    }
    for c in codes:
        for k in ("value", "benchmark", "points", "status"):
            cols[f"{c}_{k}"] = results.column(f"{c}__{k}")
    for k in ("name", "town", "part", "group_size", "score_before_deduction", "deduction", "grade_by_score",
              "excluded_reason", "cap_note", "tenant_note"):
        if k in results.column_names:
            cols[k] = results.column(k)
    return pa.table(cols)


def write_table(table: pa.Table, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, p)
    elif suffix == ".csv":
        write_csv(p, table.column_names, ([row[c] for c in table.column_names] for row in table.to_pylist()))
    elif suffix == ".xlsx":
        write_xlsx(p, [Sheet("results", table.column_names,
                             ([row[c] for c in table.column_names] for row in table.to_pylist()))])
    else:
        raise ValidationFailed([Problem(f"不支持的输出类型 {suffix}", fix="使用 .csv、.xlsx 或 .parquet", file=str(p))],
                               summary="无法写出结果")


def export_gongshi(results: pa.Table, method_title: str, year: int, path: str | Path, parts: dict[str, str],
                   grade_column: str = "grade") -> None:
    """The 公示 list: one sheet per part, firms by rank with score and class; excluded firms last, with reasons."""
    rows = results.to_pylist()
    sheets = []
    for pid, pname in parts.items():
        mine = sorted((r for r in rows if r.get("part") == pid and not r.get("excluded_reason")),
                      key=lambda r: (r.get("rank") or 10**9, r["uscc"]))
        body = []
        for i, r in enumerate(mine, 1):
            notes = "；".join(x for x in (r.get("cap_note"), r.get("tenant_note"), r.get("adjustment_reason")) if x)
            score = r.get("final_score", r.get("total_score"))
            body.append([i, r.get("name"), r["uscc"], r.get("town"), None if score is None else round(score, 2),
                         r.get(grade_column), r.get("rank"), notes])
        sheets.append(Sheet(pname, ["序号", "企业名称", "统一社会信用代码", "镇街道", "综合得分", "等级", "排名", "说明"],
                            body, before=[[f"{year} 年度{method_title} — {pname} 评价结果公示"]]))
    sheets.append(Sheet("未参评企业", ["统一社会信用代码", "企业名称", "镇街道", "原因"],
                        [[r["uscc"], r.get("name"), r.get("town"), r["excluded_reason"]]
                         for r in rows if r.get("excluded_reason")]))
    write_xlsx(path, sheets)
