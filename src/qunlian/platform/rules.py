"""The one strict loader of qunlian's YAML files: presets, methods and shipped data (DESIGN §4).

Every YAML file qunlian reads (亩均 methods, status lights, the concept registry, the demo
calibration, plan, region and industry-system data) goes through this module:

- ``parse`` / ``load``: safe YAML (no Python objects), a key repeated in one mapping refused at any
  depth, naming the file, the line and the key path; then the file's schema.
- ``Strict``: the base of every schema — an unknown or misplaced key is an error, never ignored.
  ``StrictValues`` also takes values as written (a quoted "20" is not a number) and freezes the result.
- ``Source``: one citation vocabulary (title, publisher, 文号, date, url, seed, sections, note);
  ``Cited``: files that must cite at least one source; ``Dated``: rule presets, which also carry an
  ``id``, a ``version`` and the ``effective`` years they apply to.
- every refusal is a ``RulesError`` (a ``ValidationFailed``): one ``Problem`` per (file, key, reason)
  with a fix; ``Problem.column`` holds the key path and ``Problem.row`` the line in the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from importlib.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Message

M = TypeVar("M", bound=BaseModel)
Gettext = Callable[[str], str]
PathStyle = Literal["labelled", "dotted"]

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
"""A preset or file id: lower-case letters, digits and hyphens (``zj-huangyan-2022``)."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text that may not be empty or blank."""


# --------------------------------------------------------------------------- schemas


