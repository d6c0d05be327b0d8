"""Command-line options shared by every capability's commands (one spelling, one help text)."""

from __future__ import annotations

from typing import Any

import typer


def region_option() -> Any:
    """`--region CODE` on every command that reads firm data: the region whose firms are read.
    Unset, the installation's root region, so a single-county installation needs no option."""
    return typer.Option(None, "--region", metavar="CODE",
                        help="地区代码、名称或别名（默认本安装的根地区）/ region code, name or alias "
                             "(default: the installation's root region; see `qunlian regions list`)")
