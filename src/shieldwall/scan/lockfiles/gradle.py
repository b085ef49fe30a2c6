"""``gradle.lockfile`` (Gradle 6.8+ dependency locking; ``buildscript-gradle.lockfile``
for the build's own classpath).

One ``group:artifact:version=configuration,...`` line per module; ``empty=`` lists the
configurations that resolve nothing. A module used only by test configurations
(``testRuntimeClasspath``, ``integrationTestCompileClasspath``) is a development one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind, shown

_TEST_CONFIGURATION = re.compile(r"^test|Test")


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for number, line in enumerate(lockfile.text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        coordinates, _, configurations = line.partition("=")
        if coordinates == "empty":
            continue
        parts = coordinates.split(":")
        if len(parts) != 3 or not all(parts):
            raise lockfile.error(
                f"expected `group:artifact:version=...`, not {shown(line)}", number
            )
        group, artifact, version = parts
        used_by = [c for c in configurations.split(",") if c]
        yield lockfile.package(
            "Maven",
            f"{group}:{artifact}",
            version,
            line=number,
            dev=all(_TEST_CONFIGURATION.search(c) for c in used_by) if used_by else None,
        )


KIND = LockfileKind(name="gradle", matches=("gradle.lockfile", "*-gradle.lockfile"), parse=parse)
