"""Accounts, API tokens, web sessions and who may do what."""
