"""Loading 亩均 method presets: YAML → strict schema, with errors that name file, key and reason.

Built-in presets live in ``qunlian/rules/presets/muni/*.yaml``; a county adds its own methods as
YAML files in ``<data dir>/methods/muni/`` (or passes a file path). Two versions of the same method
(same ``method`` family) whose effective periods overlap are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.per_mu.schema import Method

PRESETS = Path(__file__).parent / "presets"


class MethodError(ValidationFailed):
    """A method file was refused. Carries one Problem per (file, key, reason)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    pass


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _key(loc: tuple[Any, ...], data: Any) -> str:
    """'parts[0].indicators[2].weight' — with the indicator/part code where one is known."""
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


def parse_method(data: Any, file: str) -> Method:
    if not isinstance(data, dict):
        raise MethodError([Problem("方法文件的顶层必须是键值表 (mapping)", file=file)], summary=f"方法文件 {file} 被拒绝")
    try:
        return Method.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            key = _key(loc, data)
            msg = err.get("msg", "invalid")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key 未知的键"
            problems.append(
                Problem(f"键 {key}：{msg}", fix=_fix(err), file=file, column=None, value=err.get("input") if err.get("type") != "extra_forbidden" else None)
            )
        raise MethodError(problems, summary=f"方法文件 {file} 被拒绝") from None


def _fix(err: dict) -> str:
    t = err.get("type", "")
    if t == "extra_forbidden":
        return "删除该键或检查拼写（见 docs/muni.md 的方法格式）"
    if t.startswith("float") or t.startswith("int"):
        return "填写数字（不加引号、不带单位）"
    if t == "literal_error":
        return "使用列出的取值之一"
    if t == "missing":
        return "补上这个必填键"
    return ""


def load_method(path: str | Path) -> Method:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise MethodError([Problem(f"无法读取方法文件：{exc.strerror}", file=str(p))], summary=f"方法文件 {p} 被拒绝") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise MethodError([Problem(f"YAML 格式错误：{exc}", file=str(p))], summary=f"方法文件 {p} 被拒绝") from None
    return parse_method(data, str(p))


def check_overlaps(methods: Iterable[tuple[Method, str]]) -> None:
    """Refuse two versions of one method family whose effective periods overlap, or a repeated id."""
    problems: list[Problem] = []
    items = list(methods)
    for i, (a, fa) in enumerate(items):
        for b, fb in items[i + 1 :]:
            if a.id == b.id:
                problems.append(Problem(f"键 id：方法 id {a.id!r} 重复（另见 {fa}）", fix="每个版本使用不同的 id", file=fb))
            elif a.method == b.method and a.effective.overlaps(b.effective):
                problems.append(
                    Problem(
                        f"键 effective：方法 {b.method} 的版本 {b.version} 的有效期与版本 {a.version}（{fa}）重叠",
                        fix="调整 effective.from_year / to_year，使同一方法的各版本有效期互不重叠",
                        file=fb,
                    )
                )
    if problems:
        raise MethodError(problems, summary="方法版本冲突，未载入")


def method_dirs() -> list[Path]:
    from qunlian.platform.config import load_settings

    return [PRESETS, load_settings().data_dir / "methods" / "muni"]


def load_all(dirs: Iterable[Path] | None = None) -> dict[str, Method]:
    """Every method preset by id (built-in first, then the county's own), checked for overlaps."""
    found: list[tuple[Method, str]] = []
    for d in dirs if dirs is not None else method_dirs():
        if d.is_dir():
            for f in sorted(d.glob("*.yaml")):
                found.append((load_method(f), str(f)))
    check_overlaps(found)
    return {m.id: m for m, _ in found}


def get_method(ref: str, year: int | None = None, dirs: Iterable[Path] | None = None) -> Method:
    """A method by preset id (``zj-huangyan-2022``), by family and year (``zj-huangyan`` + 2022), or by file path."""
    p = Path(ref)
    if ref.endswith((".yaml", ".yml")) or p.is_file():
        method = load_method(p)
        return method
    methods = load_all(dirs)
    if ref in methods:
        return methods[ref]
    family = [m for m in methods.values() if m.method == ref]
    if family:
        if year is None:
            return max(family, key=lambda m: m.effective.from_year)
        for m in family:
            if m.effective.contains(year):
                return m
        periods = ", ".join(f"{m.version}: {m.effective.from_year}–{m.effective.to_year or ''}" for m in family)
        raise MethodError([Problem(f"方法 {ref} 没有适用于 {year} 年数据的版本（{periods}）")], summary="找不到方法版本")
    known = ", ".join(sorted(methods))
    raise MethodError([Problem(f"未知的方法 {ref!r}", fix=f"可用：{known}")], summary="找不到方法")
