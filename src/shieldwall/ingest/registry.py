"""Report formats: one module each under ``ingest/formats/``, found by discovery.

A format is an object with a ``name``, a ``title`` and two methods: ``detect(head)`` says
from the first megabyte whether a report is in this format (by content, never by file
name), and ``parse(source)`` yields ``ToolRun``, ``RawFinding`` and ``RawComponent`` records.
Adding a format is adding a module that defines ``FORMAT``.

A format whose tool writes nothing (or ``null``) when it finds nothing sets ``empty_tool`` to
that tool's name. An empty report is then a clean scan of that tool, but only when the user
names the format: auto-detection cannot tell it from a scanner that crashed before writing,
and importing that as a clean scan would close every finding.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache
from typing import Protocol

from shieldwall.ingest import formats
from shieldwall.ingest.records import Record, ToolRun
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
    if head.syntax == "empty":
        return _empty(source, available.get(requested))
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
    names = {"json": "JSON", "jsonl": "JSON lines", "xml": "XML", "text": "neither JSON nor XML"}
    return names.get(syntax, syntax)


class _CleanScan:
    """An empty report of a tool that writes nothing when it finds nothing."""

    def __init__(self, fmt: ReportFormat, tool: str) -> None:
        self.name, self.title, self.syntaxes = fmt.name, fmt.title, fmt.syntaxes
        self.tool = tool

    def detect(self, head: Head) -> bool:
        return head.syntax == "empty"

    def parse(self, source: ReportSource) -> Iterator[Record]:
        yield ToolRun(self.tool)


def _empty(source: ReportSource, fmt: ReportFormat | None) -> ReportFormat:
    tool = getattr(fmt, "empty_tool", None)
    if fmt is not None and tool:
        return _CleanScan(fmt, tool)
    clean_when_empty = sorted(n for n, f in all_formats().items() if getattr(f, "empty_tool", None))
    raise source.error(
        "empty report: a scanner that writes nothing has usually failed, so nothing was "
        f"imported (for a tool that writes nothing when it finds nothing, name it with --format: "
        f"{', '.join(clean_when_empty)})"
    )
