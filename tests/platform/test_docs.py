"""docs/ is part of the product (datasette's habit): every nav entry, every CLI command and every
shipped preset appears in the user guide or the developer notes, and every capability names a
guide page that exists."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from qunlian.cli import app
from qunlian.installed import CAPABILITIES, nav

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
TEXT = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def _commands(command, path: list[str]):
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield " ".join(path)
        return
    for name, sub in subcommands.items():
        if not getattr(sub, "hidden", False):
            yield from _commands(sub, [*path, name])


def test_every_cli_command_is_documented():
    commands = list(_commands(get_command(app), ["qunlian"]))
    assert len(commands) > 30  # the walk found the groups' commands, not only the root
    assert [c for c in commands if c not in TEXT] == []


def test_every_nav_entry_is_documented():
    assert [e.href for e in nav() if f"`{e.href}" not in TEXT and f"({e.href}" not in TEXT and e.href not in TEXT] == []


def test_every_shipped_preset_is_documented():
    presets = sorted((ROOT / "src" / "qunlian").glob("*/presets/*.yaml"))
    assert presets
    assert [p.name for p in presets if p.stem not in TEXT] == []


def test_every_capability_names_an_existing_guide_page():
    for cap in CAPABILITIES:
        assert cap.docs and (DOCS / cap.docs).is_file(), cap.name
        assert cap.docs in (DOCS / "index.md").read_text(encoding="utf-8"), f"docs/index.md does not link {cap.docs}"


def test_every_permission_is_documented_with_its_holders():
    """docs/web.md's table of actions says who holds each one, as the permissions module does."""
    from qunlian.platform.permissions import ACTIONS, ROLE_NAMES, ROLES

    web = (DOCS / "web.md").read_text(encoding="utf-8")
    for action in ACTIONS.values():
        row = next((line for line in web.splitlines() if line.startswith(f"| `{action.name}` |")), None)
        assert row is not None, f"docs/web.md lists no row for {action.name}"
        holders = row.rsplit("|", 2)[1]
        named = {r for r in ROLES if ROLE_NAMES[r] in holders.replace("持有访问授权的部门", "")}
        assert named == set(action.roles), (action.name, holders)
        assert ("访问授权" in holders) == action.by_grant, action.name
