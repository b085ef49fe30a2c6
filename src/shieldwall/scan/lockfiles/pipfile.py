"""``Pipfile.lock`` (pipenv): ``default`` packages for production, ``develop`` for
development, each pinned as ``"version": "==1.2.3"``. Entries without a version are VCS
checkouts or local paths, which no index release describes."""

from __future__ import annotations

from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind

_SECTIONS = (("default", False), ("develop", True))


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    document = lockfile.document(lockfile.json())
    for section, dev in _SECTIONS:
        for name, entry in lockfile.mapping(document.get(section), section).items():
            what = f"{section}.{name}"
            pin = lockfile.optional_string(
                lockfile.mapping(entry, what).get("version"), f"{what}.version"
            )
            version = pin and pin.removeprefix("===").removeprefix("==")
            if version and version != pin:
                yield lockfile.package("PyPI", name, version, dev=dev)


KIND = LockfileKind(name="pipfile", matches=("Pipfile.lock",), parse=parse)
