"""``Cargo.lock``: one ``[[package]]`` table per crate. A crate without a ``source`` is a
member of the workspace itself (or a path dependency): the project's own code, not a
release anyone publishes advisories for."""

from __future__ import annotations

from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for what, table, line in lockfile.package_tables():
        if lockfile.optional_string(table.get("source"), f"{what}.source") is None:
            continue
        yield lockfile.package(
            "crates.io",
            lockfile.string(table.get("name"), f"{what}.name"),
            lockfile.string(table.get("version"), f"{what}.version"),
            line=line,
        )


KIND = LockfileKind(name="cargo", matches=("Cargo.lock",), parse=parse)
