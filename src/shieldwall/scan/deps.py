"""Locked packages matched offline against the local advisory store (``shieldwall intel``):
the same index and the same findings as ``intel match``, so a scan in CI and the server's
matching agree on what is vulnerable and what to upgrade to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from shieldwall.db.engine import Database
from shieldwall.ingest.normalize import package_component
from shieldwall.ingest.records import RawFinding
from shieldwall.intel.match import advisory_finding, advisory_index
from shieldwall.intel.models import Advisory
from shieldwall.scan.lockfiles import LockedPackage

NO_ADVISORIES = (
    "no advisories are loaded: dependencies are listed but not matched "
    "(`shieldwall intel sync`, or `intel import-bundle` on a machine without network)"
)


def match_packages(
    db: Database, packages: Sequence[LockedPackage]
) -> tuple[list[tuple[RawFinding, LockedPackage]], list[str]]:
    """The advisories affecting each package, and notes for the reader."""
    pairs = [
        (package, package_component(package.name, package.version, package.purl, package.ecosystem))
        for package in packages
    ]
    with db.read() as session:
        if session.scalar(select(Advisory.id).limit(1)) is None:
            return [], [NO_ADVISORIES]
        index, known = advisory_index(session, [component for _, component in pairs])
    found = []
    for package, component in pairs:
        for match in index.match(package.ecosystem, package.name, package.version):
            finding = advisory_finding(
                component, match.advisory_id, match.fixed, known[match.advisory_id]
            )
            found.append((finding, package))
    return found, []
