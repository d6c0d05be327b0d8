"""Import and export of enterprise-years (DESIGN §5): the platform's main data door.

Import is all-or-nothing. The file is read and every cell is checked first; every problem found is
collected (file, sheet, row, column, value, message, fix) and, if there is any, ValidationFailed is
raised and nothing is written. Otherwise one transaction upserts the enterprises by USCC, upserts the
enterprise-years by (enterprise, year), records an ImportBatch and writes an audit line.

Upsert rules (written in docs/import.md for users):
- a figure column present in the file replaces that figure for the enterprise-year, a blank cell
  clears it; figure columns absent from the file keep what is stored (several bureaus each send
  their own columns for the same year);
- an enterprise's name, town, park and industry code are taken from its latest year in the file;
  a blank cell keeps what is stored.

Every import is for one region (``region``: a code, name or alias; default the installation's
root). Towns are looked up among that region's towns only (a town name is unique within a county,
not across counties); a firm already registered in another region is refused, never moved silently.
A firm's county is its town's; the USCC's registration division (characters 3–8) is cross-checked
against it and differences are reported as a note, not refused, because firms move.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qunlian.core import uscc as uscc_mod
from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.core.industry import get_industry
from qunlian.core.messages import N_, Message
from qunlian.core.units import Unit, UnitError, parse_unit
from qunlian.enterprises import columns as C
from qunlian.enterprises.models import (
    Enterprise,
    EnterpriseYear,
    FigureRevision,
    UsccException,
)
from qunlian.enterprises.scoping import in_region
from qunlian.enterprises.sources import identify
from qunlian.enterprises.values import (
    CellError,
    clean,
    fold,
    is_missing,
    parse_bool,
    parse_date,
    parse_industry_code,
    parse_quantity,
    parse_text,
    parse_year,
    to_internal,
)
from qunlian.platform.db import audit, transaction
from qunlian.platform.models import ImportBatch
from qunlian.platform.tabular import Table, header_text, read_table
from qunlian.platform.tabular_out import (
    Sheet,
    write_csv,
    write_validation_report,
    write_xlsx,
)
from qunlian.regions.models import Park, Region, Town

KIND = "enterprise-years"
YEAR_MIN = 1980
LONGTEXT_MAX = 4000  # 经营范围 on a licence runs to a few hundred characters
CHUNK = 900  # IN-list size per query (SQLite's variable limit is generous, stay well below)
PROGRESS_EVERY = 1000

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total); stage is "read" | "validate" | "write"."""


def year_max() -> int:
    return dt.date.today().year + 1


@dataclass
class ImportResult:
    batch_id: int | None  # None for a dry run
    file: str
    sheet: str
    rows: int
    enterprises_created: int = 0
    enterprises_updated: int = 0  # existing enterprises whose name, town, park or industry changed
    years_created: int = 0
    years_replaced: int = 0
    units: dict[str, str] = field(default_factory=dict)  # canonical column → unit of the file
    columns: dict[str, str] = field(default_factory=dict)  # header as printed → canonical column
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    template: str = ""  # the data source's template the file was recognised as (tax, electricity …)
    template_version: str = ""  # the version stamped in the file, "" when it has no stamp
    changes: list[CellChange] = field(default_factory=list)  # every stored value the import changes
    cells_changed: int = 0  # stored values that change
    cells_unchanged: int = 0  # values of the file equal to what is stored
    cells_new: int = 0  # values for enterprise-years not yet stored
    unchanged: bool = False  # nothing written: the file equals the store

    def summary(self) -> str:
        verb = "校验通过（未写入）" if self.dry_run else "已导入"
        if self.unchanged:
            return Message("文件 %(file)s 的 %(rows)s 行与库中数据完全一致，没有写入任何内容", file=self.file, rows=self.rows)
        text = (f"{verb} {self.rows} 行（文件 {self.file}，工作表 {self.sheet}）：新增企业 {self.enterprises_created} 家，"
                f"更新企业 {self.enterprises_updated} 家；新增企业年度 {self.years_created} 条，替换 {self.years_replaced} 条")
        text += f"；改动已有数值 {self.cells_changed} 个，新填数值 {self.cells_new} 个，与库中相同 {self.cells_unchanged} 个"
        if self.batch_id is not None:
            text += f"。导入批次 batch #{self.batch_id}"
        return text


@dataclass(frozen=True)
class CellChange:
    """One stored value an import changes: a year's figure, or (year None) an attribute of the firm."""

    uscc: str
    name: str
    year: int | None
    field: str  # canonical column name (town and park: the names, not ids)
    old: Any
    new: Any


class AlreadyConfirmed(QunlianError):
    """The preview was confirmed already (by someone else at the same moment, or twice)."""

    def __init__(self, token: str | None) -> None:
        super().__init__(N_("这次预览已经确认导入过了，没有重复写入"))
        self.token = token


# --------------------------------------------------------------------------- header


@dataclass
class _Bound:
    index: int  # 0-based position in the row
    header: str  # as printed
    col: C.Column
    unit: Unit | None = None  # the unit the file's numbers are in


@dataclass
class _Header:
    row: int  # row number of the header as a user sees it
    bound: list[_Bound]
    by_name: dict[str, _Bound]
    ignored: list[str]
    units: dict[str, str]
    unit_row: int | None = None  # a "单位" row right under the header (templates have one)
    year_needed: bool = True  # the file has year figures (a registry file has none)


def _strip_unit_label(text: str) -> str:
    t = fold(text)
    for prefix in ("单位:", "单位：", "unit:", "单位"):
        if t.lower().startswith(prefix):
            return t[len(prefix):]
    return t


def _known(text: str) -> bool:
    return C.bind(text)[0] is not None


def _resolve_option_units(units: dict[str, str] | None, table: Table) -> tuple[dict[str, str], list[Problem]]:
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for key, unit in (units or {}).items():
        col = C.BY_NAME.get(key) or C.lookup(key)
        if col is None:
            problems.append(table.problem(
                Message("声明单位的列“%(key)s”无法识别", key=key), column=key, value=unit,
                fix="用标准列名声明，如 tax_wan=元、land_mu=平方米；可用列名：" + "、".join(
                    c.name for c in C.COLUMNS if c.dimension)))
            continue
        out[col.name] = unit
    return out, problems


