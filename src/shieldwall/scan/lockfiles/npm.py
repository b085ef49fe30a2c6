"""``package-lock.json`` and ``npm-shrinkwrap.json``, lockfile versions 1 to 3.

Versions 2 and 3 list every installed folder under ``packages``: ``node_modules/a`` and the
nested copies ``node_modules/a/node_modules/b``; ``""`` is the project itself (its
``dependencies`` make the top-level folders direct), a path without ``node_modules/`` is a
workspace member's source and a ``link`` entry points at one: the project's own code.
Version 1 has only the nested ``dependencies`` tree, which says nothing of direct ones.
The package's name is its folder's, unless an alias (``"name"``) says otherwise; ``dev``
is npm's own flag (needed only by development dependencies).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shieldwall.scan.lockfiles.base import (
    LockedPackage,
    Lockfile,
    LockfileKind,
    split_at_version,
)

_MODULES = "node_modules/"
_ROOT_DEPENDENCIES = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    document = lockfile.document(lockfile.json())
    if "packages" in document:
        return _folders(lockfile, lockfile.mapping(document["packages"], "packages"))
    return _tree(lockfile, lockfile.mapping(document.get("dependencies"), "dependencies"))


def _folders(lockfile: Lockfile, packages: dict[str, Any]) -> Iterator[LockedPackage]:
    root = lockfile.mapping(packages.get(""), 'packages[""]')
    direct = {
        name
        for key in _ROOT_DEPENDENCIES
        for name in lockfile.mapping(root.get(key), f'packages[""].{key}')
    }
    for path, value in packages.items():
        what = f"packages[{path!r}]"
        entry = lockfile.mapping(value, what)
        folder = path.rpartition(_MODULES)[2]
        if _MODULES not in path or entry.get("link") is True or "version" not in entry:
            continue
        name = lockfile.optional_string(entry.get("name"), f"{what}.name") or folder
        yield lockfile.package(
            "npm",
            name,
            lockfile.string(entry["version"], f"{what}.version"),
            direct=path == _MODULES + folder and folder in direct,
            dev=entry.get("dev") is True,
        )


def _tree(lockfile: Lockfile, dependencies: dict[str, Any]) -> Iterator[LockedPackage]:
    """Version 1's nested tree, walked without recursion (it can be as deep as it likes)."""
    stack = [("dependencies", dependencies)]
    while stack:
        where, level = stack.pop()
        for folder, value in level.items():
            what = f"{where}.{folder}"
            entry = lockfile.mapping(value, what)
            nested = f"{what}.dependencies"
            stack.append((nested, lockfile.mapping(entry.get("dependencies"), nested)))
            version = lockfile.string(entry.get("version"), f"{what}.version")
            name, version = _unaliased(folder, version)
            if ":" not in version:  # file:, git+https:, github: are not registry releases
                yield lockfile.package("npm", name, version, dev=entry.get("dev") is True)


def _unaliased(folder: str, version: str) -> tuple[str, str]:
    """Version 1 writes an alias's version as ``npm:real-name@1.2.3``."""
    if version.startswith("npm:"):
        name, real_version = split_at_version(version.removeprefix("npm:"))
        if name and real_version:
            return name, real_version
    return folder, version


KIND = LockfileKind(name="npm", matches=("package-lock.json", "npm-shrinkwrap.json"), parse=parse)
