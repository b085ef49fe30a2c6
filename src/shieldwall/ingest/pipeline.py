"""A report as identified records, parsed in a second process when it is large.

An import is two halves of about equal cost: parsing the report and working out what each
finding is and says (here: its fingerprint and a digest of the report's values), then
comparing with the store and writing (the service). On a machine with more than one core the
halves run at once: a child process parses and sends findings in batches through a pipe,
and the parent stores one batch while the child parses the next. A full pipe stops the
child, so memory stays bounded.

What the parent needs for a finding the store already holds unchanged (most of a repeated
scan) is its fingerprint, digest, tool and asserted status; the rest of the record travels
packed and is unpacked only for new or changed findings.

Small reports are parsed in-process: starting an interpreter costs more than it saves.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Generator, Iterable
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from shieldwall.errors import ShieldwallError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest import registry
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.lifecycle import record_digest
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import ReportError, ReportSource

BATCH = 500
"""Findings per message: enough that a message costs little per finding, few enough that
the parent starts early. Messages are JSON: plain data, no pickle even between our own
processes."""

_PIPE_SIZE = 1 << 20  # Linux's default largest pipe: several messages
_HEADER = struct.Struct("!Q")  # each message: its length, then the message as JSON

_FINDING_FIELDS = tuple(f.name for f in fields(RawFinding))
_finding_values = operator.attrgetter(*_FINDING_FIELDS)
_component_values = operator.attrgetter(*(f.name for f in fields(RawComponent)))
_tool_run_values = operator.attrgetter(*(f.name for f in fields(ToolRun)))
_KINDS = {member.value: member for member in Kind}
_SEVERITIES = {member.value: member for member in Severity}
_STATUSES = {member.value: member for member in Status}
_KIND, _SEVERITY, _STATUS, _COMPONENT = (
    _FINDING_FIELDS.index(name) for name in ("kind", "severity", "status", "component")
)


class Parsed:
    """A finding of the report: its identity, and its record (unpacked when first read)."""

    __slots__ = ("_packed", "_record", "digest", "fingerprint", "status", "tool")

    def __init__(
        self,
        fingerprint: str,
        digest: str,
        tool: str,
        status: Status | None,
        record: RawFinding | None = None,
        packed: str = "",
    ) -> None:
        self.fingerprint = fingerprint
        self.digest = digest
        self.tool = tool
        self.status = status
        self._record = record
        self._packed = packed

    @property
    def record(self) -> RawFinding:
        if self._record is None:
            self._record = _unpack(json.loads(self._packed))
            self._packed = ""
        return self._record


Item = ToolRun | RawComponent | Parsed


def parsed(source: ReportSource, fmt: registry.ReportFormat, min_size: int) -> Generator[Item]:
    """The report's tool runs, components and findings in report order; read by a child
    process when the report is at least ``min_size`` bytes, this machine has a second core,
    and the format is a registered one. Close it to stop the child early."""
    if (
        source.size < min_size
        or (os.cpu_count() or 1) < 2
        or registry.all_formats().get(fmt.name) is not fmt
    ):
        return identified(fmt.parse(source))
    return _from_child(source, fmt)


def identified(records: Iterable[Record]) -> Generator[Item]:
    """Records with their identity, one assigner per report."""
    assigner = IdentityAssigner()  # numbers repeats in report order: one per report
    for record in records:
        if isinstance(record, RawFinding):
            yield Parsed(
                assigner.fingerprint(record),
                record_digest(record),
                record.tool,
                record.status,
                record=record,
            )
        else:
            yield record


def _from_child(source: ReportSource, fmt: registry.ReportFormat) -> Generator[Item]:
    # A new interpreter running this module, not multiprocessing: that would import the
    # caller's main script again in the child, and fork is unsafe in a threaded server.
    try:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # everything it has to say comes as a message
        )
    except OSError:  # no interpreter to start (an embedded Python): parse here
        yield from identified(fmt.parse(source))
        return
    assert child.stdin is not None
    assert child.stdout is not None
    _widen(child.stdout)
    try:
        job = (str(source.path), fmt.name, source.max_size, source.max_depth)
        child.stdin.write(json.dumps(job).encode())
        child.stdin.close()
        while True:
            kind, payload, position = _receive(child.stdout, source)
            if source.progress is not None and position is not None:
                source.progress(position)
            if kind == "items":
                yield from map(_receive_item, payload)
            elif kind == "done":
                return
            elif kind == "error":
                raise ReportError(payload)
            else:
                raise RuntimeError(f"the parser process failed: {payload}")
    finally:
        child.kill()  # a no-op once it has exited; ends it when the import failed first
        child.wait()
        child.stdout.close()


def _receive_item(item: list[Any]) -> Item:
    tag = item[0]
    if tag == "f":
        _, fingerprint, digest, tool, status, packed = item
        status = _STATUSES[status] if status is not None else None
        return Parsed(fingerprint, digest, tool, status, packed=packed)
    if tag == "c":
        return RawComponent(*item[1])
    return ToolRun(*item[1])


def _widen(pipe: IO[bytes]) -> None:
    """Let the child work several batches ahead (a pipe holds 64 KiB, a batch about 150):
    otherwise each process waits for the other at every batch."""
    with contextlib.suppress(ImportError, AttributeError, OSError):  # Linux only
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)


def _receive(stream: IO[bytes], source: ReportSource) -> tuple[str, Any, int | None]:
    header = stream.read(_HEADER.size)
    if len(header) == _HEADER.size:
        (length,) = _HEADER.unpack(header)
        body = stream.read(length)
        if len(body) == length:
            kind, payload, position = json.loads(body)
            return kind, payload, position
    raise source.error("the parser process ended unexpectedly")


def _parse_in_child() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends the child
    out = sys.stdout.buffer
    position: list[int | None] = [None]

    def send(kind: str, payload: Any) -> None:
        body = json.dumps((kind, payload, position[0])).encode()
        out.write(_HEADER.pack(len(body)))
        out.write(body)
        out.flush()

    try:
        path, format_name, max_size, max_depth = json.loads(sys.stdin.buffer.read())
        source = ReportSource(
            Path(path),
            max_size=max_size,
            max_depth=max_depth,
            progress=lambda done: position.__setitem__(0, done),
        )
        batch: list[Any] = []
        for item in identified(registry.all_formats()[format_name].parse(source)):
            if type(item) is Parsed:
                status = item.status.value if item.status is not None else None
                packed = json.dumps(_pack(item.record))
                batch.append(("f", item.fingerprint, item.digest, item.tool, status, packed))
            elif type(item) is RawComponent:
                batch.append(("c", _component_values(item)))
            else:
                batch.append(("t", _tool_run_values(item)))
            if len(batch) >= BATCH:
                send("items", batch)
                batch = []
        send("items", batch)
        send("done", None)
    except ShieldwallError as exc:
        send("error", exc.message)
    except Exception as exc:  # reported to the parent, which fails the import
        send("crash", f"{type(exc).__name__}: {exc}")


def _pack(record: RawFinding) -> tuple[Any, ...]:
    """A finding as plain values (enums by value), in field order."""
    values = list(_finding_values(record))
    values[_KIND] = record.kind.value
    values[_SEVERITY] = record.severity.value
    values[_STATUS] = record.status.value if record.status is not None else None
    component = record.component
    values[_COMPONENT] = _component_values(component) if component is not None else None
    return tuple(values)


def _unpack(fields_: list[Any]) -> RawFinding:
    fields_[_KIND] = _KINDS[fields_[_KIND]]
    fields_[_SEVERITY] = _SEVERITIES[fields_[_SEVERITY]]
    if fields_[_STATUS] is not None:
        fields_[_STATUS] = _STATUSES[fields_[_STATUS]]
    if fields_[_COMPONENT] is not None:
        fields_[_COMPONENT] = RawComponent(*fields_[_COMPONENT])
    return RawFinding(*fields_)


if __name__ == "__main__":
    _parse_in_child()
