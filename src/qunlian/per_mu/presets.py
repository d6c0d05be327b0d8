"""Loading 亩均 method presets through ``qunlian.platform.rules``: errors name file, key path, line and fix.

Built-in presets live in ``qunlian/per_mu/presets/*.yaml``; a county adds its own methods as
YAML files in ``<data dir>/methods/muni/`` (or passes a file path). Two versions of the same method
(same ``method`` family) whose effective periods overlap are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qunlian.core.errors import Problem
from qunlian.core.messages import N_
from qunlian.per_mu.schema import Method
from qunlian.platform import rules

PRESETS = Path(__file__).parent / "presets"
FORMAT_DOC = "docs/muni.md"


class MethodError(rules.RulesError):
    """A method file was refused. Carries one Problem per (file, key, reason)."""

    kind = N_("方法文件")


def parse_method(data: Any, file: str) -> Method:
    """A method from parsed YAML (a dict); errors name the file and the key path (``parts[0:above].…``)."""
    return rules.validate(Method, data, file, error=MethodError, doc=FORMAT_DOC)


def load_method(path: str | Path) -> Method:
    """A method file: strict YAML (no repeated keys) against the strict schema."""
    return rules.load(Method, Path(path), error=MethodError, doc=FORMAT_DOC)


def check_overlaps(methods: Iterable[tuple[Method, str]]) -> None:
    """Refuse two versions of one method family whose effective periods overlap, or a repeated id."""
    problems: list[Problem] = []
    items = list(methods)
    for i, (a, fa) in enumerate(items):
        for b, fb in items[i + 1 :]:
            if a.id == b.id:
                problems.append(Problem(f"方法 id {a.id!r} 重复（另见 {fa}）", fix="每个版本使用不同的 id", file=fb, column="id"))
            elif a.method == b.method and a.effective.overlaps(b.effective):
                problems.append(
                    Problem(
                        f"方法 {b.method} 的版本 {b.version} 的有效期与版本 {a.version}（{fa}）重叠",
                        fix="调整 effective.from_year / to_year，使同一方法的各版本有效期互不重叠",
                        file=fb,
                        column="effective",
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
