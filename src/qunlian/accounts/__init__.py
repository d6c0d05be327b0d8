"""Accounts: users, roles, password hashing, tokens, demo logins.

Roles and what each may see are DESIGN §2; the query-layer rules are in qunlian.enterprises.scoping.
"""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="accounts",
    title="用户",
    package="qunlian.accounts",
    models="qunlian.accounts.models",
    routers=("qunlian.accounts.web:router", "qunlian.accounts.users_web:router", "qunlian.accounts.api:router"),
    cli=("qunlian.accounts.cli:register",),
    nav=(NavEntry("/users", "用户", "users.manage", order=80),),
    docs="web.md",
)
