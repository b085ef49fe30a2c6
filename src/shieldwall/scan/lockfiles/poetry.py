"""``poetry.lock``: one ``[[package]]`` table per locked distribution.

Poetry 1.x marks each with ``category = "main" | "dev"``; Poetry 2 lists the dependency
``groups`` that need it, and a package outside the ``main`` group is only installed for
development (``poetry install --only main`` leaves it out). Lock files of Poetry 1.5 to 1.8
say neither, so nothing is claimed. A ``directory`` source is the project's own code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for what, table, line in lockfile.package_tables():
        source = lockfile.mapping(table.get("source"), f"{what}.source")
        if source.get("type") == "directory":
            continue
        yield lockfile.package(
            "PyPI",
            lockfile.string(table.get("name"), f"{what}.name"),
            lockfile.string(table.get("version"), f"{what}.version"),
            line=line,
            dev=_dev(lockfile, what, table),
        )


def _dev(lockfile: Lockfile, what: str, table: dict[str, Any]) -> bool | None:
    groups = lockfile.array(table.get("groups"), f"{what}.groups")
    if groups:
        return "main" not in groups
    category = lockfile.optional_string(table.get("category"), f"{what}.category")
    return None if category is None else category != "main"


KIND = LockfileKind(name="poetry", matches=("poetry.lock",), parse=parse)
