"""``go.sum``: the checksums of every module version the build downloaded.

Read only where no ``go.mod`` stands beside it (a caller finding both parses ``go.mod``):
``go.sum`` also keeps versions that minimal version selection passed over, so it can list
more than is built, and it cannot tell direct from indirect. A ``/go.mod`` line is the
checksum of a module's ``go.mod`` alone (fetched to walk the graph, its code never built).
"""

from __future__ import annotations

from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for number, line in enumerate(lockfile.text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise lockfile.error("expected `module/path v1.2.3 h1:checksum`", number)
        path, version, _ = fields
        if not version.endswith("/go.mod"):
            yield lockfile.package("Go", path, version, line=number)


KIND = LockfileKind(name="gosum", matches=("go.sum",), parse=parse)
