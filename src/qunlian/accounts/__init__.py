"""Accounts: users, roles, password hashing, tokens, demo logins.

Roles and what each may see are DESIGN §2; the query-layer rules are in qunlian.store.scoping.
"""

from qunlian.accounts.passwords import hash_password, verify_password
from qunlian.accounts.service import (
    AccountError,
    add_user,
    authenticate,
    create_demo_users,
    disable_user,
    list_users,
)

__all__ = [
    "AccountError",
    "add_user",
    "authenticate",
    "create_demo_users",
    "disable_user",
    "hash_password",
    "list_users",
    "verify_password",
]
