"""Shieldwall's own secrets engine: rules as data (``rules/*.yaml``), a keyword prefilter so
most lines never reach a regular expression, entropy where a format is loose, offline format
checks (checksums) where a provider has them, allowlists, and a baseline keyed by the
secret's hash so that moved lines do not make old secrets new."""
