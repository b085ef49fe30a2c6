"""Every posture check, in the order results are shown, and running them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from shieldwall.scan.posture.ci_checks import (
    ci_present,
    dangerous_workflow,
    pinned_actions,
    token_permissions,
)
from shieldwall.scan.posture.containers import pinned_images
from shieldwall.scan.posture.coverage import (
    dependency_scanning,
    iac_scanning,
    pre_commit,
    sast,
    secrets_scanning,
)
from shieldwall.scan.posture.dependencies import dependency_update_tool, lockfiles
from shieldwall.scan.posture.hygiene import (
    binary_artifacts,
    codeowners,
    license_file,
    security_policy,
)
from shieldwall.scan.posture.model import Check, CheckResult
from shieldwall.scan.posture.repository import Repository

# CI first (what runs on every change), then scanning coverage, dependencies, the rest.
CHECKS: tuple[Check, ...] = (
    ci_present,
    dangerous_workflow,
    token_permissions,
    pinned_actions,
    sast,
    dependency_scanning,
    secrets_scanning,
    iac_scanning,
    lockfiles,
    dependency_update_tool,
    pinned_images,
    binary_artifacts,
    security_policy,
    codeowners,
    license_file,
    pre_commit,
)


def check_repository(root: Path, checks: Iterable[Check] = CHECKS) -> list[CheckResult]:
    """Run ``checks`` (all by default) on the checkout at ``root``, in order.

    Reads only the files under ``root``; never raises for what they contain. Raises
    InputError when ``root`` is not a folder.
    """
    repo = Repository(root)
    return [check.run(repo) for check in checks]
