"""Findings: one deduplicated, tracked list of problems per service."""
