"""Accounts: admins and agents, their passwords and sessions."""
