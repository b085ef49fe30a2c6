"""``composer.lock``: ``packages`` for production, ``packages-dev`` for development.

Versions are kept as Composer writes them, a leading "v" included (``v5.4.0``), in the
record and in the purl, as the Composer plugin of CycloneDX, Syft and Trivy do, so that
their SBOMs and ours name the same package version alike; advisory matching compares
Packagist versions as Composer does, which ignores that "v".
"""

from __future__ import annotations

from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind

_SECTIONS = (("packages", False), ("packages-dev", True))


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    document = lockfile.document(lockfile.json())
    for section, dev in _SECTIONS:
        for index, entry in enumerate(lockfile.array(document.get(section), section)):
            what = f"{section}[{index}]"
            package = lockfile.mapping(entry, what)
            yield lockfile.package(
                "Packagist",
                lockfile.string(package.get("name"), f"{what}.name"),
                lockfile.string(package.get("version"), f"{what}.version"),
                dev=dev,
            )


KIND = LockfileKind(name="composer", matches=("composer.lock",), parse=parse)
