"""Accounts: registration, login with throttling, sessions."""