UNIT_ROW_MARKS = ("单位", "单位:", "计量单位", "unit", "units")


def _unit_row(table: Table, header_row: int) -> tuple[int | None, list[Any]]:
    """The row right under the header when it says the columns' units: its first filled cell is 单位."""
    following = next(((n, cells) for n, cells in table.rows if n > header_row), None)
    if following is None:
        return None, []
    n, cells = following
    first = next((c for c in cells if c is not None and str(c).strip()), None)
    if first is not None and fold(str(first)).lower() in UNIT_ROW_MARKS:
        return n, cells
    return None, []


def _bind_header(table: Table, option_units: dict[str, str] | None) -> tuple[_Header, list[Problem]]:
    row_n, cells = table.header(_known)
    unit_row, unit_cells = _unit_row(table, row_n)
    declared, problems = _resolve_option_units(option_units, table)
    bound: list[_Bound] = []
    by_name: dict[str, _Bound] = {}
    ignored: list[str] = []
    units: dict[str, str] = {}
    for i, raw in enumerate(cells):
        header = header_text(raw)
        if not header:
            continue
        col, unit_text = C.bind(header)
        if col is None:
            ignored.append(header)
            continue
        if col.name in by_name:
            problems.append(table.problem(
                f"列“{by_name[col.name].header}”与列“{header}”都表示{col.label}（{col.name}），重复",
                row=row_n, column=header, fix="删去其中一列，或改成不同的列名"))
            continue
        b = _Bound(i, header, col)
        if col.dimension is not None:
            row_unit = header_text(unit_cells[i]) if unit_row is not None and i < len(unit_cells) else ""
            b.unit = _column_unit(table, row_n, header, col, unit_text, declared.get(col.name), problems,
                                  row_unit=(unit_row, row_unit) if row_unit else None)
            if b.unit is not None:
                units[col.name] = b.unit.symbol
        bound.append(b)
        by_name[col.name] = b
    for name, unit in declared.items():
        if name not in by_name:
            col = C.BY_NAME[name]
            problems.append(table.problem(
                f"声明了{col.label}（{name}）的单位，但文件中没有这一列", row=row_n, column=name, value=unit,
                fix=f"检查表头：这一列可写作 {'、'.join((col.label, *col.aliases[:4]))}；或去掉该单位声明"))
    year_needed = any(b.col.target == "year" for b in bound)
    for col in C.REQUIRED:
        if col.name == "year" and not year_needed:
            continue  # a registry file (names, towns, products …) has no yearly figures
        if col.name not in by_name:
            problems.append(table.problem(
                Message("缺少必填列：%(label)s（%(name)s）", label=Message(col.label), name=col.name), row=row_n,
                fix=f"在表头（第 {row_n} 行）加一列“{col.label}”，也可写作 {'、'.join(col.aliases[:3])} 或 {col.name}"))
    return _Header(row_n, bound, by_name, ignored, units, unit_row, year_needed), problems


def _column_unit(table: Table, row_n: int, header: str, col: C.Column, unit_text: str | None,
                 option: str | None, problems: list[Problem], row_unit: tuple[int, str] | None = None) -> Unit | None:
    """The unit a column is in: from its header, the unit row under it, the units option, or its canonical name."""
    assert col.dimension is not None and col.unit is not None
    claims: list[tuple[str, Unit]] = []
    unit_row_n, unit_row_text = row_unit if row_unit else (row_n, None)
    for where, text, at in (("表头", unit_text, row_n), ("单位行", unit_row_text, unit_row_n),
                            ("单位声明", option, row_n)):
        if text is None:
            continue
        try:
            unit = parse_unit(_strip_unit_label(text))
        except UnitError as exc:
            problems.append(table.problem(f"{where}中的单位“{text}”无法识别", row=at, column=header,
                                          fix=f"{col.label}的单位可写 {_units_of(col.dimension)}；{exc}"))
            return None
        if unit.dimension != col.dimension:
            problems.append(table.problem(
                f"{where}中的单位“{text}”不是{col.label}能用的单位（{unit.dimension} ≠ {col.dimension}）",
                row=at, column=header, fix=f"{col.label}的单位可写 {_units_of(col.dimension)}"))
            return None
        claims.append((where, unit))
    if C.is_canonical(header, col):
        claims.append(("列名", parse_unit(col.unit)))
    elif col.dimension == "count":  # people, firms, patents: the natural unit needs no declaration
        claims.append(("默认", parse_unit(col.unit)))
    if not claims:
        problems.append(table.problem(
            Message("%(label)s列没有声明单位", label=Message(col.label)), row=row_n, column=header,
            fix=f"在表头写明单位，如“{col.label}（{col.unit}）”，或导入时声明 --unit {col.name}={col.unit}"
                f"（可用单位：{_units_of(col.dimension)}）"))
        return None
    first_where, first = claims[0]
    for where, unit in claims[1:]:
        if unit.symbol == first.symbol:
            continue
        if where == "列名":
            fix = f"列名 {col.name} 本身表示 {col.unit}；数值若是 {first.symbol}，把表头改为“{col.label}（{first.symbol}）”"
        elif where == "默认":
            fix = f"{col.label}按 {col.unit} 计，表头写“{col.label}（{col.unit}）”或不写单位"
        else:
            fix = "去掉其中一个声明，保留正确的单位"
        problems.append(table.problem(
            f"{first_where}的单位“{first.symbol}”与{where}的单位“{unit.symbol}”不一致", fix, row=row_n, column=header))
        return None
    return first


def _units_of(dimension: str) -> str:
    from qunlian.core.units import UNITS

    return "、".join(u.symbol for u in UNITS if u.dimension == dimension)


# --------------------------------------------------------------------------- rows


@dataclass
class _Row:
    n: int
    uscc_raw: object
    uscc: str
    year: int | None
    name: str | None = None
    town: str | None = None
    park: str | None = None
    industry_code: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)  # other enterprise attributes (C.PLAIN_ENTERPRISE_FIELDS)
    chains: list[str] | None = None  # chain references as written (None: no chains cell or blank)
    figures: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


