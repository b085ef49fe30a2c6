"""``pnpm-lock.yaml``, lockfile versions 5 to 9.

Package keys changed with the versions: ``/name/1.2.3`` (5; peers after ``_``),
``/name@1.2.3`` (6; peers in parentheses, ``(react@18.2.0)``) and ``name@1.2.3`` (9, whose
``snapshots`` repeat each package once per set of peers). Keys of git, tarball and file
dependencies are not registry releases and are skipped (no leading ``/`` before 9, a
version that is not a version from 9 on).

Direct: the ``dependencies`` of the importers (the workspace projects; before workspaces,
the document itself). Development: versions 5 and 6 flag ``dev``; 9 dropped the flag and
keeps the graph in ``snapshots``, so a package is development-only when only the importers'
``devDependencies`` lead to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from shieldwall.scan.lockfiles.base import (
    LockedPackage,
    Lockfile,
    LockfileKind,
    dev_flags,
    shown,
    split_at_version,
)

_MAJOR = re.compile(r"^(\d+)(?:\.\d+)*$")
_MAIN = ("dependencies", "optionalDependencies")
_DEV = ("devDependencies",)


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    document = lockfile.document(lockfile.yaml())
    major = _major(lockfile, document.get("lockfileVersion"))
    importers = _importers(lockfile, document)
    main, dev = (_references(lockfile, importers, groups) for groups in (_MAIN, _DEV))
    direct = {_release(name, reference, major) for name, reference in main + dev}
    graph_dev = _graph_dev(lockfile, document, main, dev) if major >= 9 else {}
    lines = lockfile.key_lines(indent=2)
    for key, value in lockfile.mapping(document.get("packages"), "packages").items():
        release = _release_of_key(key, major)
        if release is None:
            continue
        entry = lockfile.mapping(value, f"packages.{key}")
        flag = entry.get("dev") if major < 9 else graph_dev.get(release)
        yield lockfile.package(
            "npm",
            *release,
            line=lines.get(key),
            direct=release in direct,
            dev=flag if isinstance(flag, bool) else None,
        )


def _graph_dev(
    lockfile: Lockfile,
    document: dict[str, Any],
    main: list[tuple[str, str]],
    dev: list[tuple[str, str]],
) -> dict[tuple[str, str], bool]:
    """Development-only releases from the snapshots' graph: a release is when every
    snapshot of it (one per set of peers) is."""
    flags = dev_flags(
        (_node(name, reference) for name, reference in main),
        (_node(name, reference) for name, reference in dev),
        _snapshot_edges(lockfile, document),
    )
    releases: dict[tuple[str, str], bool] = {}
    for node, flag in flags.items():
        release = _release(*split_at_version(node), 9)
        if release is not None:
            releases[release] = releases.get(release, True) and flag
    return releases


def _major(lockfile: Lockfile, value: object) -> int:
    version = str(value) if isinstance(value, int | float | str) else ""
    match = _MAJOR.match(version)
    if match is None:
        raise lockfile.error(f"lockfileVersion {shown(value)} is not a version")
    major = int(match[1])
    if major < 5:
        raise lockfile.error(f"lockfileVersion {version} is not supported (5 and later are)")
    return major


def _importers(lockfile: Lockfile, document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each workspace project: before pnpm 9 a single project writes its own at the top."""
    if "importers" not in document:
        return [("", document)]
    importers = lockfile.mapping(document["importers"], "importers")
    return [
        (f"importers.{path}.", lockfile.mapping(value, f"importers.{path}"))
        for path, value in importers.items()
    ]


def _references(
    lockfile: Lockfile, importers: list[tuple[str, dict[str, Any]]], groups: tuple[str, ...]
) -> list[tuple[str, str]]:
    """(name, reference) of the importers' dependencies in ``groups``: the reference is the
    resolved version with its peers (``18.2.0(react@18.2.0)``), or ``link:``, an alias..."""
    found: list[tuple[str, str]] = []
    for where, importer in importers:
        for group in groups:
            for name, value in lockfile.mapping(importer.get(group), f"{where}{group}").items():
                what = f"{where}{group}.{name}"
                if isinstance(value, dict):  # 6 and later: {specifier, version}
                    value = lockfile.mapping(value, what).get("version")
                    what += ".version"
                found.append((name, lockfile.string(value, what)))
    return found


def _snapshot_edges(lockfile: Lockfile, document: dict[str, Any]) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for key, value in lockfile.mapping(document.get("snapshots"), "snapshots").items():
        snapshot = lockfile.mapping(value, f"snapshots.{key}")
        edges[key] = [
            _node(name, lockfile.string(reference, f"snapshots.{key}.{group}.{name}"))
            for group in _MAIN
            for name, reference in lockfile.mapping(
                snapshot.get(group), f"snapshots.{key}.{group}"
            ).items()
        ]
    return edges


def _node(name: str, reference: str) -> str:
    """The snapshot key a dependency points at: an alias's reference names its package."""
    aliased = split_at_version(_without_peers(reference))[1]
    return reference if aliased else f"{name}@{reference}"


def _release(name: str, reference: str, major: int) -> tuple[str, str] | None:
    """(name, version) of the registry release a dependency's reference resolves to,
    through an alias (``string-width@4.2.3``, ``/string-width@4.2.3`` in 6); None for
    ``link:``, git and file references."""
    version = _without_peers(reference)
    if major < 6:
        version = version.partition("_")[0]
    aliased, aliased_version = split_at_version(version.removeprefix("/"))
    if aliased_version:
        name, version = aliased, aliased_version
    return (name, version) if version[:1].isdigit() else None


def _release_of_key(key: str, major: int) -> tuple[str, str] | None:
    if major < 9:
        if not key.startswith("/"):
            return None  # git, tarball and file dependencies
        key = key[1:]
    if major < 6:
        name, _, version = key.rpartition("/")
    else:
        name, version = split_at_version(_without_peers(key))
    return _release(name, version, major) if name else None


def _without_peers(reference: str) -> str:
    return reference.partition("(")[0]


KIND = LockfileKind(name="pnpm", matches=("pnpm-lock.yaml",), parse=parse)
