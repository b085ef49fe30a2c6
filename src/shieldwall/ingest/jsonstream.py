"""Streaming JSON from hostile reports with ijson, within depth and size bounds.

Formats read a report in two kinds of pass:

- ``outline(source, skip)``: the document without its bulky arrays (SARIF ``results``, Trivy
  ``Vulnerabilities``), small enough to hold;
- ``items(source, prefix)``: the elements of a bulky array one at a time, each with the index
  of its enclosing array elements (which SARIF run, which Trivy target).

Safety and speed come from one rule: every event of a document passes one Python-level
guard exactly once. The guard bounds the nesting depth (a "JSON bomb" of deep nesting would
otherwise become millions of Python containers) and the size of each bulk element, and counts
the bulk elements under each enclosing element. ``outline`` runs that guarded pass over the
whole file; after it, ``items`` for a skipped array reads the file again at C speed with
ijson's own builder (the guard has already seen every byte) and takes the enclosing indices
from the counts. ``items`` without a prior ``outline`` guards its own pass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson

from shieldwall.ingest.source import JSON_BUFFER, ReportError, ReportSource, describe_json_error

MAX_ITEM_EVENTS = 2_000_000
"""A bulk element (one result, one component) with more values than this is no real tool's."""

_STARTS = frozenset(("start_map", "start_array"))
_ENDS = frozenset(("end_map", "end_array"))
_SCAN_CACHE = "_jsonstream_scan"


@dataclass
class _Scan:
    """What the guarded pass learnt: per bulk array, the element count under each enclosing
    element, in document order."""

    counts: dict[str, list[tuple[tuple[int, ...], int]]] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    """The skipped keys that were present (``vulnerabilities``, even when empty)."""


def outline(source: ReportSource, skip: Collection[str] = ()) -> Any:
    """The whole document with the subtrees at ``skip`` left out (their keys are absent)."""
    skip = frozenset(skip)
    bulk = frozenset(f"{path}.item" for path in skip)
    levels = sorted({lvl for prefix in bulk for lvl in _enclosing_items(prefix)})
    scan = _Scan({prefix: [] for prefix in bulk})
    builder = ijson.ObjectBuilder()
    with source.open() as stream:
        for _, kind, value in _guarded_events(stream, source, False, bulk, levels, scan, skip):
            builder.event(kind, value)
    setattr(source, _SCAN_CACHE, scan)
    if not hasattr(builder, "value"):
        raise source.error("no JSON document")
    return builder.value


def skipped(source: ReportSource, path: str) -> bool:
    """Whether the last ``outline`` of ``source`` left out a ``path`` that was present."""
    scan: _Scan | None = getattr(source, _SCAN_CACHE, None)
    return scan is not None and path in scan.skipped


def items(
    source: ReportSource, prefix: str, *, multiple_values: bool = False
) -> Iterator[tuple[tuple[int, ...], Any]]:
    """Yield ``(indices, item)`` for each element at ``prefix`` (an ijson path such as
    ``runs.item.results.item``); ``indices`` holds the position of each enclosing ``item``
    (``(2,)`` for the third run)."""
    scan: _Scan | None = getattr(source, _SCAN_CACHE, None)
    if scan is not None and prefix in scan.counts:
        yield from _fast_items(source, prefix, scan.counts[prefix])
    else:
        yield from _guarded_items(source, prefix, multiple_values)


def objects(
    source: ReportSource, prefix: str, *, multiple_values: bool = False
) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    """``items`` that are JSON objects; anything else a tool wrote in their place is skipped."""
    for indices, item in items(source, prefix, multiple_values=multiple_values):
        if isinstance(item, dict):
            yield indices, item


def _fast_items(
    source: ReportSource, prefix: str, groups: list[tuple[tuple[int, ...], int]]
) -> Iterator[tuple[tuple[int, ...], Any]]:
    expected = iter(groups)
    indices, remaining = next(expected, ((), 0))
    with source.open() as stream:
        try:
            for item in ijson.items(stream, prefix, buf_size=JSON_BUFFER, use_float=True):
                while remaining == 0:
                    indices, remaining = next(expected, ((), -1))
                    if remaining < 0:
                        raise source.error("the file changed while it was being read")
                remaining -= 1
                yield indices, item
        except ijson.JSONError as exc:
            raise source.error(describe_json_error(exc)) from exc


def _guarded_items(
    source: ReportSource, prefix: str, multiple_values: bool
) -> Iterator[tuple[tuple[int, ...], Any]]:
    levels = _enclosing_items(prefix)
    scan = _Scan({prefix: []})
    with source.open() as stream:
        events = _guarded_events(stream, source, multiple_values, frozenset({prefix}), levels, scan)
        try:
            for item in ijson.items(events, prefix):
                yield scan.counts[prefix][-1][0], item
        except ijson.JSONError as exc:
            raise source.error(describe_json_error(exc)) from exc


def _enclosing_items(prefix: str) -> list[str]:
    """``runs.item.results.item`` -> ``["runs.item"]``: the item levels above the target."""
    parts = prefix.split(".")
    return [".".join(parts[: i + 1]) for i, part in enumerate(parts[:-1]) if part == "item"]


