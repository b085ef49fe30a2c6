"""Inventory as code: teams, people and services with their risk context."""
