"""The one tabular reader: spreadsheets and tables (.xlsx, .csv, .parquet) into rows, safely.

Every importer and the engines' standalone modes read files through ``read_table``. It returns a
``Table``: the sheet's rows as raw cell values with the row numbers a user sees (for problems that
say where), plus, through ``Table.header`` and ``Table.to_arrow``, the header row and the columns
under it as Arrow arrays (a parquet file keeps its stored types).

- .csv: UTF-8 with or without BOM, else GB18030 (a superset of GBK, what Excel/WPS write on a
  Chinese Windows), noted in ``Table.notes``; comma or tab separated.
- .xlsx (and .xlsm where the caller allows it): the first or the named sheet, values not formulas,
  including what WPS writes (inline strings, no shared-strings part, no or wrong dimension, cells
  without references).
- .parquet: only where the caller allows it (``formats=ALL_FORMATS``; uploads take .xlsx and .csv).

Checks run before any parsing:
- the file size (default 50 MB, env QUNLIAN_MAX_UPLOAD_MB);
- the extension (``formats``; uploads: .xlsx, .csv only);
- for .xlsx: that it is a zip with a workbook inside, and, from the zip directory alone, the number
  of entries, the total uncompressed size and the compression ratio (a "zip bomb" is refused without
  inflating anything). Python's zipfile never inflates an entry beyond the size its directory
  declares, so the declared sizes bound the work that openpyxl can be made to do;
- for .parquet: from the footer alone, the number of cells and the uncompressed size and ratio;
  after reading, dictionary-encoded columns are decoded only if their decoded size stays in bounds.

Every refusal is a ValidationFailed carrying one Problem that says what is wrong and how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qunlian.platform.tabular_out import unmark_csv_cell
from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Message

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_ZIP_ENTRIES = 2_000  # a workbook has a few dozen parts
MAX_UNZIPPED_BYTES = 1_024 * 1024 * 1024  # 1 GiB of XML is far beyond any county sheet
MAX_RATIO = 200  # sheet XML compresses 5–30×, even very repetitive sheets stay below 200×
RATIO_MIN_BYTES = 1024 * 1024  # small parts may compress extremely well; only large ones are judged
MAX_PARQUET_CELLS = 50_000_000  # rows × columns, bounds the decoded size; a county has tens of thousands of firms
SUPPORTED = (".xlsx", ".csv")  # uploads and the enterprise-years importer
ALL_FORMATS = (".xlsx", ".xlsm", ".csv", ".parquet")  # standalone engine modes (local files)
HEADER_SCAN_ROWS = 10  # a title row or two above the header is common in government sheets

Row = tuple[int, list[Any]]


def header_text(raw: object) -> str:
    """A header cell as text: line breaks and runs of blanks become one blank (WPS wraps long headers)."""
    return " ".join(str(raw).split()) if raw is not None else ""


@dataclass
class Arrowed:
    """The columns under a table's header as Arrow, with the row number of each data row."""

    header_row: int
    table: pa.Table  # one column per non-blank header, named as printed (names may repeat)
    rows: list[int]  # row number (as a user sees it) of each row of ``table``


@dataclass
class Table:
    """A sheet as rows of raw cell values. Row numbers are as a user sees them (first row = 1).

    For a parquet file ``arrow`` holds the columns as stored; ``rows`` is then made from it on first
    use, with the column names as row 1.
    """

    file: str  # file name as shown to the user
    sheet: str  # sheet name; for CSV and parquet the file stem (what Excel shows on the tab)
    _rows: list[Row] | None  # (row number, cell values), blank rows dropped
    sha256: str
    size: int
    notes: list[str] = field(default_factory=list)
    arrow: pa.Table | None = None  # parquet: the stored columns

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            assert self.arrow is not None
            names: list[Any] = list(self.arrow.column_names)
            body = self.arrow.to_pylist()
            self._rows = [(1, names)] + [(i + 2, [r[n] for n in self.arrow.column_names])
                                         for i, r in enumerate(body)]
        return self._rows

    def problem(self, message: str, fix: str = "", **kw: Any) -> Problem:
        return Problem(message=message, fix=fix, file=self.file, sheet=self.sheet, **kw)

    def header(self, is_known: Callable[[str], bool] | None = None) -> Row:
        """The header row: among the first HEADER_SCAN_ROWS rows, the first naming at least two known
        columns (``is_known(header_text)``), else the first row. Title rows above it are skipped."""
        if self.arrow is not None:
            return 1, list(self.arrow.column_names)
        if is_known is not None:
            for n, cells in self.rows[:HEADER_SCAN_ROWS]:
                if sum(1 for c in cells if c is not None and is_known(header_text(c))) >= 2:
                    return n, cells
        return self.rows[0]

    def data_rows(self, header_row: int) -> list[Row]:
        """The rows under the header."""
        return [(n, cells) for n, cells in self.rows if n > header_row]

    def to_arrow(self, is_known: Callable[[str], bool] | None = None) -> Arrowed:
        """The columns under the header (``header(is_known)``) as Arrow.

        parquet: the stored columns and types. csv: strings. xlsx: each column's cells as Arrow
        infers them (numbers, dates …), as strings where a column mixes kinds. Blank headers dropped.
        """
        import pyarrow as pa

        if self.arrow is not None:
            return Arrowed(1, self.arrow, list(range(2, self.arrow.num_rows + 2)))
        header_row, cells = self.header(is_known)
        body = self.data_rows(header_row)
        names: list[str] = []
        arrays: list[pa.Array] = []
        for i, raw in enumerate(cells):
            name = header_text(raw)
            if not name:
                continue
            names.append(name)
            arrays.append(_column_array([row[i] if i < len(row) else None for _, row in body]))
        return Arrowed(header_row, pa.Table.from_arrays(arrays, names=names), [n for n, _ in body])


