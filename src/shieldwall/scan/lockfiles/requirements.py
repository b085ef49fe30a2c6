"""pip requirements files with pins (``requirements*.txt``, ``requirements/*.txt``), as
pip-compile and ``pip freeze`` write them.

Only exact pins (``==``, ``===``) lock a version; a range (``>=``) says what would be
accepted, not what is installed, so it is skipped rather than guessed. Includes (``-r``,
``-c``) are not followed: the scan finds those files on its own. Lines are read as pip reads
them: comments stripped, ``\\`` continuations joined, per-requirement options (``--hash``) cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind, shown

_COMMENT = re.compile(r"(^|\s+)#.*$")
"""pip's rule: ``#`` starts a comment at the start of a line or after white space."""
_URL_OR_PATH = re.compile(r"^(?:[\w.+-]+://|\.{0,2}/|[\w.+-]+\+\w+:)")
"""A direct reference (``git+https://...``, ``./pkg``): nothing pinned in an index."""
_PINS = frozenset({"==", "==="})


def matches(path: PurePosixPath) -> bool:
    if path.suffix != ".txt":
        return False
    return path.name.startswith("requirements") or path.parent.name == "requirements"


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    for line, content in _logical_lines(lockfile.text):
        requirement = _requirement(lockfile, line, content)
        if requirement is None or requirement.url:
            continue
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator not in _PINS:
            continue
        version = specifiers[0].version
        if specifiers[0].operator == "==" and version.endswith(".*"):
            continue  # a prefix match (==3.2.*) is a range
        yield lockfile.package("PyPI", requirement.name, version, line=line)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with ``\\`` continuations joined, each with the number of its first line. A
    comment line ends a continuation, as in pip (its ``\\`` is part of the comment)."""
    first = 0
    parts: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not parts:
            first = number
        if line.endswith("\\") and not _COMMENT.match(line):
            parts.append(line[:-1])
            continue
        yield first, "".join([*parts, line])
        parts = []
    if parts:
        yield first, "".join(parts)


def _requirement(lockfile: Lockfile, line: int, content: str) -> Requirement | None:
    """The requirement on a logical line; None for blank lines, options (``-r``, ``-e``,
    ``--index-url``) and direct references."""
    content = _COMMENT.sub("", content).strip()
    if not content or content.startswith("-") or _URL_OR_PATH.match(content):
        return None
    # pip's own split: options start at the first token that starts with "-".
    tokens = content.split(" ")
    cut = next((i for i, token in enumerate(tokens) if token.startswith("-")), len(tokens))
    try:
        return Requirement(" ".join(tokens[:cut]))
    except InvalidRequirement as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise lockfile.error(f"not a requirement: {shown(content)} ({problem})", line) from exc


KIND = LockfileKind(name="requirements", matches=matches, parse=parse)
