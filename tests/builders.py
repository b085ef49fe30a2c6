"""Reports built in tests, in the real tools' shapes, for lifecycle scenarios."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def code_result(
    rule: str, path: str, line: int, snippet: str, message: str = "problem"
) -> dict[str, Any]:
    """A Semgrep-like SARIF result identified by its content (no tool fingerprints)."""
    return {
        "ruleId": rule,
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": {"startLine": line, "snippet": {"text": snippet}},
                }
            }
        ],
    }


def vuln_rule(
    cve: str, package: str, fixed: str, tags: Sequence[str] = ("vulnerability",)
) -> dict[str, Any]:
    return {
        "id": cve,
        "help": {"text": f"Vulnerability {cve}\nPackage: {package}\nFixed Version: {fixed}"},
        "properties": {"tags": list(tags), "security-severity": "7.5"},
    }


def vuln_result(cve: str, package: str, version: str, ecosystem: str = "python") -> dict[str, Any]:
    """A Trivy/Grype-like SARIF result about a vulnerable package."""
    return {
        "ruleId": cve,
        "message": {"text": f"Package: {package}\nInstalled Version: {version}\nType: {ecosystem}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "requirements.txt"}}}],
    }


def sarif(
    path: Path, tool: str, results: Sequence[dict[str, Any]], rules: Sequence[dict[str, Any]] = ()
) -> Path:
    path.write_text(
        json.dumps(
            {
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": tool, "rules": list(rules)}},
                        "results": list(results),
                    }
                ],
            }
        )
    )
    return path
