"""Accounts, roles and area scopes, bearer tokens, and the audit log of personal-data reads."""
