"""``pom.xml``: the project's own ``<dependencies>``, each of which is direct.

A POM is no lockfile: a version may come from a parent POM or an imported BOM
(``<dependencyManagement>``), which are not followed, or be a range (``[1.0,2.0)``).
Only versions written in the file count, literally or through ``${property}`` from its
``<properties>`` or ``${project.version}``; the others are left out rather than guessed.
Dependencies under ``<dependencyManagement>``, ``<build>`` and ``<profiles>`` are not the
project's dependencies. ``<scope>test</scope>`` is a development dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind

_PROPERTY = re.compile(r"\$\{([^}]*)\}")
_MAX_EXPANSIONS = 10
"""Properties may refer to properties; more rounds than this is a loop."""
_MAX_LENGTH = 200


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    project = lockfile.xml()
    if _local(project) != "project":
        raise lockfile.error(f"the root element is <{_local(project)}>, not <project>")
    properties = _properties(project)
    for dependency in _children(_child(project, "dependencies"), "dependency"):
        group, artifact, version = (
            _resolved(_text(dependency, field), properties)
            for field in ("groupId", "artifactId", "version")
        )
        if group and artifact and version and not version.startswith(("[", "(")):
            yield lockfile.package(
                "Maven",
                f"{group}:{artifact}",
                version,
                direct=True,
                dev=_text(dependency, "scope") == "test",
            )


def _properties(project: Element) -> dict[str, str]:
    """``<properties>``, and the ``project.*`` values POMs refer to (a module's group and
    version may be its parent's)."""
    found = {
        _local(item): (item.text or "").strip() for item in _children(_child(project, "properties"))
    }
    parent = _child(project, "parent")
    for field in ("groupId", "version"):
        inherited = _text(parent, field)
        own = _text(project, field) or inherited
        for key, value in ((f"project.parent.{field}", inherited), (f"project.{field}", own)):
            if value:
                found[key] = value
    return found


def _resolved(value: str | None, properties: dict[str, str]) -> str | None:
    """``value`` with its ``${...}`` replaced; None when one is unknown, loops, or grows
    past any real version (properties made to double at every round)."""
    for _ in range(_MAX_EXPANSIONS):
        if value is None or len(value) > _MAX_LENGTH:
            return None
        names = _PROPERTY.findall(value)
        if not names:
            return value
        if any(name not in properties for name in names):
            return None
        value = _PROPERTY.sub(lambda match: properties[match[1]], value)
    return None


def _local(element: Element) -> str:
    """The tag without the POM namespace (``{http://maven.apache.org/POM/4.0.0}``),
    which most POMs declare and some do not."""
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _child(element: Element | None, name: str) -> Element | None:
    return next(_children(element, name), None)


def _children(element: Element | None, name: str | None = None) -> Iterator[Element]:
    if element is not None:
        yield from (child for child in element if name is None or _local(child) == name)


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


KIND = LockfileKind(name="maven", matches=("pom.xml",), parse=parse)