class Strict(BaseModel):
    """Base of every preset and data-file schema: unknown keys are errors; text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StrictValues(Strict):
    """Strict, and values are taken as written (a quoted number is not a number); frozen once loaded."""

    model_config = ConfigDict(strict=True, frozen=True)


class Period(StrictValues):
    """The data years a file applies to (inclusive); ``to_year`` empty = open-ended."""

    from_year: int = Field(ge=1990, le=2100)
    to_year: int | None = Field(default=None, ge=1990, le=2100)

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.to_year is not None and self.to_year < self.from_year:
            raise ValueError(f"to_year {self.to_year} is before from_year {self.from_year}")
        return self

    def contains(self, year: int) -> bool:
        return self.from_year <= year and (self.to_year is None or year <= self.to_year)

    def overlaps(self, other: Period) -> bool:
        a_end = self.to_year if self.to_year is not None else 10**6
        b_end = other.to_year if other.to_year is not None else 10**6
        return self.from_year <= b_end and other.from_year <= a_end


class Source(StrictValues):
    """Where a file's content comes from, so that a user can check it.

    ``title`` is the document as printed (or, for qunlian's own conventions, says so: "qunlian
    convention …"); ``seed`` is the file name under shared/seeds where the content was read.
    """

    title: Text
    publisher: str | None = None
    doc_number: str | None = None  # 文号, where the document prints one
    published: dt.date | None = None  # date of issue as printed
    url: str | None = None
    seed: str | None = None  # file name under shared/seeds
    sections: list[str] = Field(default_factory=list)  # tables / sections the content comes from
    note: str | None = None

    def cite(self) -> str:
        """《title》，文号，date；sections（seed file）— one line for a data row's source column."""
        parts = [f"《{self.title}》"]
        if self.doc_number:
            parts.append(self.doc_number)
        if self.published:
            parts.append(self.published.isoformat())
        text = "，".join(parts)
        if self.sections:
            text += "；" + "、".join(self.sections)
        return f"{text}（seed {self.seed}）" if self.seed else text


class Cited(Strict):
    """A file that cites where its content comes from: at least one source."""

    sources: list[Source] = Field(min_length=1)


class Dated(Strict):
    """A rule preset: an id, a version, the years it applies to, and its sources (at least one).

    Two versions of one rule differ in ``id`` and ``version``; ``effective`` says which data years
    each applies to, so that a result of 2023 can always be explained by the version of 2023.
    """

    id: Id
    version: Text
    effective: Period
    sources: list[Source] = Field(min_length=1)

    def label(self) -> str:
        return f"{self.id}@{self.version}"


# --------------------------------------------------------------------------- errors


def _same(text: str) -> str:
    return text


def _tr(text: str, gettext: Gettext) -> str:
    """A msgid, or a Message (which renders its parameters too), through ``gettext``."""
    renderer = getattr(text, "render", None)
    return renderer(gettext) if callable(renderer) else (gettext(text) if text else text)


class RulesError(ValidationFailed):
    """A YAML file was refused: one Problem per (file, key path, reason), each with a fix.

    Printed one problem a line as ``file: key.path: reason（值：…）（第 n 行）。修改方法：fix``.
    Subclasses name the kind of file in the summary (``kind``).
    """

    kind: ClassVar[str] = N_("数据文件")

    @classmethod
    def of(cls, file: str | None, problems: list[Problem]) -> RulesError:
        kind = Message(cls.kind)
        summary = (Message("%(kind)s %(file)s 未通过校验", kind=kind, file=file) if file
                   else Message("%(kind)s未通过校验", kind=kind))
        return cls(problems, summary=summary)

    @classmethod
    def one(cls, message: str, *, file: str | None = None, key: str | None = None, fix: str = "",
            line: int | None = None, value: object = None) -> RulesError:
        return cls.of(file, [Problem(message, fix=fix, file=file, column=key, row=line, value=value)])

    def render(self, gettext: Gettext = _same) -> str:
        """The summary and one line per problem, texts through ``gettext`` (msgids or Messages)."""
        lines = [gettext(N_("%(summary)s（共 %(n)s 个问题）：")) % {"summary": _tr(self.summary, gettext),
                                                                 "n": len(self.problems)}]
        lines += [f"  - {render(p, gettext)}" for p in self.problems]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def render(p: Problem, gettext: Gettext = _same) -> str:
    """One problem of a YAML file as a line: ``file: key: reason（值）（第 n 行）。修改方法：fix``."""
    text = _tr(p.message, gettext)
    if _scalar(p.value):
        text += gettext(N_("（值：%(value)s）")) % {"value": repr(p.value)}
    if p.row is not None:
        text += gettext(N_("（第 %(row)s 行）")) % {"row": p.row}
    if p.fix:
        text += gettext(N_("。修改方法：%(fix)s")) % {"fix": _tr(p.fix, gettext)}
    head = ": ".join(x for x in (p.file, p.column) if x)
    return f"{head}: {text}" if head else text


def _scalar(v: object) -> bool:
    return v is not None and v != "" and isinstance(v, str | int | float | bool | dt.date)


# --------------------------------------------------------------------------- YAML


def parse_yaml(text: str, file: str, *, error: type[RulesError] = RulesError) -> tuple[Any, Node | None]:
    """(data, node tree) of a YAML text: safe types only, a key repeated in any mapping refused."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _refuse_duplicates(loader, node, file, error)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = "; ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x)
        raise error.one(Message("YAML 格式错误：%(reason)s", reason=reason or str(exc)), file=file,
                        line=mark.line + 1 if mark else None, fix="检查缩进、冒号后的空格和引号是否成对") from None
    finally:
        loader.dispose()
    return data, node


def _key_of(loader: yaml.SafeLoader, key: Node) -> object:
    if isinstance(key, ScalarNode):
        try:
            value = loader.construct_object(key, deep=True)
            hash(value)
            return value
        except (yaml.YAMLError, TypeError):
            return (key.tag, key.value)
    return (key.tag, id(key))  # a mapping or list as a key: never equal to another


def _refuse_duplicates(loader: yaml.SafeLoader, root: Node, file: str, error: type[RulesError]) -> None:
    problems: list[Problem] = []
    visited: set[int] = set()

    def walk(node: Node, loc: tuple[Any, ...]) -> None:
        if id(node) in visited:  # an alias of a node already checked
            return
        visited.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[object, int] = {}
            for k, v in node.value:
                key = _key_of(loader, k)
                label = k.value if isinstance(k, ScalarNode) else "?"
                line = k.start_mark.line + 1
                if key in first:
                    problems.append(Problem(
                        Message("重复的键 %(key)s（第 %(line)s 行已有这个键）", key=repr(label), line=first[key]),
                        fix="同一层里每个键只能写一次：删去其中一处，或合并两处的内容",
                        file=file, row=line, column=key_path((*loc, label), None)))
                else:
                    first[key] = line
                walk(v, (*loc, label))
        elif isinstance(node, SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*loc, i))

    walk(root, ())
    if problems:
        raise error.of(file, problems)


def _line(node: Node | None, loc: Iterable[Any]) -> int | None:
    """The line (1-based) of the deepest node of ``loc`` found in the tree: where to look."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        nxt: Node | None = None
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == str(part):
                    line, nxt = k.start_mark.line + 1, v
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            continue  # a union tag or a key that is not in the file (missing): stay here
        node = nxt
    return line


# --------------------------------------------------------------------------- validation


def key_path(loc: Iterable[Any], data: Any, style: PathStyle = "labelled") -> str:
    """A key path as a user reads it.

    labelled: ``parts[0:above].indicators[2:tax_per_mu].weight`` (an item's code, id or grade where known);
    dotted:   ``parts.0.indicators.2.weight``.
    """
    loc = tuple(loc)
    if style == "dotted":
        return ".".join(str(x) for x in loc) or "(top level)"
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict):
                ident = node[part].get("code") or node[part].get("id") or node[part].get("grade")
                if ident:
                    label = f"[{part}:{ident}]"
            out += label
        else:
            out += ("." if out else "") + str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out or "(top level)"