def _parse_rows(table: Table, header: _Header, problems: list[Problem], progress: Progress | None) -> list[_Row]:
    rows: list[_Row] = []
    data = [(n, cells) for n, cells in table.data_rows(header.row) if n != header.unit_row]
    total = len(data)
    hi = year_max()
    first_unit: dict[str, tuple[int, Unit]] = {}  # column → first row whose cell carried a unit
    by_key: dict[tuple[str, int], int] = {}

    def bad(n: int, b: _Bound, raw: object, message: str, fix: str) -> None:
        problems.append(table.problem(message, fix, row=n, column=b.header, value=raw))

    def cell(cells: list[Any], b: _Bound | None) -> object:
        return cells[b.index] if b is not None and b.index < len(cells) else None

    bu, by = header.by_name.get("uscc"), header.by_name.get("year")
    for k, (n, cells) in enumerate(data, start=1):
        if progress and k % PROGRESS_EVERY == 0:
            progress("validate", k, total)
        before = len(problems)
        raw_uscc = cell(cells, bu)
        code = uscc_mod.normalise(str(raw_uscc)) if raw_uscc is not None else ""
        row = _Row(n, raw_uscc, code, None)
        if by is not None and (header.year_needed or not is_missing(cell(cells, by))):
            try:
                row.year = parse_year(cell(cells, by), YEAR_MIN, hi)
            except CellError as e:
                bad(n, by, cell(cells, by), e.message, e.fix)
        for b in header.bound:
            col, raw = b.col, cell(cells, b)
            try:
                if col.kind in ("uscc", "year"):
                    continue
                if col.kind == "text":
                    row.name = parse_text(raw)
                    if row.name and len(row.name) > 200:
                        bad(n, b, raw, "企业名称超过 200 个字", "填写营业执照上的企业全称")
                elif col.kind == "longtext":
                    row.attrs[col.name] = parse_text(raw)
                    if row.attrs[col.name] and len(row.attrs[col.name]) > LONGTEXT_MAX:
                        bad(n, b, raw, Message("%(label)s超过 %(max)s 个字", label=Message(col.label), max=LONGTEXT_MAX),
                            N_("删去重复或次要的内容，保留营业执照或申报材料上的原文要点"))
                elif col.kind == "date":
                    row.attrs[col.name] = parse_date(raw)
                elif col.kind == "chains":
                    text = parse_text(raw)
                    row.chains = [p.strip() for p in re.split(r"[；;、\n]", text) if p.strip()] if text else None
                elif col.kind in ("town", "park"):
                    setattr(row, col.name, parse_text(raw))
                elif col.kind == "industry":
                    row.industry_code = parse_industry_code(raw)
                elif col.kind == "bool":
                    row.figures[col.name] = parse_bool(raw)
                elif col.kind == "ref_uscc":
                    row.figures[col.name] = _landowner(raw)
                elif col.kind == "exemption":
                    row.figures[col.name] = _exemption(raw)
                else:
                    row.figures[col.name] = _number(n, b, raw, first_unit, bad)
            except CellError as e:
                bad(n, b, raw, e.message, e.fix)
        land, rented = row.figures.get("land_mu"), row.figures.get("rented_out_mu")
        if land is not None and rented is not None and rented > land:
            b = header.by_name["rented_out_mu"]
            bad(n, b, cell(cells, b), f"出租面积大于用地面积（{clean(rented)} > {clean(land)} 亩）",
                "核对两列：出租面积是用地面积中租给别人的部分，不能更大")
        if code and (row.year is not None or not header.year_needed):
            key = (code, row.year or 0)
            if key in by_key and row.year is None:
                problems.append(table.problem(
                    Message("第 %(first)s 行与第 %(n)s 行是同一企业（%(code)s），重复", first=by_key[key], n=n, code=code),
                    N_("删去其中一行；没有年度数据的名录文件里每家企业只能有一行"),
                    row=n, column=bu.header if bu else None, value=raw_uscc))
            elif key in by_key:
                first = by_key[key]
                problems.append(table.problem(
                    Message("第 %(first)s 行与第 %(n)s 行是同一企业同一年度（%(code)s，%(year)s），重复", first=first, n=n,
                            code=code, year=row.year),
                    "删去其中一行，或改正年度/代码；同一企业同一年只能有一行",
                    row=n, column=bu.header if bu else None, value=raw_uscc))
            else:
                by_key[key] = n
        row.ok = len(problems) == before
        rows.append(row)
    if progress:
        progress("validate", total, total)
    return rows


def _number(n: int, b: _Bound, raw: object, first_unit: dict[str, tuple[int, Unit]],
            bad: Callable[[int, _Bound, object, str, str], None]) -> float | int | None:
    col = b.col
    q = parse_quantity(raw)
    if q is None:
        return None
    if q.unit is not None:
        if q.unit.dimension != col.dimension:
            raise CellError(f"单元格里的单位“{q.unit.symbol}”不是{col.label}的单位",
                            f"只填数字，单位写在表头，如“{col.label}（{col.unit}）”")
        seen = first_unit.setdefault(col.name, (n, q.unit))
        if b.unit is not None and q.unit.symbol != b.unit.symbol:
            raise CellError(Message("单元格写的是“%(cell)s”，与本列声明的单位“%(declared)s”不一致", cell=q.unit.symbol,
                                    declared=b.unit.symbol),
                            f"删去单元格里的单位，把数值换算成 {b.unit.symbol} 后填写")
        if b.unit is None and seen[1].symbol != q.unit.symbol:
            raise CellError(Message("本列单位混用：第 %(row)s 行写的是“%(first)s”，此处是“%(here)s”", row=seen[0],
                                    first=seen[1].symbol, here=q.unit.symbol),
                            f"统一换算为一个单位，只填数字，并在表头写明单位，如“{col.label}（{col.unit}）”")
    if b.unit is None:
        return None  # the column's unit is not declared: reported once on the header
    assert col.unit is not None
    value = to_internal(q.value, b.unit, col.unit) if col.dimension != "count" else q.value
    if col.nonnegative and value < 0:
        raise CellError(f"{col.label}不能为负数", "核对数值；缺失请留空或填 —")
    if col.kind == "integer":
        if abs(value - round(value)) > 1e-9:
            raise CellError(f"{col.label}应为整数", "填写整数，如 120")
        return int(round(value))
    return value


