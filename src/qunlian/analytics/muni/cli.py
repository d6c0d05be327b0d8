"""CLI commands of this capability (to be filled in)."""

import typer


def register(app: typer.Typer) -> None:
    """Attach this capability's commands to the main `qunlian` app."""