def _reason(err: dict[str, Any]) -> str:
    t = err.get("type", "")
    if t == "extra_forbidden":
        loc = err.get("loc") or ("?",)
        return Message("未知的键 %(key)s（此处不允许）", key=repr(loc[-1]))
    if t == "missing":
        return N_("缺少必填的键")
    return str(err.get("msg", "invalid"))


def _fix(err: dict[str, Any], doc: str | None) -> str:
    t = err.get("type", "")
    where = f"（格式见 {doc}）" if doc else ""
    if t == "extra_forbidden":
        return f"删除该键或检查拼写{where}"
    if t.startswith(("float", "int")):
        return "填写数字（不加引号、不带单位）"
    if t.startswith("string"):
        return "写成文字；数字或日期样的文字要加引号，如 \"2024\""
    if t.startswith("date"):
        return "写成日期 YYYY-MM-DD（不加引号），如 2024-01-01"
    if t.startswith("bool"):
        return "填 true 或 false"
    if t == "literal_error":
        return "使用列出的取值之一"
    if t == "missing":
        return f"补上这个必填键{where}"
    if t == "too_short":
        return f"至少填写一项{where}"
    return ""


def validate(model: type[M], data: Any, file: str, *, error: type[RulesError] = RulesError,
             paths: PathStyle = "labelled", doc: str | None = None, node: Node | None = None) -> M:
    """Validate parsed YAML against a schema; every error names the file, the key path and a fix.

    node: the YAML node tree (from ``parse_yaml``), to name the line of each problem.
    doc: where the file's format is described, named in the fix of unknown and missing keys.
    """
    if not isinstance(data, dict):
        raise error.one(N_("顶层应为键值表"), file=file,
                        fix="文件的每一行写成“键: 值”；空文件或只有一个列表不行")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            extra = err.get("type") == "extra_forbidden"
            top_missing = err.get("type") == "missing" and len(loc) <= 1  # line 1 would say nothing
            problems.append(Problem(_reason(err), fix=_fix(err, doc), file=file, column=key_path(loc, data, paths),
                                    row=None if top_missing else _line(node, loc),
                                    value=None if extra else err.get("input")))
        raise error.of(file, problems) from None


def parse(model: type[M], text: str, file: str, *, error: type[RulesError] = RulesError,
          paths: PathStyle = "labelled", doc: str | None = None) -> M:
    """YAML text → schema, or ``error`` naming the file, the line and the key path of every problem."""
    data, node = parse_yaml(text, file, error=error)
    return validate(model, data, file, error=error, paths=paths, doc=doc, node=node)


def load(model: type[M], path: str | Path | Traversable, *, name: str | None = None,
         error: type[RulesError] = RulesError, paths: PathStyle = "labelled", doc: str | None = None) -> M:
    """Read a YAML file (UTF-8) and validate it. ``name``: how messages name the file (default: the path)."""
    shown = name or (str(path) if isinstance(path, str | Path) else path.name)
    p = Path(path) if isinstance(path, str) else path
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise error.one(Message("无法读取文件：%(reason)s", reason=reason), file=shown,
                        fix="检查路径；文件须为 UTF-8 编码的 YAML") from None
    return parse(model, text, shown, error=error, paths=paths, doc=doc)


__all__ = [
    "Cited",
    "Dated",
    "Id",
    "Period",
    "RulesError",
    "Source",
    "Strict",
    "StrictValues",
    "Text",
    "key_path",
    "load",
    "parse",
    "parse_yaml",
    "render",
    "validate",
]