def _guarded_events(
    stream: BinaryIO,
    source: ReportSource,
    multiple_values: bool,
    bulk: frozenset[str],
    levels: list[str],
    scan: _Scan,
    skip: frozenset[str] = frozenset(),
) -> Iterator[tuple[str, str, Any]]:
    """Every event, checked and counted; the subtrees at ``skip`` are checked and counted but
    not yielded (most of a report's events are in them: not yielding them is cheaper)."""
    parents: dict[str, frozenset[str]] = {}
    for path in skip:
        parent, _, key = path.rpartition(".")
        parents[parent] = parents.get(parent, frozenset()) | {key}
    tracked = (*levels, *bulk)
    # Skipped values where nothing is tracked but their own elements (every real one) are
    # read by a tighter loop, ``_skip_plain``: they hold most of a report's events.
    plain = {
        path
        for path in skip
        if not any(p == path or p.startswith(f"{path}.") for p in tracked if p != f"{path}.item")
    }
    skip_depth = -1  # while a skipped value is read (by this loop): the depth of its key
    max_depth = source.max_depth
    depth = 0
    level_of = {level: i for i, level in enumerate(levels)}
    # Values nested deeper than every tracked prefix cannot be at one: skip the lookups.
    shallow = max((p.count(".") + 2 for p in tracked), default=0)
    indices = [-1] * len(levels)
    item_start = -1  # event number where the current bulk element started
    item_depth = 0
    parser = ijson.parse(
        stream, buf_size=JSON_BUFFER, multiple_values=multiple_values, use_float=True
    )
    events = enumerate(parser)
    try:
        for number, event in events:
            prefix, kind, value = event
            if kind in _STARTS:
                depth += 1
                if depth > max_depth:
                    raise _too_deep(source)
            elif kind in _ENDS:
                depth -= 1
                if item_start >= 0 and depth < item_depth:
                    if number - item_start > MAX_ITEM_EVENTS:
                        raise _too_large(source, prefix)
                    item_start = -1
                if skip_depth < 0:
                    yield event
                elif depth == skip_depth:
                    skip_depth = -1  # the skipped container ended
                continue
            elif kind == "map_key":
                if skip_depth < 0:
                    if prefix in parents and value in parents[prefix]:
                        path = f"{prefix}.{value}" if prefix else value
                        scan.skipped.add(path)
                        # (Not inside an element being measured: that needs this loop.)
                        if path in plain and item_start < 0:
                            element = f"{path}.item"
                            found = _skip_plain(events, source, depth, element)
                            _count(scan.counts[element], tuple(indices), found)
                        else:
                            skip_depth = depth
                    else:
                        yield event
                continue
            if depth > shallow:
                if skip_depth < 0:
                    yield event
                continue
            # A value starts here: an element of an enclosing array, or a bulk element.
            if prefix in level_of:
                level = level_of[prefix]
                indices[level] += 1
                for deeper in range(level + 1, len(indices)):
                    indices[deeper] = -1
            if prefix in bulk:
                _count(scan.counts[prefix], tuple(indices), 1)
                if kind in _STARTS:
                    item_start, item_depth = number, depth
            if skip_depth < 0:
                yield event
            elif kind not in _STARTS and depth == skip_depth:
                skip_depth = -1  # the skipped value was a scalar
    except ijson.JSONError as exc:
        raise source.error(describe_json_error(exc)) from exc
    except UnicodeDecodeError as exc:
        raise source.error("not UTF-8 text") from exc


def _skip_plain(
    events: Iterator[tuple[int, tuple[str, str, Any]]],
    source: ReportSource,
    depth: int,
    element: str,
) -> int:
    """Read past the value of a skipped key at ``depth`` whose only tracked content is its
    elements (at ``element``) with the checks of ``_guarded_events``, fewer of them per
    event; the number of elements."""
    max_depth = source.max_depth
    top = depth
    child = depth + 2  # where an element that is a container starts
    found = 0
    item_start = -1
    for number, (prefix, kind, _) in events:
        if kind in _STARTS:
            depth += 1
            if depth > max_depth:
                raise _too_deep(source)
            if depth == child and prefix == element:
                found += 1
                item_start = number
        elif kind in _ENDS:
            depth -= 1
            if item_start >= 0 and depth < child:
                if number - item_start > MAX_ITEM_EVENTS:
                    raise _too_large(source, prefix)
                item_start = -1
            if depth == top:
                break
        elif depth == top:  # the value is a scalar
            break
        elif depth == top + 1 and kind != "map_key" and prefix == element:
            found += 1  # a scalar element
    return found


def _count(
    groups: list[tuple[tuple[int, ...], int]], position: tuple[int, ...], found: int
) -> None:
    """Add ``found`` elements under the enclosing elements at ``position``."""
    if not found:
        return
    if groups and groups[-1][0] == position:
        groups[-1] = (position, groups[-1][1] + found)
    else:
        groups.append((position, found))


def _too_deep(source: ReportSource) -> ReportError:
    return source.error(f"JSON nested deeper than {source.max_depth} levels")


def _too_large(source: ReportSource, prefix: str) -> ReportError:
    return source.error(f"an element of {prefix} holds over {MAX_ITEM_EVENTS} values")
