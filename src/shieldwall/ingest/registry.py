"""Report formats: one module each under ``ingest/formats/``, found by discovery.

A format is an object with a ``name``, a ``title`` and two methods: ``detect(head)`` says
from the first megabyte whether a report is in this format (by content, never by file
name), and ``parse(source)`` yields ``ToolRun``, ``RawFinding`` and ``RawComponent`` records.
Adding a format is adding a module that defines ``FORMAT``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache
from typing import Protocol

from shieldwall.ingest import formats
from shieldwall.ingest.records import Record
from shieldwall.ingest.source import Head, ReportSource


class ReportFormat(Protocol):
    name: str
    """Used with ``--format``: lower case, dashes."""
    title: str
    """What a person calls it: "SARIF 2.1.0 (any tool)"."""
    syntaxes: frozenset[str]
    """What the head may look like: json, jsonl (JSON lines), xml."""

    def detect(self, head: Head) -> bool: ...

    def parse(self, source: ReportSource) -> Iterator[Record]: ...


@cache
def all_formats() -> dict[str, ReportFormat]:
    found: dict[str, ReportFormat] = {}
    for module_info in sorted(pkgutil.iter_modules(formats.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{formats.__name__}.{module_info.name}")
        fmt: ReportFormat | None = getattr(module, "FORMAT", None)
        if fmt is not None:
            if fmt.name in found:
                raise RuntimeError(f"two report formats are named {fmt.name!r}")
            found[fmt.name] = fmt
    return found


def resolve(source: ReportSource, requested: str = "auto") -> ReportFormat:
    """The format of ``source``: the requested one (checked) or the one its content shows."""
    head = source.head()
    available = all_formats()
    if requested != "auto":
        fmt = available.get(requested)
        if fmt is None:
            raise source.error(
                f"unknown format {requested!r} (known: {', '.join(sorted(available))})"
            )
        if head.syntax not in fmt.syntaxes:
            expected = " or ".join(sorted(_syntax_name(s) for s in fmt.syntaxes))
            raise source.error(
                f"expected {expected} for {fmt.name}, found {_syntax_name(head.syntax)}"
            )
        if not fmt.detect(head):
            raise source.error(f"does not look like {fmt.title}")
        return fmt
    matches = [f for f in available.values() if head.syntax in f.syntaxes and f.detect(head)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise source.error(
            f"format not recognised ({_syntax_name(head.syntax)}); "
            "see `shieldwall formats` for what can be imported"
        )
    names = ", ".join(fmt.name for fmt in matches)
    raise source.error(f"could be any of {names}: choose one with --format")


def _syntax_name(syntax: str) -> str:
    return {"json": "JSON", "jsonl": "JSON lines", "xml": "XML", "text": "plain text"}.get(
        syntax, syntax
    )
