"""The package layout holds (docs/architecture.md): the import rules over the real tree, a planted
bad import is caught, the registry is the one place that lists capabilities, and no router or
template lists roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from import_rules import check

from qunlian.installed import CAPABILITIES, metadata, nav
from qunlian.platform.permissions import ACTIONS

SRC = Path(__file__).parents[2] / "src" / "qunlian"
NAMES = {cap.name for cap in CAPABILITIES}


def test_the_tree_keeps_the_import_rules():
    assert [str(v) for v in check(SRC, NAMES)] == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "qunlian"
    for rel, text in {"__init__.py": "", "core/__init__.py": "", "platform/__init__.py": "",
                      "alpha/__init__.py": "", "beta/__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("files", "rule"), [
    ({"core/units.py": "from qunlian.platform import db\n"}, "core imports nothing of qunlian"),
    ({"platform/db.py": "def f():\n    from qunlian.alpha.service import x\n"}, "platform imports no capability"),
    ({"alpha/service.py": "from qunlian.beta.engine import run\n"}, "only through its models / service"),
    ({"alpha/engine.py": "import fastapi\n"}, "domain code imports no web or CLI layer"),
    ({"alpha/engine.py": "from qunlian.platform.web.deps import render\n"}, "domain code imports no web or CLI layer"),
    ({"alpha/engine.py": "from qunlian.alpha import web\n"}, "domain code imports no web or CLI layer"),
    ({"beta/service.py": "from qunlian import installed\n"}, "only the top"),
    ({"alpha/engine.py": "from ..beta.runs import go\n"}, "only through its models / service"),
])
def test_a_planted_bad_import_is_caught(tmp_path: Path, files: dict[str, str], rule: str):
    found = check(_plant(tmp_path, files), {"alpha", "beta"})
    assert found and all(rule in v.rule for v in found), [str(v) for v in found]


def test_allowed_imports_pass(tmp_path: Path):
    root = _plant(tmp_path, {
        "platform/db.py": "from qunlian.core import units\n",
        "alpha/models.py": "from qunlian.platform.db import Base\n",
        "alpha/engine.py": "from qunlian.beta.service import x\nfrom qunlian.beta.models import T\n",
        "alpha/web.py": "import fastapi\nfrom qunlian.platform.web.deps import render\nfrom qunlian.alpha import engine\n",
        "app.py": "from qunlian.alpha import web\nfrom qunlian.beta.engine import y\n",
    })
    assert [str(v) for v in check(root, {"alpha", "beta"})] == []


def test_every_capability_is_a_package_declaring_itself_once():
    installed = (SRC / "installed.py").read_text(encoding="utf-8")
    for cap in CAPABILITIES:
        assert cap.package == f"qunlian.{cap.name}" and (SRC / cap.name / "__init__.py").is_file()
        assert (SRC / cap.name / "__init__.py").read_text(encoding="utf-8").count("CAPABILITY = Capability(") == 1
        assert f"{cap.name}.CAPABILITY" in installed
    # the app factory, the CLI and Alembic read the registry: they name no capability's routers or groups
    for top in ("app.py", "cli.py", "platform/migrations/env.py"):
        text = (SRC / top).read_text(encoding="utf-8")
        assert not re.search(r"from qunlian\.(%s)\b" % "|".join(sorted(NAMES - {"accounts"})), text), top


def test_every_table_belongs_to_a_capability_or_the_platform():
    owners = {cap.models for cap in CAPABILITIES if cap.models} | {"qunlian.platform.models"}
    tables = metadata().sorted_tables
    assert tables
    for table in tables:
        module = next(m.class_.__module__ for m in _mappers() if m.local_table is table)
        assert module in owners, (table.name, module)


def _mappers():
    from qunlian.platform.db import Base

    return list(Base.registry.mappers)


def test_nav_permissions_are_declared_actions():
    for entry in nav():
        assert entry.action is None or entry.action in ACTIONS, entry


ROLE = r"""["'](?:admin|analyst|department|town|chain|enterprise)["']"""
ROLE_LIST = re.compile(rf"[(\[{{]\s*{ROLE}\s*,\s*{ROLE}")  # ("admin", "analyst" …


def test_no_role_list_outside_the_permissions_module():
    """Who may do what is asked of qunlian.platform.permissions; routes, templates and domain code
    list no roles (a tuple like ("admin", "analyst"))."""
    offenders = []
    for path in [*SRC.rglob("*.py"), *SRC.rglob("*.html")]:
        if path == SRC / "platform" / "permissions.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_LIST.search(line) or re.search(r"role\s+(not\s+)?in\s+[(\[]", line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert offenders == []


def test_no_router_filters_result_rows_or_recomputes_a_final_grade():
    """Scoping of firm rows is the query layer's; the final (调档后) class has one rule (per_mu.runs.final_of)."""
    for path in [*SRC.glob("*/web.py"), *SRC.glob("*/*_web.py"), *SRC.glob("*/api.py")]:
        text = path.read_text(encoding="utf-8")
        code = re.sub(r'"""[\s\S]*?"""', "", text)  # docstrings may name the filter
        assert "enterprise_filter(" not in code and "pc.is_in" not in code, path
        assert "grade_after" not in code, path
