"""Errors that reach users. Every input problem says where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field


class QunlianError(Exception):
    """Base class for errors shown to users as a message, never as a stack trace."""


@dataclass(frozen=True)
class Problem:
    """One problem in one place of an input: file, sheet, row, column, what is wrong and the fix.

    Rows are numbered as a user sees them in a spreadsheet (the header is row 1).
    """

    message: str
    fix: str = ""
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(f"文件 {self.file}")
        if self.sheet:
            parts.append(f"工作表 {self.sheet}")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列 {self.column}")
        return "，".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.value is not None and self.value != "":
            text += f"（值：{self.value!r}）"
        if self.fix:
            text += f"。修改方法：{self.fix}"
        where = self.where()
        return f"{where}：{text}" if where else text

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class ValidationFailed(QunlianError):
    """A batch was rejected; nothing was stored. Carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    summary: str = "输入数据未通过校验，未写入任何数据"

    def __post_init__(self) -> None:
        super().__init__(self.summary)

    def __str__(self) -> str:
        lines = [f"{self.summary}（共 {len(self.problems)} 个问题）："]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
