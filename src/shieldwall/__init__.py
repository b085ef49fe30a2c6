"""Shieldwall: the security program control plane for engineering teams."""

__version__ = "0.1.0"