# --------------------------------------------------------------------------- store checks


def _key(text: str) -> str:
    return fold(text).lower()


@dataclass
class _Reference:
    region: Region | None  # the region imported into (None: a store without the region hierarchy)
    region_ids: frozenset[int] | None  # it and the regions below it (None: all)
    towns: dict[str, tuple[int, str]]  # folded name/code/alias → (id, name), towns within the region
    town_names: list[str]
    town_region: dict[int, int | None]  # town id → its region id
    elsewhere: dict[str, str]  # folded name/code/alias of a town outside the region → its region's name
    region_names: dict[int, str]
    region_divisions: dict[int, str | None]
    parks: dict[str, tuple[int, str, int | None]]  # folded name/code → (id, name, town id)
    park_names: list[str]
    exceptions: set[str]
    chains: dict[str, tuple[int, str]]  # folded label, SYSTEM:CODE, unique code or name → (node id, label)
    chain_labels: list[str]
    existing: dict[str, dict[str, Any]]  # uscc → {id, name, town_id, park_id, industry_code, region_id, …}


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _load_reference(session: Session, codes: list[str], scope: Any) -> _Reference:
    region, region_ids = scope.region, scope.ids
    towns: dict[str, tuple[int, str]] = {}
    town_names: list[str] = []
    town_region: dict[int, int | None] = {}
    elsewhere: dict[str, str] = {}
    regions = {r.id: r for r in session.scalars(select(Region))}
    for t in session.scalars(select(Town).order_by(Town.seq, Town.id)):
        town_region[t.id] = t.region_id
        if region_ids is None or t.region_id in region_ids or (t.region_id is None and scope.unplaced):
            town_names.append(t.name)
            for text in (t.name, t.code, *(t.aliases or [])):
                towns.setdefault(_key(str(text)), (t.id, t.name))
        else:
            owner = regions[t.region_id].name if t.region_id in regions else "?"
            for text in (t.name, t.code, *(t.aliases or [])):
                elsewhere.setdefault(_key(str(text)), owner)
    parks: dict[str, tuple[int, str, int | None]] = {}
    park_names: list[str] = []
    for p in session.scalars(select(Park).order_by(Park.id)):
        park_names.append(p.name)
        for text in (p.name, p.code):
            parks.setdefault(_key(text), (p.id, p.name, p.town_id))
    exceptions = set(session.scalars(select(UsccException.code)))
    existing: dict[str, dict[str, Any]] = {}
    cols = (Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.town_id, Enterprise.park_id,
            Enterprise.industry_code, Enterprise.region_id,
            *(getattr(Enterprise, c) for c in C.PLAIN_ENTERPRISE_FIELDS))
    for chunk in _chunks(codes):
        for r in session.execute(select(*cols).where(Enterprise.uscc.in_(chunk))):
            existing[r.uscc] = dict(r._mapping)
    chains, chain_labels = _load_chains(session)
    return _Reference(region, region_ids, towns, town_names, town_region, elsewhere,
                      {i: r.name for i, r in regions.items()}, {i: r.division_code for i, r in regions.items()},
                      parks, park_names, exceptions, chains, chain_labels, existing)


def _load_chains(session: Session) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """How a chain may be written in a file: its label "体系 · 链" (the template's dropdown), SYSTEM:CODE,
    or its code or name where only one chain has it."""
    from qunlian.chains.models import ChainNode

    systems = dict(session.execute(select(ChainNode.system, ChainNode.name).where(ChainNode.level == "system")).all())
    nodes = list(session.scalars(select(ChainNode).where(ChainNode.level == "chain")
                                 .order_by(ChainNode.system, ChainNode.seq, ChainNode.code)))
    index: dict[str, tuple[int, str]] = {}
    labels: list[str] = []
    bare: dict[str, set[int]] = {}
    for n in nodes:
        label = f"{systems.get(n.system, n.system)} · {n.name}"
        labels.append(label)
        for text in (label, label.replace(" ", ""), f"{n.system}:{n.code}"):
            index[_key(text)] = (n.id, label)
        for text in (n.code, n.name):
            bare.setdefault(_key(text), set()).add(n.id)
    by_id = {i: lab for i, lab in index.values()}
    for text, ids in bare.items():
        if len(ids) == 1 and text not in index:
            (only,) = ids
            index[text] = (only, by_id[only])
    return index, labels


def _list(names: list[str], limit: int = 30) -> str:
    shown = "、".join(names[:limit])
    return shown + (f" 等 {len(names)} 个" if len(names) > limit else "")


@dataclass
class _Resolved:
    uscc: str
    year: int | None  # None: a registry row (enterprise attributes only)
    town_id: int | None
    park_id: int | None
    industry_code: str | None


