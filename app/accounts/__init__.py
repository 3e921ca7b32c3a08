"""Accounts: registration, login sessions, officers and their roles."""
