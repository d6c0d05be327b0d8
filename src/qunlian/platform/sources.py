"""Data sources: what a capability declares about each kind of file it imports, next to its importer.

A ``DataSource`` is one sender's file (the tax bureau's 税收, the power company's 用电量 …): its
columns as the template prints them, the importer that reads it, and a template version. A
capability lists its sources in ``Capability.sources``; the data-exchange capability makes a template
of each (``qunlian templates``, the import page), recognises an uploaded file's source by its headers
or by the stamp a template carries, and records the source and version on the import batch.

The stamp is a custom document property (``qunlian.template`` = "tax@2026.1") that Excel and WPS keep
when they save, plus the same text in the template's title row for a file that lost its properties.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

STAMP_PROPERTY = "qunlian.template"
_STAMP_TEXT = re.compile(r"模板\s*([a-z][a-z0-9-]*)\s*v(\d+(?:\.\d+)*)")
_CUSTOM_PART = "docProps/custom.xml"
_MAX_CUSTOM_BYTES = 256 * 1024  # a few properties; anything larger is not ours


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template: the importer's canonical column and how the template presents it."""

    name: str  # the importer's canonical column, e.g. tax_wan
    heading: str  # msgid: the header as printed, e.g. 税收
    kind: str = "text"  # text | longtext | uscc | year | date | number | integer | bool | choice
    unit: str | None = None  # the unit the unit row suggests (dimensioned columns), e.g. 万元
    units: tuple[str, ...] = ()  # the units offered in the unit row's dropdown
    required: bool = False
    choices: str | None = None  # a named list for a dropdown: towns | parks | chains | yes_no | exemptions
    note: str = ""  # msgid: one line of the instructions sheet
    example: str = ""  # an example value for the instructions sheet


@dataclass(frozen=True)
class DataSource:
    """One kind of file a capability imports (a sender and what it sends)."""

    key: str  # e.g. tax; stamped in the template and recorded on the batch
    title: str  # msgid, e.g. 税收数据
    provider: str  # msgid, e.g. 税务局
    version: str  # e.g. 2026.1; raise it when the template's columns change
    kind: str  # the importer's kind, e.g. enterprise-years (ImportBatch.kind)
    importer: str  # "module:function" of the importer (as in the registry)
    columns: tuple[TemplateColumn, ...]
    instructions: tuple[str, ...] = ()  # msgids: what the sender should know
    earlier_versions: tuple[str, ...] = ()  # versions still read (by their headers)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stamp(self) -> str:
        return f"{self.key}@{self.version}"

    def column_names(self) -> set[str]:
        return {c.name for c in self.columns}


@dataclass(frozen=True)
class Recognised:
    """Which source a file is: from its stamp or its headers; ``key`` "" when none fits."""

    key: str = ""
    version: str = ""
    notes: tuple[str, ...] = ()


_INSTALLED: list[DataSource] = []


def install(sources: Iterable[DataSource]) -> None:
    """Called by the top (app factory, root command) with ``qunlian.installed.sources()``: the
    platform and the data-exchange capability read the installed sources here, never the registry."""
    _INSTALLED[:] = list(sources)


def installed_sources() -> list[DataSource]:
    return list(_INSTALLED)


def read_stamp(path: Path, rows_above_header: Iterable[Sequence[Any]] = ()) -> tuple[str, str] | None:
    """(key, version) stamped in a file: its custom document property, else its title row."""
    if path.suffix.lower() in (".xlsx", ".xlsm") and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo(_CUSTOM_PART) if _CUSTOM_PART in zf.namelist() else None
                if info is not None and info.file_size <= _MAX_CUSTOM_BYTES:
                    found = _stamp_from_custom(zf.read(info))
                    if found:
                        return found
        except (zipfile.BadZipFile, OSError, ElementTree.ParseError, KeyError):
            pass
    for cells in rows_above_header:
        for cell in cells:
            m = _STAMP_TEXT.search(str(cell)) if cell is not None else None
            if m:
                return m.group(1), m.group(2)
    return None


def _stamp_from_custom(data: bytes) -> tuple[str, str] | None:
    root = ElementTree.fromstring(data)
    for prop in root:
        if prop.get("name") == STAMP_PROPERTY:
            text = "".join(prop.itertext()).strip()
            key, _, version = text.partition("@")
            if key and version:
                return key, version
    return None


def recognise(sources: Sequence[DataSource], columns: Iterable[str], stamp: tuple[str, str] | None) -> Recognised:
    """The source a file is. A stamp names it; else the source whose columns cover the file's and
    match most of them (a file mixing several sources' columns is recognised as none, which is fine:
    the importer takes any canonical columns)."""
    by_key = {s.key: s for s in sources}
    if stamp is not None and stamp[0] in by_key:
        src = by_key[stamp[0]]
        key, version = stamp
        if version == src.version:
            return Recognised(key, version)
        if _version_tuple(version) < _version_tuple(src.version):
            return Recognised(key, version, (
                f"文件用的是“{src.title}”旧版模板（v{version}），当前为 v{src.version}：已按表头读取；下次请下载新模板",))
        return Recognised(key, version, (
            f"文件的模板版本 v{version} 比本平台的 v{src.version} 新：已按表头读取，请核对列是否都被识别",))
    present = {c for c in columns if c not in ("uscc", "name", "year")}
    if not present:
        return Recognised()
    best: tuple[float, DataSource] | None = None
    for src in sources:
        names = src.column_names() - {"uscc", "name", "year"}
        if not names or not present <= names:
            continue
        score = len(present) / len(names)
        if best is None or score > best[0]:
            best = (score, src)
    return Recognised(best[1].key) if best else Recognised()


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


__all__ = ["STAMP_PROPERTY", "DataSource", "Recognised", "TemplateColumn", "read_stamp", "recognise"]