def _check_against_store(table: Table, header: _Header, rows: list[_Row], ref: _Reference,
                         problems: list[Problem]) -> list[_Resolved]:
    resolved: list[_Resolved] = []
    bu, bt, bp, bi, bl = (header.by_name.get(k) for k in ("uscc", "town", "park", "industry_code", "landowner_uscc"))
    town_fix = ("可填的镇街道：" + _list(ref.town_names) + "（也可填其代码或别名）") if ref.town_names else \
        "库中还没有任何镇街道：请先运行 qunlian init 载入区划，或由管理员添加镇街道"
    park_fix = ("可填的园区：" + _list(ref.park_names) + "；不在园区内请留空") if ref.park_names else \
        "库中还没有任何园区：请留空此列，或由管理员先添加园区"

    def bad(r: _Row, b: _Bound | None, raw: object, message: str, fix: str) -> None:
        problems.append(table.problem(message, fix, row=r.n, column=b.header if b else None, value=raw))

    for r in rows:
        if bu is not None:
            check = uscc_mod.check_uscc(r.uscc, ref.exceptions)
            if not check.valid:
                fix = "核对营业执照上的 18 位代码；确属真实但校验不通过的代码，请管理员列入例外清单"
                if isinstance(r.uscc_raw, int | float) and not isinstance(r.uscc_raw, bool):
                    fix = "Excel 把代码存成了数字并丢失了位数：把该列设为“文本”格式后重新粘贴代码"
                bad(r, bu, r.uscc_raw, f"统一社会信用代码无效：{check.reason}", fix)
                r.ok = False
            elif check.exception:
                r.uscc = check.code
        owner = r.figures.get("landowner_uscc")
        if owner is not None and bl is not None:
            check = uscc_mod.check_uscc(owner, ref.exceptions)
            if not check.valid:
                bad(r, bl, owner, f"土地所有企业代码无效：{check.reason}",
                    "填写出租方（土地所有企业）的 18 位统一社会信用代码；本企业自有土地请留空")
                r.ok = False
        town_id = park_id = None
        town_name = None
        if r.town is not None and bt is not None:
            hit = ref.towns.get(_key(r.town))
            if hit is None and _key(r.town) in ref.elsewhere:
                bad(r, bt, r.town, Message("镇街道“%(town)s”属于%(owner)s，不在本次导入的地区%(region)s内", town=r.town,
                                           owner=ref.elsewhere[_key(r.town)], region=ref.region.name),
                    Message("按所属地区分开导入（--region），或改正镇街道；%(fix)s", fix=town_fix))
                r.ok = False
            elif hit is None:
                bad(r, bt, r.town, Message("库中没有镇街道“%(town)s”", town=r.town), town_fix)
                r.ok = False
            else:
                town_id, town_name = hit
        if r.park is not None and bp is not None:
            hitp = ref.parks.get(_key(r.park))
            if hitp is None:
                bad(r, bp, r.park, Message("库中没有园区“%(park)s”", park=r.park), park_fix)
                r.ok = False
            else:
                park_id = hitp[0]
                if town_id is not None and hitp[2] is not None and hitp[2] != town_id:
                    owner = next((name for k, (i, name) in ref.towns.items() if i == hitp[2]), "另一镇街道")
                    bad(r, bp, r.park, f"园区“{hitp[1]}”属于{owner}，与本行的镇街道“{town_name}”不一致",
                        "核对镇街道和园区两列")
                    r.ok = False
        old = ref.existing.get(r.uscc)
        if (r.ok and old is not None and old["region_id"] is not None and ref.region_ids is not None
                and old["region_id"] not in ref.region_ids):
            bad(r, bu, r.uscc, Message("企业已登记在%(owner)s，不在本次导入的地区%(region)s内",
                                       owner=ref.region_names.get(old["region_id"], "?"), region=ref.region.name),
                N_("以该企业所属地区导入（--region），或先由管理员把企业迁到本地区"))
            r.ok = False
        if r.chains:
            bc = header.by_name["chains"]
            for text in r.chains:
                if _key(text) not in ref.chains:
                    bad(r, bc, text, Message("库中没有产业链“%(chain)s”", chain=text),
                        ("从下拉列表中选择，多个用；隔开；可填的产业链：" + _list(ref.chain_labels, 12)) if ref.chain_labels
                        else N_("库中还没有产业链：请先运行 qunlian init 载入产业链体系，或留空此列"))
                    r.ok = False
        code = r.industry_code
        if code is not None and bi is not None:
            code = _industry(r, bi, code, bad)
        if r.ok and (r.year is not None or not header.year_needed):
            resolved.append(_Resolved(r.uscc, r.year, town_id, park_id, code))
    return resolved


def _industry(r: _Row, b: _Bound, code: str, bad: Callable[..., None]) -> str | None:
    raw = code
    if len(code) == 5 and code[0].isalpha() and code[1:].isdigit():
        item = get_industry(code[1:])
        if item is not None and item.section == code[0]:
            code = code[1:]
    item = get_industry(code)
    if item is not None and item.level == 4:
        return item.code
    if item is not None:
        first = next((i for i in _classes_under(item.code)), None)
        example = f"，如 {first.code} {first.name}" if first else ""
        bad(r, b, raw, f"“{code}”是{item.level_name}（{item.name}），企业须填到 4 位小类",
            f"在 GB/T 4754-2017 中选定该{item.level_name}下的小类代码{example}")
    else:
        bad(r, b, raw, Message("“%(code)s”不是 GB/T 4754-2017 的行业代码", code=raw),
            "填写 4 位小类代码（如 3976 光伏设备及元器件制造），Excel 中请把该列设为文本以保留开头的 0")
    r.ok = False
    return None


def _classes_under(code: str) -> list[Any]:
    from qunlian.core.industry import all_classes

    return [i for i in all_classes() if (i.section == code if code.isalpha() else i.code.startswith(code))]


# --------------------------------------------------------------------------- import


def import_enterprise_years(
    engine: Engine,
    path: str | os.PathLike[str],
    *,
    units: dict[str, str] | None = None,
    source: str = "",
    actor: str = "cli",
    sheet: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
    filename: str | None = None,
    region: str | None = None,
    preview_token: str | None = None,
) -> ImportResult:
    """Validate a file of enterprise-years and store it in one transaction, or raise ValidationFailed.

    units: declared unit per column, keyed by canonical name or header alias, e.g. {"tax_wan": "元"}.
    dry_run: validate against the store and report, write nothing.
    filename: the file's name as the user knows it, when path is a temporary copy (web uploads).
    region: the region imported into (code, name or alias); default the installation's root region.
    preview_token: the preview this import confirms; a second import with the same token raises
    AlreadyConfirmed and writes nothing (a unique constraint, so also when two people confirm at once).

    The file's template (which data source it is, and the version stamped in it) is recognised and
    recorded on the batch; a file of an older template version is read by its headers and noted.
    """
    table = read_table(path, sheet=sheet, filename=filename)
    if progress:
        progress("read", len(table.rows), len(table.rows))
    header, problems = _bind_header(table, units)
    rows = _parse_rows(table, header, problems, progress)
    if not rows:
        problems.append(table.problem(N_("表头下面没有数据行"), row=header.row + 1,
                                      fix=f"从第 {header.row + 1} 行起每行填写一家企业一年的数据"))
    result = ImportResult(
        batch_id=None, file=table.file, sheet=table.sheet, rows=len(rows), units=dict(header.units),
        columns={b.header: b.col.name for b in header.bound}, ignored_columns=list(header.ignored),
        notes=list(table.notes), dry_run=dry_run,
    )
    if header.ignored:
        result.notes.append("以下列不是企业年度数据的列，已忽略：" + "、".join(header.ignored))
    found = identify(Path(path), table, [b.col.name for b in header.bound])
    result.template, result.template_version = found.key, found.version
    result.notes.extend(found.notes)
    codes = sorted({r.uscc for r in rows if r.uscc})
    with transaction(engine) as session:
        ref = _load_reference(session, codes, _region_scope(session, region))
        resolved = _check_against_store(table, header, rows, ref, problems)
        _check_new_names(table, header, rows, ref, problems)
        _check_new_regions(table, header, rows, resolved, ref, problems)
        if problems:
            problems.sort(key=lambda p: (p.row or 0, _col_order(header, p.column)))
            raise ValidationFailed(problems)
        previous = session.scalar(select(ImportBatch.id).where(ImportBatch.sha256 == table.sha256,
                                                               ImportBatch.kind == KIND).limit(1))
        if previous is not None:
            result.notes.append(f"同一文件此前已导入过（批次 #{previous}），下面只列出与库中不同的数值")
        _write(session, table, header, rows, resolved, ref, result, source=source, actor=actor,
               progress=progress, dry_run=dry_run, template=found.key, template_version=found.version,
               preview_token=preview_token)
    return result


