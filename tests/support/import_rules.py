"""The house rules of the package layout, checked over the import graph (a small ast walk).

    core → platform → capabilities → app and CLI

- ``qunlian.core`` imports nothing of qunlian but itself;
- ``qunlian.platform`` imports only core and itself, never a capability;
- a capability imports core, platform, itself, and of another capability only its public modules
  (``service`` and ``models``);
- a capability's domain modules (everything but its web and CLI modules) import no web framework,
  no CLI framework, no web kit and none of its own web or CLI modules;
- only the top (``qunlian.app``, ``qunlian.cli``, ``qunlian.installed``) imports the top.

Every import counts, also one inside a function: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

TOP = {"app", "cli", "installed"}
PUBLIC = {"service", "models"}
WEB_FRAMEWORKS = ("fastapi", "starlette", "jinja2", "typer", "click", "uvicorn")


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def is_interface(module: str) -> bool:
    """Web and CLI modules of a capability (routes, API, commands)."""
    last = module.rsplit(".", 1)[-1]
    return last in ("web", "api", "cli") or last.endswith(("_web", "_cli", "_api"))


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from qunlian.x import y` may import the module qunlian.x.y
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names] or [(node.lineno, target)]
    return out


def _module_of(root: Path, path: Path, package: str) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def check(root: Path, capabilities: set[str], package: str = "qunlian") -> list[Violation]:
    """Every import in the package at ``root`` (the folder of ``package``) that breaks a rule."""
    found: list[Violation] = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:  # Alembic scripts: generated, read no capability
            continue
        module = _module_of(root, path, package)
        parts = module.split(".")
        layer = parts[1] if len(parts) > 1 else ""
        for line, target in _imports(path, module):
            t = target.split(".")
            if not interface_ok(module, layer, target):
                found.append(Violation(module, line, target, "domain code imports no web or CLI layer"))
            if t[0] != package:
                continue
            tlayer = t[1] if len(t) > 1 else ""
            if tlayer in TOP and layer not in TOP:
                found.append(Violation(module, line, target, "only the top (app, cli, installed) imports the top"))
            elif layer == "core" and tlayer not in ("core", ""):
                found.append(Violation(module, line, target, "core imports nothing of qunlian"))
            elif layer == "platform" and tlayer not in ("core", "platform", ""):
                found.append(Violation(module, line, target, "platform imports no capability"))
            elif layer in capabilities and tlayer in capabilities and tlayer != layer:
                public = len(t) > 2 and t[2] in PUBLIC
                if not public:
                    found.append(Violation(module, line, target,
                                           f"a capability uses another only through its {' / '.join(sorted(PUBLIC))}"))
    return found


def interface_ok(module: str, layer: str, target: str) -> bool:
    """Domain modules of a capability import no web/CLI framework and no web kit or interface module."""
    if layer in ("core",) or layer in TOP or is_interface(module):
        return True
    if layer == "platform":
        return True  # the web kit is part of the platform
    t = target.split(".")
    if t[0] in WEB_FRAMEWORKS:
        return False
    if t[0] == "qunlian" and len(t) > 2 and t[1] == "platform" and t[2] == "web":
        return False
    if t[0] == "qunlian" and len(t) > 2 and is_interface(".".join(t[:3])):
        return False
    if t[0] == "qunlian" and len(t) > 3 and is_interface(".".join(t[:4])):
        return False
    return True
