"""Files in and out of a standalone evaluation: csv / xlsx / parquet enterprise-years in, one row per
firm out, and the Excel 公示 list of a run.

Headers are canonical English names (DESIGN §5) or the Chinese labels and aliases the importer knows
(``qunlian.enterprises.columns``); a unit in brackets ("税收（元）") is converted to the internal unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.units import UnitError, convert, parse_unit, split_header

# columns the 亩均 engine reads that are not (yet) in the importer's canonical list
EXTRA_ALIASES = {
    "landowner_uscc": ("土地权利人信用代码", "出租方信用代码", "landowner"),
    "exemption": ("免评情形", "免评", "exemption"),
    "negative_events": ("负面清单", "负面事件", "negative list"),
    "founded_year": ("投产年份", "成立年份", "founded"),
    "chain": ("产业链", "chain"),
}
TEXT = {"uscc", "name", "town", "park", "industry_code", "landowner_uscc", "exemption", "negative_events", "chain"}
INTS = {"year", "founded_year", "tenants", "employees", "invention_patents"}
TRUE = {"是", "1", "true", "yes", "y", "规上", "√"}
FALSE = {"否", "0", "false", "no", "n", "规下", ""}


def _canonical(header: str) -> tuple[str | None, str | None]:
    """(canonical name, declared unit) of a header, or (None, None)."""
    name, unit = split_header(str(header))
    try:
        from qunlian.enterprises.columns import lookup

        col = lookup(name)
        if col is not None:
            return col.name, unit
    except ImportError:  # pragma: no cover - importer not installed
        pass
    key = name.strip().lower()
    for canon, aliases in EXTRA_ALIASES.items():
        if key == canon or key in {a.lower() for a in aliases}:
            return canon, unit
    return None, None


def read_input(path: str | Path) -> pa.Table:
    """Read canonical enterprise-year columns from csv, xlsx or parquet."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise ValidationFailed([Problem("文件不存在", file=str(p))], summary=f"无法读取 {p}")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        raw = pq.read_table(p)
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        raw = pcsv.read_csv(p, convert_options=pcsv.ConvertOptions(strings_can_be_null=True,
                                                                  column_types=_csv_string_columns(p)))
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(p)
    else:
        raise ValidationFailed([Problem(f"不支持的文件类型 {suffix}", fix="使用 .csv、.xlsx 或 .parquet", file=str(p))],
                               summary=f"无法读取 {p}")
    return _normalise(raw, str(p))


def _csv_string_columns(p: Path) -> dict[str, pa.DataType]:
    with p.open(encoding="utf-8-sig") as f:
        header = f.readline().strip().split(",")
    return {h: pa.string() for h in header if _canonical(h)[0] in TEXT}