def _region_scope(session: Session, key: str | None) -> Any:
    from qunlian.regions.service import RegionDataError, region_scope

    try:
        return region_scope(session, key)
    except RegionDataError as exc:
        raise ValidationFailed(exc.problems) from None


def _default_region(ref: _Reference) -> int | None:
    """A firm given no town goes to the import's region when that is a county or a zone."""
    return ref.region.id if ref.region is not None and ref.region.level in ("county", "zone") else None


def _check_new_regions(table: Table, header: _Header, rows: list[_Row], resolved: list[_Resolved],
                       ref: _Reference, problems: list[Problem]) -> None:
    """A new firm needs a county: its town's, or the import's region when that is a county or a zone."""
    if ref.region is None or ref.region.level in ("county", "zone"):
        return
    with_town = {res.uscc for res in resolved if res.town_id is not None}
    b = header.by_name.get("town")
    seen: set[str] = set()
    for r in rows:
        if r.ok and r.uscc not in ref.existing and r.uscc not in with_town and r.uscc not in seen:
            seen.add(r.uscc)
            problems.append(table.problem(
                Message("新企业没有镇街道，无法确定它属于%(region)s的哪个县（市、区）", region=ref.region.name),
                N_("填写镇街道，或按县（市、区）分开导入（--region 县市区代码）"),
                row=r.n, column=b.header if b else "镇街道", value=r.uscc))


def _col_order(header: _Header, column: str | None) -> int:
    for b in header.bound:
        if b.header == column:
            return b.index
    return -1


def _check_new_names(table: Table, header: _Header, rows: list[_Row], ref: _Reference,
                     problems: list[Problem]) -> None:
    if "uscc" not in header.by_name:
        return
    named = {r.uscc for r in rows if r.name}
    seen: set[str] = set()
    b = header.by_name.get("name")
    for r in rows:
        if r.ok and r.uscc not in ref.existing and r.uscc not in named and r.uscc not in seen:
            seen.add(r.uscc)
            problems.append(table.problem(
                N_("新企业缺少企业名称（库中还没有这个统一社会信用代码）"),
                "填写营业执照上的企业全称" if b else "在表头加一列“企业名称”并填写企业全称",
                row=r.n, column=b.header if b else "企业名称", value=r.uscc))


