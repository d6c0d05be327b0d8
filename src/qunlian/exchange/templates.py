"""Import templates: one .xlsx per data source, made from the source's declaration.

A template is what a bureau sends to the tax bureau, the power company … to fill in: a title row
carrying the stamp (source and version), the Chinese header row, a 单位 row whose unit cells are
dropdowns (元/万元/亿元 …), and empty data rows whose cells validate as the importer will (dropdowns
of the region's towns and parks, 是/否, 18-character codes, years, non-negative numbers); a 填写说明
sheet says what each column means; the lists the dropdowns use sit on a hidden 选项 sheet (a list in
the validation itself is capped at 255 characters). The stamp is also a custom document property.

openpyxl writes it (data validations and document properties are not in the write-only writer that
exports use; a template holds no stored data, so nothing here needs neutralising).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qunlian.platform.i18n import translate
from qunlian.platform.sources import STAMP_PROPERTY, DataSource, TemplateColumn

DATA_ROWS = 2000  # rows prepared with validations (a county's firms fit; more rows work without them)
HEADER_FILL = "DDEBF7"
REQUIRED_FILL = "FCE4D6"
UNIT_FILL = "F2F2F2"


@dataclass
class Choices:
    """The named lists a template's dropdowns offer, read once from the store for a region."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    region_name: str = ""

    def get(self, name: str) -> list[str]:
        return self.lists.get(name, [])


def load_choices(session: Session, region: str | None = None) -> Choices:
    """Towns and parks of the region (default the installation's root), chains, yes/no, exemptions."""
    from sqlalchemy import select

    from qunlian.chains.service import chain_options
    from qunlian.enterprises.service import columns as C
    from qunlian.regions.models import Park, Town
    from qunlian.regions.service import region_scope, town_options

    scope = region_scope(session, region)
    holder = _Scope(scope.ids)
    parks = select(Park.name).join(Town, Town.id == Park.town_id, isouter=True).order_by(Park.id)
    if scope.ids is not None:
        parks = parks.where(Town.region_id.in_(sorted(scope.ids)) | Park.town_id.is_(None))
    return Choices(
        lists={
            "towns": [t["name"] for t in town_options(session, holder)],
            "parks": list(session.scalars(parks)),
            "chains": [c["label"] for c in chain_options(session, holder)],
            "yes_no": ["是", "否"],
            "exemptions": [labels[0] for labels in C.EXEMPTIONS.values()],
        },
        region_name=scope.region.name if scope.region is not None else "",
    )


@dataclass
class _Scope:
    region_ids: frozenset[int] | None


def template_name(src: DataSource) -> str:
    """The file name a template is saved and offered under, e.g. 模板-税收数据-tax-v2026.1.xlsx."""
    return f"模板-{src.title}-{src.key}-v{src.version}.xlsx"


