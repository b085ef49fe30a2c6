"""``yarn.lock``, Yarn 1 (its own text format) and Yarn 2+ "Berry" (YAML).

Yarn 1: each entry starts with the descriptors that resolved to it, at the start of a line
(``"@babel/core@^7.0.0", "@babel/core@^7.22.5":``), then an indented ``version "7.22.5"``.
An alias descriptor (``string-width-cjs@npm:string-width@^4.2.0``) installs the real
package; a git, file or URL descriptor installs no registry release and is skipped.

Berry: a ``__metadata`` entry, then one entry per resolution, and its ``resolution`` names
the real package and protocol (``"@babel/core@npm:7.22.5"``); only ``npm:`` is a registry
release (``workspace:``, ``link:``, ``portal:`` are the project's own code and ``patch:`` is
a patched copy of an ``npm:`` entry listed beside it). The workspaces are entries too, and
their ``dependencies`` are the direct ones. Neither format says what is for development.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from shieldwall.scan.lockfiles.base import (
    LockedPackage,
    Lockfile,
    LockfileKind,
    split_at_version,
)

_BERRY = re.compile(r"^__metadata:", re.MULTILINE)
_V1_VERSION = re.compile(r'^  version "?([^"\s]+)"?\s*$')
_ALIAS = "npm:"


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    if _BERRY.search(lockfile.text):
        return _berry(lockfile)
    return _classic(lockfile)


# --- Yarn 1 ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    line: int
    descriptors: list[str]
    version: str | None = None


def _classic(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for entry in _entries(lockfile):
        if entry.version is None:
            raise lockfile.error("entry without a version", entry.line)
        name, reference = _real(entry.descriptors[0])
        if name and _is_registry_range(reference):
            yield lockfile.package("npm", name, entry.version, line=entry.line)


def _entries(lockfile: Lockfile) -> list[_Entry]:
    entries: list[_Entry] = []
    for number, line in enumerate(lockfile.text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            header = line.rstrip()
            if not header.endswith(":"):
                raise lockfile.error("expected an entry header (`name@range:`)", number)
            descriptors = [d.strip().strip('"') for d in header[:-1].split(",")]
            entries.append(_Entry(number, descriptors))
        elif not entries:
            raise lockfile.error("indented line before the first entry", number)
        elif version := _V1_VERSION.match(line):
            entries[-1].version = version[1]
    return entries


def _real(descriptor: str) -> tuple[str, str]:
    """(package, range) of a descriptor, through an alias to the package it installs."""
    name, reference = split_at_version(descriptor)
    if reference.startswith(_ALIAS):
        aliased, aliased_range = split_at_version(reference.removeprefix(_ALIAS))
        if aliased_range:
            return aliased, aliased_range
    return name, reference


def _is_registry_range(reference: str) -> bool:
    """A semver range (``^1.2.0``, ``1.x``, ``latest``), not a URL, path or git reference."""
    return ":" not in reference and "/" not in reference


# --- Berry -------------------------------------------------------------------------------------


def _berry(lockfile: Lockfile) -> Iterator[LockedPackage]:
    document = lockfile.document(lockfile.yaml())
    lines = lockfile.key_lines(indent=0)
    resolved: list[tuple[str, str, str, str]] = []  # key, name, protocol, reference
    direct: set[str] = set()
    for key, value in document.items():
        if key == "__metadata":
            continue
        entry = lockfile.mapping(value, key)
        resolution = lockfile.string(entry.get("resolution"), f"{key}.resolution")
        name, reference = split_at_version(resolution)
        protocol, _, locator = reference.partition(":")
        if protocol == "workspace":
            dependencies = lockfile.mapping(entry.get("dependencies"), f"{key}.dependencies")
            direct.update(
                _descriptor(dependency, lockfile.string(wanted, f"{key}.dependencies.{dependency}"))
                for dependency, wanted in dependencies.items()
            )
        resolved.append((key, name, protocol, locator))
    workspaces = any(protocol == "workspace" for _, _, protocol, _ in resolved)
    for key, name, protocol, version in resolved:
        if protocol != "npm":
            continue
        descriptors = {descriptor.strip() for descriptor in key.split(",")}
        yield lockfile.package(
            "npm",
            name,
            version,
            line=lines.get(key),
            direct=not direct.isdisjoint(descriptors) if workspaces else None,
        )


def _descriptor(name: str, wanted: str) -> str:
    """How the entry keys spell a dependency: Yarn 2 and 3 leave out the default ``npm:``
    protocol in dependency lists (``lodash: ^4.17.20``), Yarn 4 writes it."""
    return f"{name}@{wanted}" if ":" in wanted else f"{name}@npm:{wanted}"


KIND = LockfileKind(name="yarn", matches=("yarn.lock",), parse=parse)
