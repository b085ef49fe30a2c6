"""``uv.lock``: one ``[[package]]`` table per distribution, the project's own among them.

The project and its workspace members are the tables whose ``source`` is a source tree
(``editable``, ``virtual``, ``directory``): nobody publishes them, but their dependencies are
the direct ones. uv records the graph and no dev flag: a package is development-only when
only the projects' ``dev-dependencies`` groups lead to it, not their runtime dependencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind, dev_flags

_SOURCE_TREES = frozenset({"editable", "virtual", "directory"})

Node = tuple[str, str | None]
"""(name, version): uv names a dependency's version only when it locks several."""


@dataclass(frozen=True, slots=True)
class _Table:
    what: str
    line: int | None
    name: str
    version: str | None
    project: bool
    runtime: list[Node]
    """Dependencies and optional dependencies (extras) alike: a package reached through an
    extra is not claimed to be development-only."""
    development: list[Node]


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    tables = [_table(lockfile, *found) for found in lockfile.package_tables()]
    locked: dict[str, list[Node]] = {}
    for table in tables:
        locked.setdefault(table.name, []).append((table.name, table.version))

    def resolved(nodes: list[Node]) -> list[Node]:
        return [n for name, v in nodes for n in locked.get(name, ()) if v in (None, n[1])]

    projects = [table for table in tables if table.project]
    flags = dev_flags(
        resolved([node for project in projects for node in project.runtime]),
        resolved([node for project in projects for node in project.development]),
        {(t.name, t.version): resolved(t.runtime) for t in tables if not t.project},
    )
    direct = {name for p in projects for name, _ in p.runtime + p.development}
    for table in tables:
        if table.project:
            continue
        if table.version is None:
            raise lockfile.error(f"{table.what}.version is missing", table.line)
        yield lockfile.package(
            "PyPI",
            table.name,
            table.version,
            line=table.line,
            direct=(table.name in direct) if projects else None,
            dev=flags.get((table.name, table.version)),
        )


def _table(lockfile: Lockfile, what: str, table: dict[str, Any], line: int | None) -> _Table:
    source = lockfile.mapping(table.get("source"), f"{what}.source")
    return _Table(
        what=what,
        line=line,
        name=lockfile.string(table.get("name"), f"{what}.name"),
        version=lockfile.optional_string(table.get("version"), f"{what}.version"),
        project=not _SOURCE_TREES.isdisjoint(source),
        runtime=[
            *_nodes(lockfile, table.get("dependencies"), f"{what}.dependencies"),
            *_grouped(
                lockfile, table.get("optional-dependencies"), f"{what}.optional-dependencies"
            ),
        ],
        development=_grouped(lockfile, table.get("dev-dependencies"), f"{what}.dev-dependencies"),
    )


def _grouped(lockfile: Lockfile, value: object, what: str) -> list[Node]:
    """The dependencies of every group (extra) of a ``{group: [dependency, ...]}`` table."""
    groups = lockfile.mapping(value, what).items()
    return [node for group, found in groups for node in _nodes(lockfile, found, f"{what}.{group}")]


def _nodes(lockfile: Lockfile, value: object, what: str) -> list[Node]:
    nodes: list[Node] = []
    for index, item in enumerate(lockfile.array(value, what)):
        dependency = lockfile.mapping(item, f"{what}[{index}]")
        nodes.append(
            (
                lockfile.string(dependency.get("name"), f"{what}[{index}].name"),
                lockfile.optional_string(dependency.get("version"), f"{what}[{index}].version"),
            )
        )
    return nodes


KIND = LockfileKind(name="uv", matches=("uv.lock",), parse=parse)
