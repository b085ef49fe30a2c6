"""``Gemfile.lock`` (and ``gems.locked``), Bundler's sectioned text.

Gems from a gem server are the ``specs:`` of the ``GEM`` sections, four spaces in:
``nokogiri (1.13.10-x86_64-linux)``, where what follows the first "-" is a platform (Bundler
locks one entry per platform; the version is the same). Six spaces in are their own
dependencies' ranges. ``GIT`` and ``PATH`` sections hold checkouts and the project's own
gems, not releases of the gem server. ``DEPENDENCIES`` lists what the Gemfile asks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind, shown

_SPEC = re.compile(r"^ {4}(?! )(?P<name>\S+) \((?P<version>[^-)\s]+)(?:-[^)\s]+)?\)$")
"""Bundler's own pattern: the version ends at the first "-", the platform follows."""
_DEPENDENCY = re.compile(r"^ {2}(?! )(?P<name>[^\s!(]+)")


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    section = ""
    specs: list[tuple[int, str, str]] = []
    direct: set[str] = set()
    for number, line in enumerate(lockfile.text.splitlines(), 1):
        line = line.rstrip()
        if not line:
            continue
        if not line[0].isspace():
            section = line
        elif section == "GEM" and line.startswith("    ") and not line.startswith("      "):
            spec = _SPEC.match(line)
            if spec is None:
                raise lockfile.error(f"not a gem spec: {shown(line.strip())}", number)
            specs.append((number, spec["name"], spec["version"]))
        elif section == "DEPENDENCIES" and (dependency := _DEPENDENCY.match(line)):
            direct.add(dependency["name"])
    for number, name, version in specs:
        yield lockfile.package(
            "RubyGems", name, version, line=number, direct=name in direct if direct else None
        )


KIND = LockfileKind(name="gemfile", matches=("Gemfile.lock", "gems.locked"), parse=parse)
