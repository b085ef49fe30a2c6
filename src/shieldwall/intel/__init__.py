"""Vulnerability intelligence: advisories (OSV), KEV, EPSS, CVSS, and matching components
against them."""

MATCH_TOOL = "shieldwall-intel"
"""The tool name of Shieldwall's own advisory matches (a scan stream of its own). Here, not in
``intel.match``, so that readers of the name (coverage) do not import the matcher."""
