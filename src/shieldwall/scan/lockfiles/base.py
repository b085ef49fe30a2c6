"""What every lockfile parser shares: the package record, the error, the registry entry, and
one way to read hostile text into typed values that fails with a ``LockfileError``.

Parsers never trust a document's shape: a list where a mapping belongs, a number where a
version belongs, or nesting deep enough to exhaust the stack is a one-line error naming the
file, never an exception of another type (that would be a traceback and exit code 3).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any, TypeVar
from xml.etree.ElementTree import Element, ParseError

import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from shieldwall.errors import InputError
from shieldwall.ingest.normalize import build_purl
from shieldwall.text import one_line

NodeT = TypeVar("NodeT", bound=Hashable)


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package version a lockfile pins, named as its ecosystem's advisories name it."""

    ecosystem: str
    """OSV ecosystem: "PyPI", "npm", "Go", "crates.io", "RubyGems", "Packagist", "Maven"."""
    name: str
    """As the ecosystem spells it: Maven "group:artifact", Go the module path."""
    version: str
    """As the lockfile writes it (Go and Packagist may keep a leading "v")."""
    purl: str
    lockfile: str
    """The path the parser was given."""
    line: int | None = None
    """1-based line of the declaration, where the format makes it cheap to know."""
    direct: bool | None = None
    """The project asks for it itself (None: the lockfile does not say)."""
    dev: bool | None = None
    """Only development needs it (None: the lockfile does not say)."""


class LockfileError(InputError):
    """A lockfile that cannot be read: "path[:line]: problem" in one line, exit code 2."""


@dataclass(frozen=True, slots=True)
class LockfileKind:
    """A lockfile format: the file names it goes by and its parser."""

    name: str
    matches: tuple[str, ...] | Callable[[PurePosixPath], bool]
    """Glob patterns for the file name (case-sensitive, as the tools write them), or a test
    of the whole path when the name alone does not tell (``requirements/base.txt``)."""
    parse: Callable[[Lockfile], Iterable[LockedPackage]]

    def accepts(self, path: PurePosixPath) -> bool:
        if callable(self.matches):
            return self.matches(path)
        return any(fnmatchcase(path.name, pattern) for pattern in self.matches)


@dataclass(frozen=True, slots=True)
class Lockfile:
    """One lockfile's path and text, with readers that turn every problem into a
    ``LockfileError`` naming the file."""

    path: str
    text: str

    def error(self, problem: str, line: int | None = None) -> LockfileError:
        """The error, folded into one line: parsers' messages (libyaml's) can span several."""
        return LockfileError.in_file(self.path, one_line(problem), line)

    def package(
        self,
        ecosystem: str,
        name: str,
        version: str,
        *,
        line: int | None = None,
        direct: bool | None = None,
        dev: bool | None = None,
    ) -> LockedPackage:
        """The record of ``name`` at ``version``, refused when no purl can name it."""
        if not version.strip():
            raise self.error(f"{shown(name)} has an empty version", line)
        purl = build_purl(ecosystem, name, version)
        if purl is None:
            raise self.error(f"{shown(name)} is not a {ecosystem} package name", line)
        return LockedPackage(ecosystem, name, version, purl, self.path, line, direct, dev)

    # --- syntaxes ------------------------------------------------------------------------

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise self.error(f"not valid JSON: {exc.msg}", exc.lineno) from exc
        except RecursionError as exc:
            raise self.error("nested too deeply") from exc
        except ValueError as exc:  # a number of more than 4,300 digits
            raise self.error(f"not valid JSON: {exc}") from exc

    def toml(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise self.error(f"not valid TOML: {exc}") from exc
        except RecursionError as exc:
            raise self.error("nested too deeply") from exc

    def yaml(self) -> Any:
        """The document through the pure-Python safe loader: libyaml's (CSafeLoader) is
        faster but crashes the whole process on deeply nested collections instead of
        raising, and a scan must survive any file in the repository it reads."""
        try:
            return yaml.load(self.text, Loader=_Yaml12Loader)  # noqa: S506 (a SafeLoader)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            raise self.error(f"not valid YAML: {exc.problem or exc.context}", line) from exc
        except RecursionError as exc:
            raise self.error("nested too deeply") from exc
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            # ValueError, TypeError: timestamps out of range and the like.
            raise self.error(f"not valid YAML: {exc}") from exc

    def xml(self) -> Element:
        """The root element; a DTD, entities and external references are refused outright
        (billion laughs, XXE): no build file needs them."""
        try:
            root: Element = fromstring(self.text, forbid_dtd=True)
        except ParseError as exc:
            raise self.error(f"not valid XML: {exc}", exc.position[0]) from exc
        except DefusedXmlException as exc:
            raise self.error(f"refused XML: {exc}") from exc
        return root

    # --- typed access ----------------------------------------------------------------------

    def document(self, value: object) -> dict[str, Any]:
        """The top level of a JSON or YAML lockfile: a mapping, never ``null`` or empty."""
        if not isinstance(value, dict):
            raise self.error(f"the document must be a mapping, not {kind_of(value)}")
        return self.mapping(value, "the document")

    def mapping(self, value: object, what: str) -> dict[str, Any]:
        """``value`` when it is a mapping with text keys; a missing one (None) is empty."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"{what} must be a mapping, not {kind_of(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(f"{what} has a key that is not text: {shown(key)}")
        return value

    def array(self, value: object, what: str) -> list[Any]:
        """``value`` when it is a list; a missing one (None) is empty."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{what} must be a list, not {kind_of(value)}")
        return value

    def string(self, value: object, what: str) -> str:
        if not isinstance(value, str):
            problem = "is missing" if value is None else f"must be text, not {kind_of(value)}"
            raise self.error(f"{what} {problem}")
        return value

    def optional_string(self, value: object, what: str) -> str | None:
        return None if value is None else self.string(value, what)

    # --- where things are written --------------------------------------------------------

    def package_tables(self) -> Iterator[tuple[str, dict[str, Any], int | None]]:
        """Each ``[[package]]`` table of a TOML lockfile (Cargo, Poetry, uv): how errors
        name it, its keys, and the line of its ``name`` key.

        TOML parsers forget lines; the lockfile tools write one ``name = `` right under each
        ``[[package]]`` header, so a scan of the text finds them. Should the count differ
        from the parsed tables (a header inside a multi-line string), no line is given.
        """
        tables = self.array(self.toml().get("package"), "package")
        lines = _package_name_lines(self.text)
        if len(lines) != len(tables):
            lines = [None] * len(tables)
        for index, (table, line) in enumerate(zip(tables, lines, strict=True)):
            what = f"package[{index}]"
            yield what, self.mapping(table, what), line

    def key_lines(self, indent: int) -> dict[str, int]:
        """The line of each block-mapping key written ``indent`` spaces in (quoted or not),
        first occurrence: YAML lockfiles put one package per such key."""
        found: dict[str, int] = {}
        for number, line in enumerate(self.text.splitlines(), 1):
            match = _YAML_KEY.match(line)
            if match and len(match["indent"]) == indent:
                found.setdefault(_unquoted(match["key"]), number)
        return found


