"""Errors that reach users. Every input problem says where it is and how to fix it.

Texts are Chinese msgids (``N_("…")`` literals, or ``Message("… %(x)s …", x=…)`` with parameters);
``str()`` gives the Chinese text, ``render(gettext)`` the text through a catalogue
(``qunlian.platform.i18n.explain`` for one language).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qunlian.core.messages import N_, Message

Gettext = Callable[[str], str]


def _same(message: str) -> str:
    return message


def _tr(text: str, gettext: Gettext) -> str:
    """A msgid or Message through ``gettext``."""
    if isinstance(text, Message):
        return text.render(gettext)
    return gettext(text) if text else text


def _say(gettext: Gettext, msgid: str, **params: object) -> str:
    return gettext(msgid) % params


class QunlianError(Exception):
    """Base class for errors shown to users as a message, never as a stack trace."""

    def render(self, gettext: Gettext = _same) -> str:
        """The message through a catalogue (its first argument, when a msgid or Message)."""
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return _tr(self.args[0], gettext)
        return gettext(str(self))


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

    def where(self, gettext: Gettext = _same) -> str:
        parts = []
        if self.file:
            parts.append(_say(gettext, N_("文件 %(file)s"), file=self.file))
        if self.sheet:
            parts.append(_say(gettext, N_("工作表 %(sheet)s"), sheet=self.sheet))
        if self.row is not None:
            parts.append(_say(gettext, N_("第 %(row)s 行"), row=self.row))
        if self.column:
            parts.append(_say(gettext, N_("列 %(column)s"), column=self.column))
        return gettext(N_("，")).join(parts)

    def render(self, gettext: Gettext = _same) -> str:
        """Place, message, value and fix through ``gettext`` (the message and fix are msgids or Messages)."""
        text = _tr(self.message, gettext)
        if self.value is not None and self.value != "":
            text += _say(gettext, N_("（值：%(value)s）"), value=repr(self.value))
        if self.fix:
            text += _say(gettext, N_("。修改方法：%(fix)s"), fix=_tr(self.fix, gettext))
        where = self.where(gettext)
        return _say(gettext, N_("%(where)s：%(text)s"), where=where, text=text) if where else text

    def __str__(self) -> str:
        return self.render()

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
    summary: str = N_("输入数据未通过校验，未写入任何数据")

    def __post_init__(self) -> None:
        super().__init__(self.summary)

    def __str__(self) -> str:
        return self.render()

    def render(self, gettext: Gettext = _same) -> str:
        lines = [_say(gettext, N_("%(summary)s（共 %(n)s 个问题）："), summary=_tr(self.summary, gettext),
                      n=len(self.problems))]
        lines += [f"  - {p.render(gettext)}" for p in self.problems]
        return "\n".join(lines)
