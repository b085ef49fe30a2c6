"""``go.mod``: the module versions the build selects.

``require`` lines (alone or in a block) pin modules; ``// indirect`` marks one the module's
own code does not import. ``replace`` swaps a module (every version of it, or one) for
another module version, which is then what is built, at the line of the ``replace``; a
replacement by a local folder (``=> ./fork``) makes it the project's own code, so it is
left out like Cargo's path crates. Other directives (``go``, ``exclude``, ``retract``...)
pin nothing. See ``gosum`` for when ``go.sum`` is read instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from shieldwall.scan.lockfiles.base import LockedPackage, Lockfile, LockfileKind, shown

_DIRECTIVE = re.compile(r"^[a-z]+$")
"""Go rejects directives it does not know; new ones (``tool``, ``ignore``) are added
over time, so any word is taken as a directive and only non-words refused."""


_TOKEN = re.compile(r'"[^"]*"|`[^`]*`|[()]|[^\s()"`]+')
"""Quoted strings, parentheses (``require(`` opens a block too) and bare words."""


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    verb: str
    args: list[str]
    indirect: bool


@dataclass(frozen=True, slots=True)
class _Module:
    path: str
    version: str | None
    """None for a local folder (a replacement's target) or any version (its source)."""
    line: int


def parse(lockfile: Lockfile) -> Iterator[LockedPackage]:
    required: list[tuple[_Module, bool]] = []
    replacements: dict[tuple[str, str | None], _Module] = {}
    for line in _directives(lockfile):
        if line.verb == "require":
            required.append((_required(lockfile, line), not line.indirect))
        elif line.verb == "replace":
            old, new = _replacement(lockfile, line)
            replacements[(old.path, old.version)] = new
    for module, direct in required:
        built = replacements.get((module.path, module.version)) or replacements.get(
            (module.path, None), module
        )
        if built.version is not None:
            yield lockfile.package("Go", built.path, built.version, line=built.line, direct=direct)


def _directives(lockfile: Lockfile) -> Iterator[_Line]:
    """Every directive with its arguments, blocks (``require ( ... )``) unfolded."""
    block: str | None = None
    opened = 0
    for number, raw in enumerate(lockfile.text.splitlines(), 1):
        code, _, comment = raw.partition("//")
        tokens = [token.strip('"`') for token in _TOKEN.findall(code)]
        if not tokens:
            continue
        if block is not None:
            if tokens == [")"]:
                block = None
            else:
                yield _Line(number, block, tokens, _is_indirect(comment))
            continue
        verb, *args = tokens
        if not _DIRECTIVE.match(verb):
            raise lockfile.error(f"not a go.mod directive: {shown(verb)}", number)
        if args == ["("]:
            block, opened = verb, number
        else:
            yield _Line(number, verb, args, _is_indirect(comment))
    if block is not None:
        raise lockfile.error(f"the {block} block is not closed", opened)


def _is_indirect(comment: str) -> bool:
    """Go's rule: the comment is ``indirect``, or starts with ``indirect;``."""
    words = comment.strip()
    return words == "indirect" or words.startswith("indirect;")


def _required(lockfile: Lockfile, line: _Line) -> _Module:
    if len(line.args) != 2:
        raise lockfile.error("expected `require module/path v1.2.3`", line.number)
    return _Module(line.args[0], line.args[1], line.number)


def _replacement(lockfile: Lockfile, line: _Line) -> tuple[_Module, _Module]:
    """(what is replaced, its replacement); a replacement without a version is a folder."""
    if "=>" not in line.args:
        raise lockfile.error("expected `replace old [version] => new [version]`", line.number)
    arrow = line.args.index("=>")
    old, new = line.args[:arrow], line.args[arrow + 1 :]
    if len(old) not in (1, 2) or len(new) not in (1, 2):
        raise lockfile.error("expected `replace old [version] => new [version]`", line.number)
    return (
        _Module(old[0], old[1] if len(old) == 2 else None, line.number),
        _Module(new[0], new[1] if len(new) == 2 else None, line.number),
    )


KIND = LockfileKind(name="gomod", matches=("go.mod",), parse=parse)
