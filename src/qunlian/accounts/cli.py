"""`qunlian users …`: users, roles, scopes and department access grants."""

from __future__ import annotations

import typer

from qunlian.platform.options import cli_actor

from qunlian.platform.numbers import id_argument

from qunlian.platform.i18n import N_, echo, explain, say  # in QUNLIAN_LANG's language, Chinese by default
from qunlian.platform.permissions import ROLES

users_app = typer.Typer(help="用户与权限 / users, roles and scopes", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(say(message), err=True)
    raise typer.Exit(code)


def _engine():
    from qunlian.platform.db import is_initialised, make_engine

    engine = make_engine()
    if not is_initialised(engine):
        _fail(N_("数据库尚未初始化：请先运行 qunlian init"))
    return engine


@users_app.command("add")
def users_add(
    username: str = typer.Option(..., "--username", help="登录名"),
    password: str = typer.Option(..., "--password", prompt="密码 password", hide_input=True, confirmation_prompt=True,
                                 help="初始密码（至少 10 个字符，含大小写字母、数字、符号中至少 3 类；缺省时提示输入）"),
    role: str = typer.Option(..., "--role", help=f"角色：{' | '.join(ROLES)}"),
    town: str | None = typer.Option(None, "--town", help="角色 town：镇街道代码或名称"),
    chain: str | None = typer.Option(None, "--chain", help="角色 chain：产业链节点 体系:代码（如 4q8l:nev；代码只在一个体系中出现时可只写代码）"),
    uscc: str | None = typer.Option(None, "--uscc", help="角色 enterprise：企业统一社会信用代码"),
    department: str | None = typer.Option(None, "--department", help="角色 department：部门名称"),
    display_name: str = typer.Option("", "--display-name", help="显示名"),
    region: str | None = typer.Option(None, "--region", metavar="CODE",
                                      help="角色 admin/analyst/department：所属地区代码（默认本安装的根地区，看全部）"),
    must_change: bool = typer.Option(True, "--must-change/--no-must-change",
                                     help="首次登录须修改密码（缺省：是；命令行上的密码会留在 shell 历史中）。"
                                          "--no-must-change 只用于只调接口的系统账号"),
) -> None:
    """新增用户 / add a user with a role and its scope."""
    from qunlian.accounts.service import AccountError, add_user, describe_scope
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            user = add_user(session, username=username, password=password, role=role, town=town, chain=chain,
                            uscc=uscc, department=department, display_name=display_name, region=region,
                            actor=cli_actor(), must_change_password=must_change)
            scope = describe_scope(session, user)
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已新增用户 added: {username}  角色 role: {role}  范围 scope: {scope}")
    if must_change:
        echo(N_("首次登录时须修改密码 / the password is to be changed at first sign-in"))


@users_app.command("list")
def users_list() -> None:
    """列出用户 / list users."""
    from qunlian.accounts.service import list_users
    from qunlian.platform.db import session_factory

    with session_factory(_engine())() as session:
        rows = list_users(session)
    if not rows:
        echo(N_("还没有用户"))
        return
    for r in rows:
        state = "已停用 disabled" if r["disabled"] else "启用 active"
        if r["locked"]:
            state += " · 已锁定 locked"
        if r["must_change_password"]:
            state += " · 待改密码 must change"
        typer.echo(f"{r['username']}\t{r['role']}\t{r['scope']}\t{state}")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(..., help="要停用的用户名")) -> None:
    """停用用户（立即失效：会话与令牌） / disable a user; its sessions and tokens stop working at once."""
    from qunlian.accounts.service import AccountError, disable_user
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            disable_user(session, username, actor=cli_actor())
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已停用 disabled: {username}")


@users_app.command("unlock")
def users_unlock(username: str = typer.Argument(..., help="要解锁的用户名")) -> None:
    """解锁因登录失败次数过多而锁定的账号 / unlock an account locked after repeated failed logins."""
    from qunlian.accounts.service import AccountError, unlock_user
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            unlock_user(session, username, actor=cli_actor())
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已解锁 unlocked: {username}")


@users_app.command("password")
def users_password(
    username: str = typer.Argument(..., help="用户名"),
    password: str = typer.Option(..., "--password", prompt="新密码 new password", hide_input=True,
                                 confirmation_prompt=True, help="新密码（规则同 users add；缺省时提示输入）"),
    must_change: bool = typer.Option(True, "--must-change/--no-must-change",
                                     help="下次登录须修改密码（缺省：是）"),
) -> None:
    """重设用户密码（该用户的会话与令牌立即失效）/ reset a user's password; its sessions and tokens end."""
    from qunlian.accounts.service import AccountError, reset_password
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            reset_password(session, username, password, actor=cli_actor(), must_change_password=must_change)
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已重设密码 password reset: {username}")
    if must_change:
        echo(N_("下次登录时须修改密码 / the password is to be changed at next sign-in"))


