"""``shieldwall sbom``: the packages of a repository's lockfiles as a CycloneDX 1.6 SBOM.

One component per purl, however many lockfiles pin it, with every place it is pinned as
evidence (``evidence.occurrences``: the lockfile and, since 1.6, the line). A development
dependency gets ``scope: excluded``, CycloneDX's word for a component used for tests and
other non-runtime purposes and not reachable at run time ("optional" means run-time
functionality that may be absent); a package some lockfile needs at run time is
``required``; one whose lockfiles do not say has no scope. Components are sorted by purl
so that two runs on one tree differ only in serial number and timestamp.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from packageurl import PackageURL

from shieldwall.clock import isoformat, utcnow
from shieldwall.scan.lockfiles import LockedPackage

SPEC_VERSION = "1.6"


def cyclonedx_sbom(
    packages: Iterable[LockedPackage],
    *,
    name: str,
    version: str | None = None,
    tool_version: str,
) -> dict[str, Any]:
    """The SBOM of the application ``name`` (at ``version``) made of ``packages``."""
    by_purl: dict[str, list[LockedPackage]] = {}
    for package in packages:
        by_purl.setdefault(package.purl, []).append(package)
    application: dict[str, Any] = {"type": "application", "bom-ref": "application", "name": name}
    if version is not None:
        application["version"] = version
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": isoformat(utcnow()),
            "tools": {
                "components": [
                    {"type": "application", "name": "Shieldwall", "version": tool_version}
                ]
            },
            "component": application,
        },
        "components": [_component(purl, by_purl[purl]) for purl in sorted(by_purl)],
    }


def _component(purl: str, pinned: list[LockedPackage]) -> dict[str, Any]:
    first = pinned[0]
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": purl,
        **_group_and_name(first),
        "version": first.version,
        "purl": purl,
    }
    scope = _scope([package.dev for package in pinned])
    if scope is not None:
        component["scope"] = scope
    places = sorted({(p.lockfile, p.line or 0) for p in pinned})
    component["evidence"] = {"occurrences": [_occurrence(path, line) for path, line in places]}
    return component


def _group_and_name(package: LockedPackage) -> dict[str, str]:
    """Maven's group and npm's scope are CycloneDX's ``group``, as its tools write them;
    other ecosystems keep the whole name (a Go module path is one name)."""
    parsed = PackageURL.from_string(package.purl)
    if parsed.type in ("maven", "npm") and parsed.namespace:
        return {"group": parsed.namespace, "name": parsed.name}
    return {"name": package.name}


def _scope(dev: list[bool | None]) -> str | None:
    if False in dev:
        return "required"
    return "excluded" if True in dev else None


def _occurrence(path: str, line: int) -> dict[str, Any]:
    """Where a lockfile pins the package (line 0: the format does not say)."""
    return {"location": path, "line": line} if line else {"location": path}