def _write(session: Session, table: Table, header: _Header, rows: list[_Row], resolved: list[_Resolved],
           ref: _Reference, result: ImportResult, *, source: str, actor: str, progress: Progress | None,
           dry_run: bool, template: str = "", template_version: str = "", preview_token: str | None = None) -> None:
    """Work out what changes, cell by cell (the preview shows it), then, unless a dry run, write it:
    one batch, the enterprises, the enterprise-years, and one revision per changed figure."""
    total = len(rows)
    year_cols = [b.col.name for b in header.bound if b.col.target == "year"]
    present = {b.col.name for b in header.bound}
    attr_cols = [c for c in ("name", "town_id", "park_id", "industry_code", *C.PLAIN_ENTERPRISE_FIELDS)
                 if (c.removesuffix("_id")) in present]
    town_names = {i: name for i, name in ref.towns.values()}
    park_names = {i: name for i, name, _t in ref.parks.values()}
    # enterprise attributes: from each firm's latest year in the file; blanks keep what is stored
    order = sorted(zip(rows, resolved, strict=True), key=lambda rr: (rr[1].year or 0, rr[0].n))
    profile: dict[str, dict[str, Any]] = {}
    for r, res in order:
        p = profile.setdefault(r.uscc, {})
        for key, value in (("name", r.name), ("town_id", res.town_id), ("park_id", res.park_id),
                           ("industry_code", res.industry_code), *r.attrs.items()):
            if value is not None:
                p[key] = value
    new_rows, upd_rows = [], []
    attr_changes: list[tuple[str, str, Any, Any]] = []  # (uscc, field, old, new) of existing firms
    moved: list[str] = []
    chain_sets = _chain_sets(session, rows, ref)
    for code, p in profile.items():
        old = ref.existing.get(code)
        if old is None:
            town = p.get("town_id")
            new_rows.append({"uscc": code, "name": p["name"], "town_id": town, "park_id": p.get("park_id"),
                             "industry_code": p.get("industry_code"),
                             **{k: p.get(k) for k in C.PLAIN_ENTERPRISE_FIELDS},
                             "region_id": ref.town_region.get(town) if town is not None else _default_region(ref)})
        else:
            merged = {k: p.get(k, old[k]) for k in ("name", "town_id", "park_id", "industry_code",
                                                    *C.PLAIN_ENTERPRISE_FIELDS)}
            merged["region_id"] = (ref.town_region.get(merged["town_id"]) if merged["town_id"] is not None
                                   else old["region_id"] or _default_region(ref))
            if any(merged[k] != old[k] for k in merged):
                upd_rows.append({"id": old["id"], **merged})
                for k in attr_cols:
                    if merged[k] != old[k]:
                        shown = town_names if k == "town_id" else park_names if k == "park_id" else None
                        attr_changes.append((code, k[:-3] if shown is not None else k,
                                             shown.get(old[k], old[k]) if shown is not None else old[k],
                                             shown.get(merged[k], merged[k]) if shown is not None else merged[k]))
        county = (new_rows[-1] if old is None else merged)["region_id"]
        division = ref.region_divisions.get(county)
        if division and len(code) == 18 and code[2:8] != division:
            moved.append(code)
    if moved:
        result.notes.append(Message(
            "%(n)s 家企业统一社会信用代码中的登记地代码与所在县（市、区）的区划代码不同（企业可能已迁址），已按镇街道归属导入：%(codes)s",
            n=len(moved), codes=_list(moved, 10)))
    result.enterprises_created, result.enterprises_updated = len(new_rows), len(upd_rows)
    ids = {code: old["id"] for code, old in ref.existing.items()}
    existing_years: dict[tuple[int, int], dict[str, Any]] = {}
    year_rows = [(r, res) for r, res in zip(rows, resolved, strict=True) if res.year is not None and year_cols]
    if ids and year_rows:
        years = sorted({res.year for _r, res in year_rows})
        cols = [getattr(EnterpriseYear, c) for c in year_cols]
        for chunk in _chunks(sorted(ids.values())):
            q = select(EnterpriseYear.id, EnterpriseYear.enterprise_id, EnterpriseYear.year, *cols).where(
                EnterpriseYear.enterprise_id.in_(chunk), EnterpriseYear.year.in_(years))
            for y in session.execute(q):
                existing_years[(y.enterprise_id, y.year)] = dict(y._mapping)
    names = {code: p.get("name") or ref.existing.get(code, {}).get("name") for code, p in profile.items()}
    link_changes = {code: (old, new) for code, (old, new) in chain_sets.items() if old != new}
    attr_changes += [(code, "chains", "；".join(sorted(old)) or None, "；".join(sorted(new)))
                     for code, (old, new) in link_changes.items() if code in ref.existing]
    changes: list[CellChange] = [CellChange(code, names.get(code) or "", None, f, o, n) for code, f, o, n in attr_changes]
    inserts, updates = [], []
    for r, res in year_rows:
        eid = ids.get(res.uscc)
        figures = {c: r.figures.get(c) for c in year_cols}
        old_year = existing_years.get((eid, res.year)) if eid is not None else None
        if old_year is None:
            inserts.append((res.uscc, res.year, figures))
            result.cells_new += sum(1 for v in figures.values() if v is not None)
            continue
        moved_cells = [c for c in year_cols if not _same(old_year[c], figures[c])]
        result.cells_unchanged += len(year_cols) - len(moved_cells)
        if moved_cells:
            updates.append((old_year["id"], figures))
            changes.extend(CellChange(res.uscc, names.get(res.uscc) or "", res.year, c, old_year[c], figures[c])
                           for c in moved_cells)
    result.years_created, result.years_replaced = len(inserts), len(updates)
    result.cells_changed = len(changes)
    result.changes = changes
    if dry_run:
        return
    if not (new_rows or upd_rows or inserts or updates or link_changes):
        result.unchanged = True
        result.notes.append(N_("文件中的数据与库中完全一致，没有写入任何内容"))
        audit(session, actor, "import.unchanged", "import", table.sha256, file=table.file, sheet=table.sheet,
              rows=total, template=template)
        return
    batch = ImportBatch(kind=KIND, filename=table.file[:300], sha256=table.sha256, source=source[:200],
                        units=dict(header.units), rows=total, created_by=actor[:80], template=template[:40],
                        template_version=template_version[:20], preview_token=preview_token)
    session.add(batch)
    try:
        session.flush()  # the unique preview token: a preview confirmed twice at once fails here
    except IntegrityError:
        raise AlreadyConfirmed(preview_token) from None
    result.batch_id = batch.id
    now = batch.created_at
    if new_rows:
        session.execute(insert(Enterprise), new_rows)
        for chunk in _chunks([r["uscc"] for r in new_rows]):
            q = select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(chunk))
            ids.update((u, i) for u, i in session.execute(q))
    if upd_rows:
        session.execute(update(Enterprise), upd_rows)
    if link_changes:
        _write_chain_links(session, {ids[code]: new for code, (_old, new) in link_changes.items()}, ref)
    if inserts:
        session.execute(insert(EnterpriseYear), [
            {"enterprise_id": ids[u], "year": y, **f, "import_batch_id": batch.id} for u, y, f in inserts])
    if updates:
        session.execute(update(EnterpriseYear), [{"id": i, **f, "import_batch_id": batch.id} for i, f in updates])
    revisions = [{"enterprise_id": ids[ch.uscc], "year": ch.year, "field": ch.field, "old_value": _json(ch.old),
                  "new_value": _json(ch.new), "import_batch_id": batch.id, "changed_at": now} for ch in changes]
    revisions += [{"enterprise_id": ids[u], "year": y, "field": c, "old_value": None, "new_value": v,
                   "import_batch_id": batch.id, "changed_at": now}
                  for u, y, f in inserts for c, v in f.items() if v is not None]
    for chunk in _chunks(revisions, 5000):
        session.execute(insert(FigureRevision), chunk)
    if progress:
        progress("write", total, total)
    audit(session, actor, "import.enterprise-years", "import_batch", batch.id, file=table.file, sheet=table.sheet,
          sha256=table.sha256, source=source, rows=total, units=dict(header.units), template=template,
          template_version=template_version, columns=sorted(present),
          enterprises_created=result.enterprises_created, enterprises_updated=result.enterprises_updated,
          years_created=result.years_created, years_replaced=result.years_replaced, cells_changed=result.cells_changed)


