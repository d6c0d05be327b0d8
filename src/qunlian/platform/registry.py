"""What a capability declares about itself, once, in its package's ``__init__.py``.

The app factory, the root CLI, Alembic's metadata, the nav and the docs test read these
declarations through ``qunlian.installed``; the platform itself never imports a capability. Routers,
CLI groups and model modules are named as import strings so that reading the registry costs nothing:
the CLI does not import the web stack, and the web does not import the CLI.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation. ``action`` is the permission the user needs to see it
    (``qunlian.platform.permissions``); None means every signed-in user."""

    href: str
    label: str  # msgid (Chinese source text)
    action: str | None = None
    order: int = 100  # position in the nav, smallest first


@dataclass(frozen=True)
class ProfileSection:
    """A block that a capability adds to the enterprise profile (企业画像) without the enterprises
    capability knowing it: ``build(db, request, uscc)`` returns the block's context (or None: no block)
    for a firm the caller may see, rendered with ``template``. ``tables`` are the tables the block
    reads; the profile's cache is keyed on their fingerprint, so a change there shows at once."""

    key: str
    template: str
    build: Callable[..., dict[str, Any] | None]
    tables: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Capability:
    """A capability: one package holding its tables, domain code, CLI, routes, templates, presets, docs."""

    name: str  # the package name under qunlian/, e.g. "per_mu"
    title: str  # msgid, e.g. "亩均评价"
    package: str  # e.g. "qunlian.per_mu"
    models: str | None = None  # module declaring its tables, e.g. "qunlian.per_mu.models"
    routers: tuple[str, ...] = ()  # "module:attribute" of each APIRouter, in mounting order
    cli: tuple[str, ...] = ()  # "module:function"s taking the root Typer app and adding commands to it
    nav: tuple[NavEntry, ...] = ()
    docs: str | None = None  # its user-guide page under docs/, e.g. "muni.md"
    reference_data: str | None = None  # "module:function(session, actor) -> str", run by `qunlian init`
    templates: bool = True  # has a templates/ folder (templates/<name>/*.html)
    profile_sections: tuple[str, ...] = ()  # "module:attribute" of each ProfileSection it adds
    # "module:attribute" of each tuple of DataSources it imports (qunlian.platform.sources): the
    # data-exchange capability makes their templates and routes uploads to their importers
    sources: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.origin is not None, self.package
        return Path(spec.origin).parent

    @property
    def template_dir(self) -> Path | None:
        folder = self.directory / "templates"
        return folder if self.templates and folder.is_dir() else None


def resolve(ref: str) -> Any:
    """The object an import string ``"package.module:attribute"`` names."""
    module, _, attribute = ref.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attribute) if attribute else obj
