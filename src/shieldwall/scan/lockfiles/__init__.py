"""The packages a lockfile pins, one module per format behind a small registry (as
pip-audit's dependency sources and OSV-Scanner's extractors are).

A format is a module defining ``KIND = LockfileKind(name, matches, parse)``; adding one is
adding its module and listing it in ``KINDS``. Parsing is pure: the caller reads the file
(bounding its size) and gives its path and text; nothing is fetched, nothing is followed
(a ``-r`` include, a parent POM). Every problem in the content is a ``LockfileError``.

Go: a folder with ``go.mod`` has ``go.sum`` beside it, and only ``go.mod`` tells which
versions the build selects (``go.sum`` also keeps the checksums of versions that minimal
version selection passed over). A caller that finds both in one folder parses ``go.mod``
only; ``go.sum`` alone still gives every module it has the code of.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath

from shieldwall.scan.lockfiles import (
    cargo,
    composer,
    gemfile,
    gomod,
    gosum,
    gradle,
    maven,
    npm,
    pipfile,
    pnpm,
    poetry,
    requirements,
    uv,
    yarn,
)
from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileError, LockfileKind

__all__ = [
    "KINDS",
    "LockedPackage",
    "LockfileError",
    "LockfileKind",
    "lockfile_kind",
    "parse_lockfile",
]

KINDS: tuple[LockfileKind, ...] = (
    requirements.KIND,
    poetry.KIND,
    pipfile.KIND,
    uv.KIND,
    npm.KIND,
    yarn.KIND,
    pnpm.KIND,
    gomod.KIND,
    gosum.KIND,
    cargo.KIND,
    gemfile.KIND,
    composer.KIND,
    gradle.KIND,
    maven.KIND,
)
_BY_NAME = {kind.name: kind for kind in KINDS}


def lockfile_kind(path: str) -> str | None:
    """The format of the file at ``path`` (by its name, as the tools name their files), or
    None when it is not a lockfile."""
    where = PurePosixPath(path)
    return next((kind.name for kind in KINDS if kind.accepts(where)), None)


def parse_lockfile(path: str, text: str) -> list[LockedPackage]:
    """The packages the lockfile at ``path`` pins, in file order, one per (name, version).

    A package the file lists several times (npm's nested copies, one gem per platform) is
    one record: first line, direct when any listing is, development-only when every listing
    that says is.
    """
    name = lockfile_kind(path)
    if name is None:
        raise LockfileError.in_file(path, "not a lockfile this version knows")
    lockfile = Lockfile(path, text.removeprefix("\ufeff"))
    merged: dict[tuple[str, str, str], LockedPackage] = {}
    for package in _BY_NAME[name].parse(lockfile):
        key = (package.ecosystem, package.name, package.version)
        seen = merged.get(key)
        merged[key] = package if seen is None else _combined(seen, package)
    return list(merged.values())


def _combined(first: LockedPackage, other: LockedPackage) -> LockedPackage:
    return replace(
        first,
        line=first.line if first.line is not None else other.line,
        direct=_known(first.direct, other.direct, winner=True),
        dev=_known(first.dev, other.dev, winner=False),
    )


def _known(one: bool | None, two: bool | None, *, winner: bool) -> bool | None:
    """``winner`` if either says so, else whichever is known."""
    if winner in (one, two):
        return winner
    return one if one is not None else two
