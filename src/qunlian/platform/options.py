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


def cli_actor(by: str | None = None) -> str:
    """Who a command acts as, for 录入人 / 评价人 and the audit log: ``--by`` when given, else the
    operating-system user running it (a person, not "cli"); "cli" only when the system names no one."""
    if by and by.strip():
        return by.strip()
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return "cli"


def by_option(help: str = "操作人（记入审计日志；默认当前系统用户）/ who, for the audit log (default: the OS user)") -> Any:  # noqa: A002
    """`--by NAME` on every command that writes: who acts (``cli_actor`` of it)."""
    return typer.Option(None, "--by", metavar="NAME", help=help)