def _read_xlsx(p: Path) -> pa.Table:
    from openpyxl import load_workbook

    wb = load_workbook(p, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    cols: list[list[Any]] = [[] for _ in header]
    for row in it:
        if row is None or all(v is None for v in row):
            continue
        for i in range(len(header)):
            cols[i].append(row[i] if i < len(row) else None)
    wb.close()
    out = {}
    for h, vals in zip(header, cols):
        if not h:
            continue
        canon = _canonical(h)[0]
        if canon in TEXT:
            vals = [None if v is None else str(v).strip() for v in vals]
        try:
            out[h] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            out[h] = pa.array([None if v is None else str(v) for v in vals])
    return pa.table(out)


def _normalise(raw: pa.Table, file: str) -> pa.Table:
    problems: list[Problem] = []
    out: dict[str, pa.Array] = {}
    for h in raw.column_names:
        canon, unit = _canonical(h)
        if canon is None:
            continue  # other columns are ignored
        if canon in out:
            problems.append(Problem(f"列 {h} 与另一列都表示 {canon}", fix="删除重复的列", file=file, column=h))
            continue
        col = raw.column(h).combine_chunks()
        try:
            if canon in TEXT:
                out[canon] = pc.cast(col, pa.string())
            elif canon == "above_scale":
                out[canon] = _bool(col, file, h, problems)
            else:
                arr = _number(col, file, h, problems)
                factor = 1.0
                if unit is not None:
                    from qunlian.enterprises.columns import BY_NAME

                    c = BY_NAME.get(canon)
                    if c is not None and c.unit:
                        factor = convert(1.0, parse_unit(unit), c.unit) or 1.0
                out[canon] = pc.multiply(arr, factor) if factor != 1.0 else arr
                if canon in INTS:
                    out[canon] = pc.cast(pc.round(out[canon]), pa.int64())
        except UnitError as exc:
            problems.append(Problem(str(exc), file=file, column=h))
    for req in ("uscc", "year"):
        if req not in out:
            problems.append(Problem(f"缺少必需的列 {req}", fix="加上统一社会信用代码 (uscc) 与年度 (year) 列", file=file, column=req))
    if problems:
        raise ValidationFailed(problems, summary=f"{file}：输入数据未通过校验")
    return pa.table(out)


def _bool(col: pa.Array, file: str, h: str, problems: list[Problem]) -> pa.Array:
    if pa.types.is_boolean(col.type):
        return col
    vals = []
    for i, v in enumerate(col.to_pylist()):
        if v is None:
            vals.append(None)
            continue
        s = str(v).strip().lower()
        if s in TRUE:
            vals.append(True)
        elif s in FALSE:
            vals.append(False if s else None)
        else:
            problems.append(Problem("不是 是/否", fix="填 是 或 否", file=file, row=i + 2, column=h, value=v))
            vals.append(None)
    return pa.array(vals, pa.bool_())


def _number(col: pa.Array, file: str, h: str, problems: list[Problem]) -> pa.Array:
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
        return pc.cast(col, pa.float64())
    if pa.types.is_null(col.type):
        return pa.nulls(len(col), pa.float64())
    vals = []
    for i, v in enumerate(col.to_pylist()):
        if v is None or (isinstance(v, str) and not v.strip()):
            vals.append(None)
            continue
        try:
            vals.append(float(str(v).replace(",", "").strip()))
        except ValueError:
            problems.append(Problem("不是数字", fix="只填数字，单位写在表头括号里", file=file, row=i + 2, column=h, value=v))
            vals.append(None)
    return pa.array(vals, pa.float64())


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
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, p)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("results")
        ws.append(table.column_names)
        for row in table.to_pylist():
            ws.append([row[c] for c in table.column_names])
        wb.save(p)
    else:
        raise ValidationFailed([Problem(f"不支持的输出类型 {suffix}", fix="使用 .csv、.xlsx 或 .parquet", file=str(p))],
                               summary="无法写出结果")


def export_gongshi(results: pa.Table, method_title: str, year: int, path: str | Path, parts: dict[str, str],
                   grade_column: str = "grade") -> None:
    """The 公示 list: one sheet per part, firms by rank with score and class; excluded firms last, with reasons."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    rows = results.to_pylist()
    for pid, pname in parts.items():
        ws = wb.create_sheet(pname[:31])
        ws.append([f"{year} 年度{method_title} — {pname} 评价结果公示"])
        ws.append(["序号", "企业名称", "统一社会信用代码", "镇街道", "综合得分", "等级", "排名", "说明"])
        mine = sorted((r for r in rows if r.get("part") == pid and not r.get("excluded_reason")),
                      key=lambda r: (r.get("rank") or 10**9, r["uscc"]))
        for i, r in enumerate(mine, 1):
            notes = "；".join(x for x in (r.get("cap_note"), r.get("tenant_note"), r.get("adjustment_reason")) if x)
            score = r.get("final_score", r.get("total_score"))
            ws.append([i, r.get("name"), r["uscc"], r.get("town"), None if score is None else round(score, 2),
                       r.get(grade_column), r.get("rank"), notes])
    ws = wb.create_sheet("未参评企业")
    ws.append(["统一社会信用代码", "企业名称", "镇街道", "原因"])
    for r in rows:
        if r.get("excluded_reason"):
            ws.append([r["uscc"], r.get("name"), r.get("town"), r["excluded_reason"]])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