def _column_array(values: list[Any]) -> pa.Array:
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


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


def check_file(path: Path, *, max_bytes: int | None = None, formats: tuple[str, ...] = SUPPORTED) -> int:
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
            Message("文件过大：%(size)s MB，超过上限 %(limit)s MB", size=format(size / 1048576, ".1f"),
                    limit=format(limit / 1048576, ".0f")),
            "把数据拆成几个文件分批导入，或删去无关的工作表、图片和格式；"
            "管理员可用环境变量 QUNLIAN_MAX_UPLOAD_MB 调整上限",
        )
    ext = path.suffix.lower()
    if ext not in formats:
        accepted = "、".join(formats)
        hint = "用 Excel/WPS 另存为 .xlsx 格式（Excel 工作簿）" if ext in (".xls", ".xlsm", ".xlsb", ".et", ".ods") \
            else ("请上传 .xlsx（Excel 工作簿）或 .csv 文件" if formats == SUPPORTED else f"使用 {accepted} 文件")
        raise _refuse(name, Message("不支持的文件类型 %(ext)s", ext=ext or Message("（无扩展名）")), hint)
    return size


def check_xlsx_container(path: Path) -> None:
    """Refuse a .xlsx that is not a zip workbook or whose zip directory describes a bomb."""
    name = path.name
    resave = "用 Excel/WPS 打开后另存为 .xlsx 再上传"
    if not zipfile.is_zipfile(path):
        raise _refuse(name, N_("文件不是有效的 Excel 工作簿（.xlsx 应为 zip 格式）"),
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
        raise _refuse(name, Message("文件解压后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                    mb=format(total / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件分批导入；若文件来源不明，请勿打开")
    for i in infos:
        if i.file_size >= RATIO_MIN_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _refuse(name, Message("文件内部部件 %(part)s 压缩比异常（%(ratio)s:1），疑似压缩炸弹",
                                        part=i.filename, ratio=i.file_size // max(i.compress_size, 1)),
                          f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    if total >= RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, Message("文件整体压缩比异常（%(ratio)s:1），疑似压缩炸弹", ratio=total // max(packed, 1)),
                      f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse(name, "压缩包里没有 Excel 工作簿（缺少 xl/workbook.xml），不是 .xlsx 文件",
                      f"确认选对了文件，或{resave}")


def check_parquet(path: Path) -> None:
    """Refuse a .parquet that is not one, or whose footer describes more than we would decode."""
    import pyarrow.parquet as pq

    name = path.name
    import pyarrow as pa

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:  # ArrowInvalid for what is not parquet
        raise _refuse(name, Message("不是有效的 parquet 文件（%(error)s）", error=": ".join((type(exc).__name__, str(exc)))),
                      "确认选对了文件；或另存为 .csv（UTF-8）或 .xlsx") from None
    cells = meta.num_rows * max(meta.num_columns, 1)
    if cells > MAX_PARQUET_CELLS:
        raise _refuse(name, f"文件有 {meta.num_rows} 行 × {meta.num_columns} 列，超过上限 {MAX_PARQUET_CELLS} 个单元格",
                      "只保留需要的列，或把数据拆成几个文件")
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    packed = path.stat().st_size
    if total > MAX_UNZIPPED_BYTES:
        raise _refuse(name, Message("文件解压后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                    mb=format(total / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件；若文件来源不明，请勿打开")
    if total >= RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, Message("文件整体压缩比异常（%(ratio)s:1），疑似压缩炸弹", ratio=total // max(packed, 1)),
                      "若文件来源可靠，请另存为 .csv 或 .xlsx；若来源不明，请勿打开")


def read_table(path: str | os.PathLike[str], *, sheet: str | None = None, max_bytes: int | None = None,
               filename: str | None = None, formats: tuple[str, ...] = SUPPORTED) -> Table:
    """Read the first (or the named) sheet of an .xlsx, or a .csv (or a .parquet), after the safety checks.

    filename: the name to show in messages when the path is a temporary copy (web uploads).
    formats: the extensions accepted (default: what uploads take, .xlsx and .csv; ``ALL_FORMATS`` adds
    .xlsm and .parquet for local files of the engines' standalone modes).
    """
    p = Path(path)
    one_sheet = p.suffix.lower() in (".csv", ".parquet")
    try:
        size = check_file(p, max_bytes=max_bytes, formats=formats)
        table = _read(p, size, sheet)
    except ValidationFailed as exc:
        if filename:
            shown = Path(filename).stem if one_sheet else None
            exc.problems = [replace(pr, file=filename, sheet=shown if shown and pr.sheet == p.stem else pr.sheet)
                            for pr in exc.problems]
        raise
    if filename:
        table.file = filename
        if one_sheet:
            table.sheet = Path(filename).stem
    return table


def _read(p: Path, size: int, sheet: str | None) -> Table:
    ext = p.suffix.lower()
    if ext == ".parquet":
        check_parquet(p)
        table = _read_parquet(p, size)
        if sheet and sheet != table.sheet:
            table.notes.append(f"parquet 文件只有一个表，已忽略工作表选项 {sheet!r}")
        if table.arrow is not None and table.arrow.num_columns:
            return table
        raise ValidationFailed([table.problem(N_("文件里没有任何列"), "每列一个字段，列名如 uscc、year、tax_wan")],
                               summary="文件未被接受，未写入任何数据")
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if ext == ".csv":
        table = _read_csv(p, data, digest, size)
        if sheet and sheet != table.sheet:
            table.notes.append(f"CSV 文件只有一个表，已忽略工作表选项 {sheet!r}")
    else:
        check_xlsx_container(p)
        table = _read_xlsx(p, data, digest, size, sheet)
    if not table.rows:
        raise ValidationFailed([table.problem(N_("工作表是空的，没有表头和数据"),
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
        notes.append(N_("文件不是 UTF-8 编码，已按 GB18030（GBK）读取"))
    if "\x00" in text:
        raise _refuse(p.name, "文件含有二进制内容，不是文本 CSV 文件", "请上传 .xlsx 或另存为 CSV UTF-8 后上传")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows: list[tuple[int, list[Any]]] = []
    try:
        for n, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if any(c.strip() for c in cells):
                rows.append((n, [unmark_csv_cell(c) for c in cells]))  # our exports mark formula-like text
    except csv.Error as exc:
        raise _refuse(p.name, f"CSV 格式错误：{exc}", "检查引号是否成对；可用 Excel 打开后另存为 CSV UTF-8") from None
    return Table(file=p.name, sheet=p.stem, _rows=rows, sha256=digest, size=size, notes=notes)


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
            raise _refuse(p.name, Message("找不到工作表 %(sheet)s", sheet=repr(sheet)),
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
        return Table(file=p.name, sheet=ws.title, _rows=rows, sha256=digest, size=size)
    finally:
        wb.close()


def _read_parquet(p: Path, size: int) -> Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    try:
        pf = pq.ParquetFile(p)
        strings = [f.name for f in pf.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                   or pa.types.is_binary(f.type)]
        # string columns stay dictionary-encoded until their decoded size is known to be sane
        raw = pq.read_table(p, read_dictionary=strings)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _refuse(p.name, f"读取 parquet 文件时出错（{type(exc).__name__}: {exc}）",
                      "另存为 .csv（UTF-8）或 .xlsx 再试") from None
    decoded = 0
    for col in raw.columns:
        if pa.types.is_dictionary(col.type):
            for chunk in col.chunks:
                lengths = pc.binary_length(chunk.dictionary)
                decoded += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
        else:
            decoded += col.nbytes
    if decoded > MAX_UNZIPPED_BYTES:
        raise _refuse(p.name, Message("文件解码后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                      mb=format(decoded / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件；若文件来源不明，请勿打开")
    arrays = [pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in raw.columns]
    table = pa.Table.from_arrays(arrays, names=raw.column_names)
    return Table(file=p.name, sheet=p.stem, _rows=None, sha256=digest.hexdigest(), size=size, arrow=table)
