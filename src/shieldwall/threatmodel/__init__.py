"""Threat modeling as code: models, rules, threats, treatment, diffs and reports."""
