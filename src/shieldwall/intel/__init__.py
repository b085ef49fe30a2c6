"""Vulnerability intelligence: advisories (OSV), KEV, EPSS, CVSS, and matching components
against them."""