def write_template(src: DataSource, choices: Choices, target: Any, *, locale: str = "zh") -> None:
    """Write ``src``'s template to a path or a binary file object."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    def t(text: str) -> str:
        return translate(text, locale)

    wb = Workbook()
    ws = wb.active
    ws.title = _title(t(src.title))
    options = wb.create_sheet("选项")
    options.sheet_state = "hidden"
    guide = wb.create_sheet("填写说明")
    wb.move_sheet(guide, offset=-1)  # data first (the importer reads the first visible sheet), then the guide

    has_units = any(c.units for c in src.columns)
    header_row, unit_row = 2, 3
    first_data = 4 if has_units else 3
    last_data = first_data + DATA_ROWS - 1
    stamp_text = f"{t(src.title)}（{t(src.provider)}）· 模板 {src.key} v{src.version}"
    if choices.region_name:
        stamp_text += f" · {choices.region_name}"
    ws.cell(row=1, column=1, value=stamp_text).font = Font(bold=True, size=13)
    if len(src.columns) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(src.columns))

    lists_col = 0
    list_refs: dict[str, str] = {}
    for name in sorted({c.choices for c in src.columns if c.choices} | ({"units"} if has_units else set())):
        if name == "units":
            continue
        values = choices.get(name) or ["（库中暂无）"]
        lists_col += 1
        letter = get_column_letter(lists_col)
        options.cell(row=1, column=lists_col, value=name)
        for i, v in enumerate(values, start=2):
            options.cell(row=i, column=lists_col, value=v)
        ref = f"选项!${letter}$2:${letter}${len(values) + 1}"
        defined = f"list_{name}"
        wb.defined_names[defined] = DefinedName(defined, attr_text=ref)
        list_refs[name] = defined

    for j, col in enumerate(src.columns, start=1):
        letter = get_column_letter(j)
        head = ws.cell(row=header_row, column=j, value=t(col.heading))
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=REQUIRED_FILL if col.required else HEADER_FILL)
        head.alignment = Alignment(wrap_text=True, vertical="center")
        if col.note:
            head.comment = Comment(t(col.note), "qunlian", width=260, height=90)
        ws.column_dimensions[letter].width = _width(col)
        span = f"{letter}{first_data}:{letter}{last_data}"
        if has_units:
            cell = ws.cell(row=unit_row, column=j, value="单位" if j == 1 else (col.unit or None))
            cell.fill = PatternFill("solid", fgColor=UNIT_FILL)
            cell.font = Font(italic=True, color="595959")
            if col.units:
                dv = DataValidation(type="list", formula1='"' + ",".join(col.units) + '"', allow_blank=False,
                                    showErrorMessage=True, errorTitle="单位", error="请从下拉列表中选择单位")
                dv.add(f"{letter}{unit_row}")
                ws.add_data_validation(dv)
        dv = _validation(col, list_refs)
        if dv is not None:
            dv.add(span)
            ws.add_data_validation(dv)
        if col.kind in ("uscc", "text", "longtext", "choice") or col.name == "industry_code":
            for r in range(first_data, last_data + 1):
                ws.cell(row=r, column=j).number_format = "@"  # text: codes keep their leading zeros
        elif col.kind == "date":
            for r in range(first_data, last_data + 1):
                ws.cell(row=r, column=j).number_format = "yyyy-mm-dd"
    ws.freeze_panes = ws.cell(row=first_data, column=3)
    ws.page_setup.orientation = "landscape"  # printed for the sender: one page wide
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = f"{header_row}:{first_data - 1}"

    _write_guide(guide, src, t, has_units, first_data, choices)
    wb.custom_doc_props.append(_string_property(STAMP_PROPERTY, src.stamp))
    wb.properties.title = stamp_text
    wb.properties.creator = "qunlian"
    if isinstance(target, (str, Path)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)


def _validation(col: TemplateColumn, list_refs: dict[str, str]) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    if col.choices == "chains" and col.choices in list_refs:  # several chains are typed with ；: only a hint
        return DataValidation(type="list", formula1=f"={list_refs[col.choices]}", allow_blank=True,
                              showErrorMessage=True, errorStyle="information", errorTitle=col.heading,
                              error="在几条链上时用；隔开；链名须与下拉列表中的一致")
    if col.choices and col.choices in list_refs:
        return DataValidation(type="list", formula1=f"={list_refs[col.choices]}", allow_blank=True,
                              showErrorMessage=True, errorTitle=col.heading,
                              error="请从下拉列表中选择；列表之外的值导入时会被拒绝")
    if col.kind == "uscc":
        return DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True,
                              showErrorMessage=True, errorTitle="统一社会信用代码", error="统一社会信用代码为 18 位")
    if col.kind == "year":
        return DataValidation(type="whole", operator="between", formula1="1980", formula2=str(dt.date.today().year + 1),
                              allow_blank=True, showErrorMessage=True, errorTitle="年度", error="年度为 4 位数字，如 2025")
    if col.kind in ("number", "integer") and col.name not in ("tax_wan", "value_added_wan", "profit_wan"):
        return DataValidation(type="whole" if col.kind == "integer" else "decimal", operator="greaterThanOrEqual",
                              formula1="0", allow_blank=True, showErrorMessage=True, errorTitle=col.heading,
                              error="请填写不小于 0 的数字；缺失请留空")
    if col.kind == "date":
        return DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                              showErrorMessage=True, errorTitle=col.heading, error="请填写日期，如 2015-03-20")
    return None


def _write_guide(ws: Any, src: DataSource, t: Any, has_units: bool, first_data: int, choices: Choices) -> None:
    from openpyxl.styles import Alignment, Font

    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 10
    ws.column_dimensions["D"].width = 70
    rows: list[list[Any]] = [
        [f"{t(src.title)} 填写说明"],
        ["数据来源", t(src.provider)],
        ["模板", f"{src.key} v{src.version}"],
        ["生成日期", dt.date.today().isoformat()],
    ]
    if choices.region_name:
        rows.append(["地区", choices.region_name])
    rows.append([])
    rows.append(["填写要求"])
    rows.extend([[f"{i}. {t(line)}"] for i, line in enumerate(src.instructions, 1)])
    rows.append([])
    rows.append(["列", "单位", "必填", "说明"])
    for col in src.columns:
        unit = col.unit or ""
        if col.units:
            unit = f"{col.unit}（可选 {'、'.join(col.units)}）"
        rows.append([t(col.heading), unit, "是" if col.required else "", t(col.note) if col.note else ""])
    for r, values in enumerate(rows, start=1):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if r == 1 or values and values[0] in ("填写要求", "列"):
                cell.font = Font(bold=True)


def _string_property(name: str, value: str) -> Any:
    from openpyxl.packaging.custom import StringProperty

    return StringProperty(name=name, value=value)


def _width(col: TemplateColumn) -> float:
    if col.kind == "uscc":
        return 22
    if col.kind == "longtext":
        return 40
    if col.name == "name":
        return 28
    return max(10.0, min(24.0, len(col.heading) * 2.2 + 2))


def _title(text: str) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip() or "数据"
    return clean[:31]


def write_templates(sources: Iterable[DataSource], choices: Choices, folder: Path) -> list[Path]:
    """Every source's template into ``folder`` (created); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for src in sources:
        path = folder / template_name(src)
        write_template(src, choices, path)
        out.append(path)
    return out


__all__ = ["Choices", "load_choices", "template_name", "write_template", "write_templates"]