class _Yaml12Loader(yaml.SafeLoader):
    """The safe loader reading true/false only as booleans, as YAML 1.2 does: pnpm and Yarn
    write YAML 1.2, where a package named ``yes``, ``no``, ``on`` or ``off`` is text."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_TOML_NAME = re.compile(r"^\s*name\s*=")
_YAML_KEY = re.compile(r"""^(?P<indent> *)(?P<key>"[^"]*"|'(?:[^']|'')*'|[^\s#'"][^#]*?):\s*$""")


def _package_name_lines(text: str) -> list[int | None]:
    lines: list[int | None] = []
    in_header = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == "[[package]]":
            lines.append(None)
            in_header = True
        elif line.lstrip().startswith("["):
            in_header = False  # a sub-table ([package.metadata]) has names of its own
        elif in_header and lines[-1] is None and _TOML_NAME.match(line):
            lines[-1] = number
    return lines


def _unquoted(key: str) -> str:
    if key[:1] == '"':
        return key[1:-1]
    if key[:1] == "'":
        return key[1:-1].replace("''", "'")
    return key


def split_at_version(spec: str) -> tuple[str, str]:
    """``name@rest`` split at the ``@`` that ends the name: a scope's ``@`` comes first
    (``@babel/core@^7.0.0``). The rest is empty when there is no version part."""
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1 :])


def dev_flags(
    main: Iterable[NodeT], dev: Iterable[NodeT], edges: Mapping[NodeT, Iterable[NodeT]]
) -> dict[NodeT, bool]:
    """For lockfiles that record the graph but no dev flag (uv, pnpm 9): each node the
    roots reach, True when only the development roots reach it. A node missing from the
    result hangs from no root, so nothing can be said of it."""
    production = _reached(main, edges)
    return {node: node not in production for node in production | _reached(dev, edges)}


def _reached(roots: Iterable[NodeT], edges: Mapping[NodeT, Iterable[NodeT]]) -> set[NodeT]:
    seen: set[NodeT] = set()
    stack = list(roots)
    while stack:  # iterative: a hostile graph can be as deep as it is long
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen


def kind_of(value: object) -> str:
    """What a value is, in the words of someone reading a lockfile."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def shown(value: object) -> str:
    """A value quoted for an error message, cut short: it comes from a hostile file."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:79]}…"
