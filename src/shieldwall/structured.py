"""Reading YAML documents from hostile files, keeping the line of every value.

Safe by construction: only the standard scalar tags are accepted (no Python objects), the
size, nesting depth and number of nodes (alias expansion) are bounded, duplicate keys are an
error rather than a silent overwrite, and every problem names the file and line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from shieldwall.errors import InputError

MAX_DEPTH = 50
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
MAX_NODES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


@dataclass
class LocatedDocument:
    """A parsed document and the line (1-based) where each value starts."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc`` or of its closest ancestor that has one."""
        key = tuple(loc)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())

    def error(self, loc: Sequence[str | int], problem: str) -> InputError:
        return InputError.in_file(self.path, problem, self.line_of(loc))


def read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError.in_file(path, f"file is {size} bytes, above the limit of {max_bytes}")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError.in_file(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise InputError.in_file(path, "is a folder, not a file") from exc
    except UnicodeDecodeError as exc:
        raise InputError.in_file(path, "not UTF-8 text") from exc
    except OSError as exc:
        raise InputError.in_file(path, f"cannot read: {exc.strerror}") from exc


def load_yaml(path: Path, text: str) -> LocatedDocument:
    try:
        root = _compose(path, text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise InputError.in_file(
            path, f"not valid YAML: {exc.problem or exc.context}", line
        ) from exc
    except yaml.YAMLError as exc:
        raise InputError.in_file(path, f"not valid YAML: {exc}") from exc
    except RecursionError:
        # PyYAML's composer recurses once per level: a hostile file nests past the stack.
        raise InputError.in_file(path, f"nested deeper than {MAX_DEPTH} levels") from None
    document = LocatedDocument(path, None)
    if root is None:
        return document
    document.data = _Converter(document).convert(root, ())
    return document


def _compose(path: Path, text: str) -> Node | None:
    """The document's node tree. With libyaml, its events are read one at a time and the
    tree built here without recursion, stopping past ``MAX_DEPTH``: several times faster
    than PyYAML's own composer, and safe (libyaml's composer recurses in C, and a hostile
    file nested deep enough crashes the process)."""
    if not yaml.__with_libyaml__:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    # libyaml's marks and PyYAML's untyped resolver are not in the type stubs.
    resolve: Any = Resolver().resolve
    anchors: dict[str, Node] = {}
    stack: list[tuple[Node, list[Any]]] = []
    root: Node | None = None
    documents = 0

    def attach(node: Node, anchor: str | None) -> None:
        nonlocal root
        if anchor is not None:
            anchors[anchor] = node
        if stack:
            stack[-1][1].append(node)
        else:
            root = node

    events: Iterator[Any] = yaml.parse(text, Loader=yaml.CSafeLoader)
    for event in events:
        start: Any = event.start_mark
        end: Any = event.end_mark
        line = start.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise InputError.in_file(path, "more than one YAML document", line)
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(ScalarNode, event.value, event.implicit)
            node: Node = ScalarNode(tag, event.value, start, end, event.style)
            attach(node, event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise InputError.in_file(path, f"unknown alias {event.anchor!r}", line)
            attach(anchors[event.anchor], None)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise InputError.in_file(path, f"nested deeper than {MAX_DEPTH} levels", line)
            kind = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(kind, None, event.implicit)
            node = kind(tag, [], start, None, event.flow_style)
            attach(node, event.anchor)
            stack.append((node, []))
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            node, items = stack.pop()
            if isinstance(node, MappingNode):
                node.value = list(zip(items[::2], items[1::2], strict=True))
            else:
                node.value = items
            node.end_mark = end
    return root


class _Converter:
    def __init__(self, document: LocatedDocument) -> None:
        self.document = document
        self.nodes = 0
        self.scalars = SafeConstructor()

    def convert(self, node: Node, loc: Loc) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        if self.nodes > MAX_NODES:
            raise InputError.in_file(
                self.document.path, f"more than {MAX_NODES} values (alias expansion?)", line
            )
        if len(loc) > MAX_DEPTH:
            raise InputError.in_file(
                self.document.path, f"nested deeper than {MAX_DEPTH} levels", line
            )
        self.document.lines.setdefault(loc, line)
        if isinstance(node, MappingNode | SequenceNode) and node.tag not in _COLLECTION_TAGS:
            raise InputError.in_file(
                self.document.path, f"unsupported value: tag {node.tag!r}", line
            )
        if isinstance(node, MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        try:
            return self.scalars.construct_object(node)
        except ConstructorError as exc:
            raise InputError.in_file(
                self.document.path, f"unsupported value: {exc.problem}", line
            ) from exc

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        inherited: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise InputError.in_file(self.document.path, "keys must be plain text", line)
            if key_node.tag == _MERGE_TAG:
                inherited = {**self._merged(value_node, (*loc, "<<"), line), **inherited}
                continue
            key = str(self.convert(key_node, (*loc, "<key>")))
            if key in out:
                raise InputError.in_file(self.document.path, f"duplicate key {key!r}", line)
            self.document.lines[(*loc, key)] = line
            out[key] = self.convert(value_node, (*loc, key))
        for key in inherited.keys() - out.keys():
            self.document.lines.setdefault((*loc, key), self.document.lines.get((*loc, "<<"), 1))
        return {**inherited, **out} if inherited else out

    def _merged(self, node: Node, loc: Loc, line: int) -> dict[str, Any]:
        """The keys a merge key (``<<: *base`` or ``<<: [*a, *b]``) brings in: the
        mapping's own keys win over them, and an earlier base over a later one."""
        value = self.convert(node, loc)
        bases = value if isinstance(value, list) else [value]
        if not all(isinstance(base, dict) for base in bases):
            raise InputError.in_file(
                self.document.path, "a merge key (<<) must name a mapping or a list of them", line
            )
        merged: dict[str, Any] = {}
        for base in reversed(bases):
            merged.update(base)
        return merged


def validation_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """Pydantic errors as (location, plain-English problem) pairs."""
    problems: list[tuple[Loc, str]] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append((loc, f"unknown key {loc[-1]!r}"))
        elif error["type"] == "missing":
            problems.append((loc[:-1], f"missing required key {loc[-1]!r}"))
        elif error["type"] in ("enum", "literal_error"):
            problems.append((loc, f"{format_loc(loc)}: {_not_one_of(error)}"))
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append((loc, f"{format_loc(loc)}: {message}" if loc else message))
    return problems


def _not_one_of(error: Any) -> str:
    """``'htp' is not one of ...`` with the closest allowed word, for enums and literals."""
    expected = str((error.get("ctx") or {}).get("expected", ""))
    words = re.findall(r"'([^']*)'", expected)
    given = error.get("input")
    close = difflib.get_close_matches(str(given), words, n=1) if words else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{given!r} is not one of {expected}{hint}"


def format_loc(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(document: LocatedDocument, model: type[ModelT]) -> ModelT:
    """Validate the whole document; all problems are reported, one line each."""
    return validate_document(document, TypeAdapter(model))


def validate_document(document: LocatedDocument, adapter: TypeAdapter[T]) -> T:
    """``validate`` for any type pydantic knows (a list of models, say)."""
    try:
        return adapter.validate_python(document.data if document.data is not None else {})
    except ValidationError as exc:
        raise InputError(
            "\n".join(
                f"{document.path}:{document.line_of(loc) or 1}: {problem}"
                for loc, problem in validation_problems(exc)
            )
        ) from exc


def validate_overlaid(
    default: LocatedDocument, path: Path | None, model: type[ModelT], max_bytes: int, show: str
) -> ModelT:
    """The defaults with the keys of the file at ``path`` (when given) laid over them:
    mappings merge key by key, anything else replaces the default. ``show`` names the
    command that prints the defaults, for the error when the file is not a mapping."""
    if path is None:
        return validate(default, model)
    document = load_yaml(path, read_text(path, max_bytes))
    if document.data is not None and not isinstance(document.data, dict):
        raise document.error((), f"a policy is a mapping of keys (see `{show}`)")
    merged = LocatedDocument(path, _overlay(default.data, document.data or {}), document.lines)
    return validate(merged, model)


def _overlay(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        return {**base, **{k: _overlay(base.get(k), v) for k, v in top.items()}}
    return top
