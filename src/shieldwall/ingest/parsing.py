"""Small helpers format parsers share for reading loosely typed tool output safely."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shieldwall.text import clean, one_line

_EMPTY: Mapping[str, Any] = {}
TITLE_MAX = 1000
DESCRIPTION_MAX = 20_000
RULE_MAX = 500
REFERENCES_MAX = 30


def text(value: object) -> str | None:
    """A non-empty string, or None (numbers are accepted, containers are not)."""
    if isinstance(value, str):  # the common case, first
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def title(value: object, fallback: str = "(untitled)") -> str:
    found = text(value)
    return one_line(found, TITLE_MAX) if found else fallback


def description(*parts: object) -> str | None:
    """The distinct non-empty parts, cleaned, one paragraph each, within ``DESCRIPTION_MAX``."""
    found: dict[str, None] = {}  # distinct, in order
    for part in parts:
        value = text(part)
        if value:
            found[clean(value, DESCRIPTION_MAX)] = None
    joined = "\n\n".join(found)
    if len(joined) > DESCRIPTION_MAX:
        joined = joined[: DESCRIPTION_MAX - 1] + "…"
    return joined or None


def rule(value: object, fallback: str = "unknown") -> str:
    found = text(value)
    return one_line(found, RULE_MAX) if found else fallback


def integer(value: object) -> int | None:
    """A positive line number or count, from an int or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**31 else None
    if isinstance(value, float) and value.is_integer():
        return integer(int(value))
    if isinstance(value, str) and value.strip().isdigit():
        return integer(int(value.strip()))
    return None


def mapping(value: object) -> Mapping[str, Any]:
    # JSON objects are dicts: the concrete check is several times faster than the ABC's.
    return value if isinstance(value, dict) else _EMPTY


def sequence(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def dig(value: object, *keys: str | int) -> Any:
    """``value[k1][k2]...`` through dicts and lists, None where the shape differs."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
    return value


def strings(values: object) -> list[str]:
    """The non-empty strings of a list (or of a single string)."""
    if isinstance(values, str):
        values = [values]
    return [s for s in (text(v) for v in sequence(values)) if s]


_URL = re.compile(r"^https?://[^\s<>\"]+$")


def references(*groups: object) -> list[str]:
    """Distinct http(s) URLs, in order, at most ``REFERENCES_MAX``."""
    out: list[str] = []
    for group in groups:
        for value in (
            group if isinstance(group, Iterable) and not isinstance(group, str) else [group]
        ):
            url = text(value)
            if url and len(url) <= 2048 and _URL.match(url) and url not in out:
                out.append(url)
                if len(out) >= REFERENCES_MAX:
                    return out
    return out


def labelled_lines(*blocks: object) -> dict[str, str]:
    """``Key: value`` lines in tool messages (Trivy, Grype), keys lower-cased."""
    found: dict[str, str] = {}
    for block in blocks:
        for line in (text(block) or "").splitlines():
            key, sep, value = line.partition(":")
            if sep and value.strip() and len(key) < 40:
                found.setdefault(key.strip().lower(), value.strip())
    return found


def iter_dicts(values: object) -> Iterator[Mapping[str, Any]]:
    for value in sequence(values):
        if isinstance(value, dict):
            yield value
