"""Planting wrong values in parsed documents: where a parser must refuse, not crash."""

from __future__ import annotations

from typing import Any


def paths(node: Any, width: int = 5, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``node`` (the first ``width`` items of each list)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, width, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:width]):
            found += paths(value, width, (*prefix, index))
    return found


def replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``node`` with ``value`` at ``path``."""
    if not path:
        return value
    head, *rest = path
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = replace(copy[head], tuple(rest), value)
    return copy
