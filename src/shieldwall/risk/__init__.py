"""Risk: priorities P0-P4 that explain themselves, and SLA clocks, from a policy file."""