@users_app.command("role")
def users_role(
    username: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option(..., "--role", help=f"新角色：{' | '.join(ROLES)}"),
    town: str | None = typer.Option(None, "--town", help="角色 town：镇街道代码或名称"),
    chain: str | None = typer.Option(None, "--chain", help="角色 chain：产业链节点 体系:代码"),
    uscc: str | None = typer.Option(None, "--uscc", help="角色 enterprise：企业统一社会信用代码"),
    department: str | None = typer.Option(None, "--department", help="角色 department：部门名称"),
    region: str | None = typer.Option(None, "--region", metavar="CODE", help="角色 admin/analyst/department：所属地区代码"),
) -> None:
    """修改用户的角色与范围（会话与令牌立即失效）/ change a user's role and scope; its sessions and tokens end."""
    from qunlian.accounts.service import AccountError, describe_scope, set_role
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            user = set_role(session, username, role=role, town=town, chain=chain, uscc=uscc, department=department,
                            region=region, actor=cli_actor())
            scope = describe_scope(session, user)
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已修改 changed: {username}  角色 role: {role}  范围 scope: {scope}")


@users_app.command("demo")
def users_demo(
    password: str | None = typer.Option(None, "--password", help="所有演示账号共用的密码；缺省为随机"),
) -> None:
    """为每个角色重设演示账号（新密码，范围取库中真实数据）/ reset one demo login per role (new passwords), scoped to rows of the store."""
    from qunlian.accounts.service import DEMO_LOGINS_FILE, AccountError, create_demo_users, format_logins, write_demo_logins
    from qunlian.platform.config import load_settings
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            logins = create_demo_users(session, password=password, actor=cli_actor())
    except AccountError as exc:
        _fail(explain(exc))
    write_demo_logins(load_settings().data_dir / DEMO_LOGINS_FILE, logins)  # what `qunlian demo` prints from now on
    typer.echo(format_logins(logins))


def register(app: typer.Typer) -> None:
    """Attach this capability's commands to the main `qunlian` app."""
    app.add_typer(users_app, name="users")


@users_app.command("grant")
def users_grant(
    username: str = typer.Option(..., "--username", help="部门用户的登录名（角色 department）"),
    reason: str = typer.Option(..., "--reason", help="授权事由（必填，写入审计日志）"),
    all_firms: bool = typer.Option(False, "--all", help="全市企业（只读）"),
    town: str | None = typer.Option(None, "--town", help="一个镇街道的企业：代码或名称"),
    chain: str | None = typer.Option(None, "--chain", help="一条产业链的企业：体系:代码（代码唯一时可只写代码）"),
    expires: str | None = typer.Option(None, "--expires", help="到期日 YYYY-MM-DD（含当日）；缺省为不到期"),
) -> None:
    """授予部门用户只读查看企业数据的权限 / grant a department user read-only access to firms."""
    import datetime as dt

    from qunlian.accounts.grants import describe_grant, grant_access
    from qunlian.accounts.service import AccountError
    from qunlian.platform.db import transaction

    chosen = [name for name, on in (("all", all_firms), ("town", bool(town)), ("chain", bool(chain))) if on]
    if len(chosen) != 1:
        _fail(N_("请在 --all、--town、--chain 中选且只选一个"))
    try:
        until = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        _fail(f"--expires {expires!r} 不是日期：请写成 YYYY-MM-DD，例如 2026-12-31")
    try:
        with transaction(_engine()) as session:
            grant = grant_access(session, username=username, scope=chosen[0], reason=reason, town=town, chain=chain,
                                 expires_on=until, actor=cli_actor())
            text = f"#{grant.id} {username}: {describe_grant(session, grant)}"
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已授权 granted {text}" + (f"  到期 until {until.isoformat()}" if until else ""))


@users_app.command("grants")
def users_grants(username: str | None = typer.Option(None, "--username", help="只列此用户")) -> None:
    """列出访问授权（含已撤销、已到期）/ list access grants, ended ones included."""
    from qunlian.accounts.grants import list_grants
    from qunlian.platform.db import session_factory

    with session_factory(_engine())() as session:
        rows = list_grants(session, username)
    if not rows:
        echo(N_("没有访问授权"))
        return
    for r in rows:
        until = r["expires_on"].isoformat() if r["expires_on"] else "—"
        typer.echo(f"#{r['id']}\t{r['username']}\t{r['target']}\t{r['state']}\t到期 {until}\t{r['reason']}\t"
                   f"by {r['granted_by']}")


@users_app.command("revoke")
def users_revoke(grant_id: int = id_argument(..., help="授权编号（qunlian users grants 列出）")) -> None:
    """撤销访问授权（立即生效）/ revoke an access grant; it stops working at once."""
    from qunlian.accounts.grants import revoke_grant
    from qunlian.accounts.service import AccountError
    from qunlian.platform.db import transaction

    try:
        with transaction(_engine()) as session:
            revoke_grant(session, grant_id, actor=cli_actor())
    except AccountError as exc:
        _fail(explain(exc))
    typer.echo(f"已撤销 revoked: #{grant_id}")
