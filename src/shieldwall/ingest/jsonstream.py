"""Streaming JSON from hostile reports with ijson, within depth and size bounds.

Every event passes one guard that bounds nesting depth (a "JSON bomb" of deep nesting would
otherwise become millions of Python containers) and the number of events one item may hold,
and that tracks which enclosing array element an item belongs to. Formats read reports in
two kinds of pass:

- ``items(prefix)``: the elements of a bulk array (SARIF results, Trivy vulnerabilities), one
  at a time, with the index of each enclosing array element (which run, which target);
- ``outline(skip)``: the document without its bulk arrays (tool, rules, metadata), small
  enough to hold.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

import ijson

from shieldwall.ingest.source import ReportSource, describe_json_error

Event = tuple[str, str, Any]

MAX_ITEM_EVENTS = 2_000_000
"""An item (one result, one component) larger than this is not a real report's item."""

_STARTS = frozenset(("start_map", "start_array"))
_ENDS = frozenset(("end_map", "end_array"))


def items(
    source: ReportSource, prefix: str, *, multiple_values: bool = False
) -> Iterator[tuple[tuple[int, ...], Any]]:
    """Yield ``(indices, item)`` for each element at ``prefix`` (an ijson path like
    ``runs.item.results.item``); ``indices`` holds the position of each enclosing ``item``
    (``(2,)`` for the third run)."""
    levels = _enclosing_items(prefix)
    indices = [-1] * len(levels)
    with source.open() as stream:
        events = _guard(
            _parse(stream, source, multiple_values),
            source,
            levels=levels,
            indices=indices,
            item_prefix=prefix,
        )
        try:
            for item in ijson.items(events, prefix):
                yield tuple(indices), item
        except ijson.JSONError as exc:
            raise source.error(describe_json_error(exc)) from exc


def outline(source: ReportSource, skip: Collection[str] = ()) -> Any:
    """The whole document with the subtrees at ``skip`` left out (their keys are absent)."""
    with source.open() as stream:
        events = _without(_guard(_parse(stream, source, False), source), frozenset(skip))
        try:
            for document in ijson.items(events, ""):
                return document
        except ijson.JSONError as exc:
            raise source.error(describe_json_error(exc)) from exc
    raise source.error("no JSON document")


def _parse(stream: Any, source: ReportSource, multiple_values: bool) -> Iterator[Event]:
    try:
        yield from ijson.parse(stream, multiple_values=multiple_values, use_float=True)
    except ijson.JSONError as exc:
        raise source.error(describe_json_error(exc)) from exc
    except UnicodeDecodeError as exc:
        raise source.error("not UTF-8 text") from exc


def _enclosing_items(prefix: str) -> list[str]:
    """``runs.item.results.item`` -> ``["runs.item"]``: the item levels above the target."""
    parts = prefix.split(".")
    return [".".join(parts[: i + 1]) for i, part in enumerate(parts[:-1]) if part == "item"]


def _guard(
    events: Iterable[Event],
    source: ReportSource,
    *,
    levels: list[str] | None = None,
    indices: list[int] | None = None,
    item_prefix: str | None = None,
) -> Iterator[Event]:
    max_depth = source.max_depth
    depth = 0
    item_depth = -1  # depth at which the current target item started, -1 outside one
    item_events = 0
    levels = levels or []
    indices = indices if indices is not None else []
    for event in events:
        prefix, kind, _ = event
        if kind in _STARTS:
            depth += 1
            if depth > max_depth:
                raise source.error(f"JSON nested deeper than {max_depth} levels")
        elif kind in _ENDS:
            depth -= 1
        if levels and kind != "map_key" and kind not in _ENDS and prefix in levels:
            # A value starts at an enclosing item level: the next element of that array.
            level = levels.index(prefix)
            indices[level] += 1
            for deeper in range(level + 1, len(indices)):
                indices[deeper] = -1
        if item_prefix is not None:
            if item_depth < 0 and prefix == item_prefix and kind in _STARTS:
                item_depth = depth
                item_events = 0
            elif item_depth >= 0:
                item_events += 1
                if item_events > MAX_ITEM_EVENTS:
                    raise source.error(
                        f"one element of {item_prefix} holds over {MAX_ITEM_EVENTS} values"
                    )
                if kind in _ENDS and depth < item_depth:
                    item_depth = -1
        yield event


def _without(events: Iterable[Event], skip: frozenset[str]) -> Iterator[Event]:
    if not skip:
        yield from events
        return
    for event in events:
        prefix, kind, value = event
        if kind == "map_key" and (f"{prefix}.{value}" if prefix else value) in skip:
            continue
        if prefix in skip or any(prefix.startswith(f"{s}.") for s in skip):
            continue
        yield event
