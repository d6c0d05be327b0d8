"""Safe reading of uploaded spreadsheets (.xlsx, .csv) into rows, refusing what should not be parsed.

Checks run before any parsing:
- the file size (default 50 MB, env QUNLIAN_MAX_UPLOAD_MB);
- the extension (.xlsx, .csv only);
- for .xlsx: that it is a zip with a workbook inside, and, from the zip directory alone, the number
  of entries, the total uncompressed size and the compression ratio (a "zip bomb" is refused without
  inflating anything). Python's zipfile never inflates an entry beyond the size its directory
  declares, so the declared sizes bound the work that openpyxl can be made to do.

Every refusal is a ValidationFailed carrying one Problem that says what is wrong and how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qunlian.core.errors import Problem, ValidationFailed

DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_ZIP_ENTRIES = 2_000  # a workbook has a few dozen parts
MAX_UNZIPPED_BYTES = 1_024 * 1024 * 1024  # 1 GiB of XML is far beyond any county sheet
MAX_RATIO = 200  # sheet XML compresses 5–30×, even very repetitive sheets stay below 200×
RATIO_MIN_BYTES = 1024 * 1024  # small parts may compress extremely well; only large ones are judged
SUPPORTED = (".xlsx", ".csv")
HEADER_SCAN_ROWS = 10  # a title row or two above the header is common in government sheets


@dataclass
class Table:
    """A sheet as rows of raw cell values. Row numbers are as a user sees them (first row = 1)."""

    file: str  # file name as shown to the user
    sheet: str  # sheet name; for CSV the file stem (what Excel shows on the tab)
    rows: list[tuple[int, list[Any]]]  # (row number, cell values), blank rows dropped
    sha256: str
    size: int
    notes: list[str] = field(default_factory=list)

    def problem(self, message: str, fix: str = "", **kw: Any) -> Problem:
        return Problem(message=message, fix=fix, file=self.file, sheet=self.sheet, **kw)


def max_upload_bytes() -> int:
    raw = os.environ.get("QUNLIAN_MAX_UPLOAD_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    return int(mb * 1024 * 1024)


def _refuse(file: str, message: str, fix: str, sheet: str | None = None) -> ValidationFailed:
    return ValidationFailed([Problem(message=message, fix=fix, file=file, sheet=sheet)],
                            summary="文件未被接受，未写入任何数据")


def check_file(path: Path, *, max_bytes: int | None = None) -> int:
    """Size and extension checks that need no parsing. Returns the size in bytes."""
    name = path.name
    if not path.exists():
        raise _refuse(name, "文件不存在", f"检查路径是否正确：{path}")
    if not path.is_file():
        raise _refuse(name, "不是普通文件", "请选择一个 .xlsx 或 .csv 文件")
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise _refuse(
            name,
            f"文件过大：{size / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB / file too large",
            "把数据拆成几个文件分批导入，或删去无关的工作表、图片和格式；"
            "管理员可用环境变量 QUNLIAN_MAX_UPLOAD_MB 调整上限",
        )
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        hint = "用 Excel/WPS 另存为 .xlsx 格式（Excel 工作簿）" if ext in (".xls", ".xlsm", ".xlsb", ".et", ".ods") \
            else "请上传 .xlsx（Excel 工作簿）或 .csv 文件"
        raise _refuse(name, f"不支持的文件类型 {ext or '（无扩展名）'} / unsupported file type", hint)
    return size


def check_xlsx_container(path: Path) -> None:
    """Refuse a .xlsx that is not a zip workbook or whose zip directory describes a bomb."""
    name = path.name
    resave = "用 Excel/WPS 打开后另存为 .xlsx 再上传"
    if not zipfile.is_zipfile(path):
        raise _refuse(name, "文件不是有效的 Excel 工作簿（.xlsx 应为 zip 格式）/ not an xlsx workbook",
                      f"确认选对了文件；若是旧版 .xls 或其他格式改名而来，请{resave}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(name, f"Excel 文件已损坏，无法读取（{exc}）", resave) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _refuse(name, f"文件内部包含 {len(infos)} 个部件，超过上限 {MAX_ZIP_ENTRIES}，疑似恶意压缩包",
                      f"不是正常的 Excel 工作簿；请{resave}")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise _refuse(name, f"文件解压后达 {total / 1048576:.0f} MB，超过上限 {MAX_UNZIPPED_BYTES // 1048576} MB，"
                            "疑似压缩炸弹 / zip bomb suspected",
                      "把数据拆成几个文件分批导入；若文件来源不明，请勿打开")
    for i in infos:
        if i.file_size >= RATIO_MIN_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _refuse(name, f"文件内部部件 {i.filename} 压缩比异常（{i.file_size // max(i.compress_size, 1)}:1），"
                                "疑似压缩炸弹 / zip bomb suspected",
                          f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    if total >= RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, f"文件整体压缩比异常（{total // max(packed, 1)}:1），疑似压缩炸弹 / zip bomb suspected",
                      f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse(name, "压缩包里没有 Excel 工作簿（缺少 xl/workbook.xml），不是 .xlsx 文件",
                      f"确认选对了文件，或{resave}")


def read_table(path: str | os.PathLike[str], *, sheet: str | None = None, max_bytes: int | None = None,
               filename: str | None = None) -> Table:
    """Read the first (or the named) sheet of an .xlsx, or a .csv, after the safety checks.

    filename: the name to show in messages when the path is a temporary copy (web uploads).
    """
    p = Path(path)
    try:
        size = check_file(p, max_bytes=max_bytes)
        table = _read(p, size, sheet)
    except ValidationFailed as exc:
        if filename:
            shown = Path(filename).stem if p.suffix.lower() == ".csv" else None
            exc.problems = [replace(pr, file=filename, sheet=shown if shown and pr.sheet == p.stem else pr.sheet)
                            for pr in exc.problems]
        raise
    if filename:
        table.file = filename
        if p.suffix.lower() == ".csv":
            table.sheet = Path(filename).stem
    return table


def _read(p: Path, size: int, sheet: str | None) -> Table:
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if p.suffix.lower() == ".csv":
        table = _read_csv(p, data, digest, size)
        if sheet and sheet != table.sheet:
            table.notes.append(f"CSV 文件只有一个表，已忽略工作表选项 {sheet!r}")
    else:
        check_xlsx_container(p)
        table = _read_xlsx(p, data, digest, size, sheet)
    if not table.rows:
        raise ValidationFailed([table.problem("工作表是空的，没有表头和数据 / empty sheet",
                                              "第 1 行写列名（如 统一社会信用代码、年度、税收（万元）），"
                                              "从第 2 行起每行一家企业一年的数据")],
                               summary="文件未被接受，未写入任何数据")
    return table


def _read_csv(p: Path, data: bytes, digest: str, size: int) -> Table:
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _refuse(p.name, "无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030）",
                          "用 Excel/WPS 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx") from None
        notes.append("文件不是 UTF-8 编码，已按 GB18030（GBK）读取 / decoded as GB18030")
    if "\x00" in text:
        raise _refuse(p.name, "文件含有二进制内容，不是文本 CSV 文件", "请上传 .xlsx 或另存为 CSV UTF-8 后上传")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows: list[tuple[int, list[Any]]] = []
    try:
        for n, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if any(c.strip() for c in cells):
                rows.append((n, cells))
    except csv.Error as exc:
        raise _refuse(p.name, f"CSV 格式错误：{exc}", "检查引号是否成对；可用 Excel 打开后另存为 CSV UTF-8") from None
    return Table(file=p.name, sheet=p.stem, rows=rows, sha256=digest, size=size, notes=notes)


def _read_xlsx(p: Path, data: bytes, digest: str, size: int, sheet: str | None) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise _refuse(p.name, f"Excel 文件无法打开（{type(exc).__name__}: {exc}）",
                      "用 Excel/WPS 打开后另存为 .xlsx 再上传") from None
    try:
        if sheet is None:
            if not wb.sheetnames:
                raise _refuse(p.name, "工作簿里没有工作表", "请检查文件")
            ws = wb[wb.sheetnames[0]]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise _refuse(p.name, f"找不到工作表 {sheet!r} / no such sheet",
                          "可用的工作表：" + "、".join(wb.sheetnames), sheet=sheet)
        # The declared dimension may claim 16384 columns for a formatted sheet; rows are padded to it.
        # Ignore it and take each row as long as its cells.
        ws.reset_dimensions()
        rows: list[tuple[int, list[Any]]] = []
        try:
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = list(values)
                while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
                    cells.pop()
                if cells:
                    rows.append((n, cells))
        except ValidationFailed:
            raise
        except Exception as exc:
            raise _refuse(p.name, f"读取工作表时出错（{type(exc).__name__}: {exc}）",
                          "用 Excel/WPS 打开后另存为 .xlsx 再上传", sheet=ws.title) from None
        return Table(file=p.name, sheet=ws.title, rows=rows, sha256=digest, size=size)
    finally:
        wb.close()
