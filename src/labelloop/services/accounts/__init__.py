"""Accounts: users, API tokens, browser sessions, sign-in limits, password hashing."""