def _chain_sets(session: Session, rows: list[_Row], ref: _Reference) -> dict[str, tuple[set[str], set[str]]]:
    """uscc → (chain labels it holds by import now, labels the file gives) for the firms with a chains cell."""
    from qunlian.chains.models import EnterpriseChainNode

    given: dict[str, set[str]] = {}
    for r in rows:
        if r.ok and r.chains:
            given.setdefault(r.uscc, set()).update(ref.chains[_key(t)][1] for t in r.chains)
    if not given:
        return {}
    labels = {i: lab for i, lab in ref.chains.values()}
    held: dict[str, set[str]] = {code: set() for code in given}
    ids = {old["id"]: code for code, old in ref.existing.items() if code in given}
    for chunk in _chunks(sorted(ids)):
        q = select(EnterpriseChainNode.enterprise_id, EnterpriseChainNode.node_id).where(
            EnterpriseChainNode.enterprise_id.in_(chunk), EnterpriseChainNode.source == "import")
        for eid, node in session.execute(q):
            held[ids[eid]].add(labels.get(node, str(node)))
    return {code: (held[code], new) for code, new in given.items()}


def _write_chain_links(session: Session, wanted: dict[int, set[str]], ref: _Reference) -> None:
    """Replace the import-made chain links of these firms (links from industry codes or made by hand stay)."""
    from sqlalchemy import delete

    from qunlian.chains.models import EnterpriseChainNode

    node_of = {lab: i for i, lab in ref.chains.values()}
    for chunk in _chunks(sorted(wanted)):
        session.execute(delete(EnterpriseChainNode).where(EnterpriseChainNode.enterprise_id.in_(chunk),
                                                          EnterpriseChainNode.source == "import"))
    present: set[tuple[int, int]] = set()  # links the firm has otherwise (its industry code …) are kept as they are
    for chunk in _chunks(sorted(wanted)):
        present.update(session.execute(select(EnterpriseChainNode.enterprise_id, EnterpriseChainNode.node_id).where(
            EnterpriseChainNode.enterprise_id.in_(chunk))).tuples())
    links = [{"enterprise_id": eid, "node_id": node_of[lab], "role": "member", "source": "import"}
             for eid, labels in wanted.items() for lab in sorted(labels) if (eid, node_of[lab]) not in present]
    if links:
        session.execute(insert(EnterpriseChainNode), links)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _same(old: Any, new: Any) -> bool:
    """Whether a stored figure equals the file's: floats within their 15 significant digits."""
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, float) or isinstance(new, float):
        try:
            return math.isclose(float(old), float(new), rel_tol=1e-12, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return old == new


# --------------------------------------------------------------------------- export


def _landowner(raw: Any) -> str | None:
    """The normalised code; its validity is checked with the store's exception list later."""
    text = parse_text(raw)
    return uscc_mod.normalise(text) if text else None


def _exemption(raw: Any) -> str | None:
    text = parse_text(raw)
    if not text:
        return None
    for code, labels in C.EXEMPTIONS.items():
        if text == code or text in labels:
            return code
    known = "；".join(f"{code}（{'、'.join(labels)}）" for code, labels in C.EXEMPTIONS.items())
    raise CellError(f"未知的免评原因 {text!r}", f"填写以下之一或留空：{known}")


def export_enterprise_years(engine: Engine, year: int, path: str | os.PathLike[str], *, actor: str = "cli",
                            region: str | None = None, headers: str = "en") -> int:
    """Write one year's enterprise-years with the canonical columns (DESIGN §5 order), amounts in 万元.

    region: the region whose firms are written (code, name or alias; default the root region).
    headers: "en" the canonical English names (the contract), "zh" the Chinese headings with units
    (税收（万元）…), which import back the same.

    .csv is written as UTF-8 with BOM so Excel opens it; .xlsx through openpyxl. Returns rows written.
    The export of confidential figures is recorded in the audit log.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".xlsx"):
        raise QunlianError(Message("不支持导出为 %(ext)s：请用 .csv 或 .xlsx", ext=ext or Message("（无扩展名）")))
    if not p.parent.exists():
        raise QunlianError(Message("目录不存在：%(dir)s", dir=str(p.parent)))
    names = list(C.EXPORT_FIELDS)
    shown = names if headers != "zh" else [str(C.heading(n)) for n in names]
    figure_cols = [getattr(EnterpriseYear, c) for c in C.YEAR_FIELDS]
    q = (
        select(Enterprise.uscc, Enterprise.name, EnterpriseYear.year, Town.name.label("town"),
               Park.name.label("park"), Enterprise.industry_code, *figure_cols,
               *(getattr(Enterprise, c) for c in C.PLAIN_ENTERPRISE_FIELDS))
        .select_from(EnterpriseYear)
        .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .outerjoin(Town, Town.id == Enterprise.town_id)
        .outerjoin(Park, Park.id == Enterprise.park_id)
        .where(EnterpriseYear.year == year)
        .order_by(Enterprise.uscc)
    )
    with transaction(engine) as session:
        scope = _region_scope(session, region)
        q = q.where(in_region(scope.ids, scope.unplaced))
        records = [_export_row(dict(r._mapping), names) for r in session.execute(q)]
        if ext == ".csv":
            write_csv(p, shown, records)
        else:
            write_xlsx(p, [Sheet(str(year), shown, records, freeze_header=False)])
        audit(session, actor, "export.enterprise-years", "enterprise_years", year, file=p.name, rows=len(records),
              units={c.name: c.unit for c in C.COLUMNS if c.unit})
    return len(records)


def write_report(path: str | os.PathLike[str], problems: list[Problem], target: Any, *, sheet: str | None = None,
                 filename: str | None = None) -> None:
    """The validation report of a refused file (``tabular_out.write_validation_report``): its rows with
    the problem cells marked, or only the list of problems when the file itself could not be read."""
    try:
        table = read_table(path, sheet=sheet, filename=filename)
    except ValidationFailed:
        write_validation_report(target, problems)
        return
    header_row, _cells = table.header(_known)
    write_validation_report(target, problems, rows=table.rows, header_row=header_row, sheet=table.sheet)


def _export_row(rec: dict[str, Any], names: list[str]) -> list[Any]:
    out = []
    for n in names:
        v = rec.get(n)
        if n == "above_scale" and v is not None:
            v = 1 if v else 0
        out.append(v)
    return out


__all__ = ["AlreadyConfirmed", "CellChange", "ImportResult", "export_enterprise_years", "import_enterprise_years",
           "write_report"]
