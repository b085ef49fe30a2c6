"""`shieldwall posture`: the repository's security posture, checked offline.

The checks of OpenSSF Scorecard that need only the files (no GitHub API), and more: each is a
small function in a registry (:data:`CHECKS`) with a stable name and a one-line description;
:func:`check_repository` runs them and :func:`security_tools` says which scanners CI runs.
"""

from shieldwall.scan.posture.model import Check, CheckResult, Result, as_rows
from shieldwall.scan.posture.registry import CHECKS, check_repository
from shieldwall.scan.posture.tools import Category, security_tools

__all__ = [
    "CHECKS",
    "Category",
    "Check",
    "CheckResult",
    "Result",
    "as_rows",
    "check_repository",
    "security_tools",
]
