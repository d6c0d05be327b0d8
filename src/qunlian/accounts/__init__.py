"""Accounts: users, roles, password hashing, tokens, demo logins."""
