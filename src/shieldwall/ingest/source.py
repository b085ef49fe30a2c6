"""A report file opened for reading: size limits, transparent gzip, and a sniffed head.

Reports are read as streams, possibly several times (a pass for run-level metadata, a pass
for the results), so a source re-opens its file rather than holding its content.
"""

from __future__ import annotations

import gzip
import io
import stat
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import ijson
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from shieldwall.errors import InputError

HEAD_BYTES = 1024 * 1024
JSON_BUFFER = 8 * 1024
"""Bytes ijson parses per step. ijson's C parser makes every event of a step, each with its
full path, before the depth guard sees the first one; on a nesting bomb that costs the
square of the step size (29 s for 64 KiB of "[", 0.1 s for 8 KiB). Small steps are no slower
on real reports."""
_HEAD_EVENTS = 50_000
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 256 * 1024

ProgressCallback = Callable[[int], None]


class ReportError(InputError):
    """The report itself is bad; the message names the file."""


@dataclass
class Head:
    """What the first megabyte of a report looks like, for format detection."""

    syntax: str  # json, jsonl, xml, text, empty (nothing, white space or a JSON null)
    paths: dict[str, Any] = field(default_factory=dict)
    xml_root: str | None = None

    def has(self, path: str) -> bool:
        return path in self.paths

    def value(self, path: str) -> Any:
        """The first scalar at ``path``, "map" or "array" for a container, None when only the
        key was seen (or nothing)."""
        return self.paths.get(path)

    def is_empty_array(self) -> bool:
        """The report is ``[]``: a clean scan of one of the tools whose report is an array."""
        return self.paths.get("") == "array" and len(self.paths) == 1

    def keys(self, prefix: str = "") -> set[str]:
        """The keys seen directly under ``prefix`` ('' is the top level)."""
        depth = prefix.count(".") + 1 if prefix else 0
        start = f"{prefix}." if prefix else ""
        return {
            path.split(".")[depth]
            for path in self.paths
            if path.startswith(start) and path.count(".") >= depth and path != prefix
        }


class ReportSource:
    def __init__(
        self,
        path: Path,
        *,
        max_size: int,
        max_depth: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.path = path
        self.max_size = max_size
        self.max_depth = max_depth
        self.progress = progress
        try:
            status = path.stat()
        except FileNotFoundError:
            raise ReportError.in_file(path, "no such file") from None
        except OSError as exc:
            raise ReportError.in_file(path, f"cannot read: {exc.strerror}") from exc
        if not stat.S_ISREG(status.st_mode):
            raise ReportError.in_file(path, "not a regular file")
        self.size = status.st_size
        if self.size > max_size:
            raise ReportError.in_file(
                path,
                f"{self.size} bytes is above the limit of {max_size} (SHIELDWALL_MAX_REPORT_SIZE)",
            )
        with path.open("rb") as raw:
            self.compressed = raw.read(2) == _GZIP_MAGIC
        self._head: Head | None = None

    def error(self, problem: str) -> ReportError:
        return ReportError.in_file(self.path, problem)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The (decompressed) content; reading beyond the size limit is an error."""
        with self.path.open("rb") as raw:
            stream: BinaryIO = gzip.GzipFile(fileobj=raw) if self.compressed else raw  # type: ignore[assignment]
            yield _GuardedReader(stream, self, raw)  # type: ignore[misc]

    def head(self) -> Head:
        if self._head is None:
            with self.open() as stream:
                self._head = _sniff(stream.read(HEAD_BYTES), self)
        return self._head


class _GuardedReader(io.RawIOBase):
    """Counts what is read: enforces the size limit on decompressed data, reports progress."""

    def __init__(self, stream: IO[bytes], source: ReportSource, raw: IO[bytes]) -> None:
        self._stream = stream
        self._source = source
        self._raw = raw
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size if size is not None and size >= 0 else _CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise self._source.error(f"cannot decompress: {exc}") from exc
        self._read += len(data)
        if self._read > self._source.max_size:
            raise self._source.error(
                f"more than {self._source.max_size} bytes once decompressed "
                "(SHIELDWALL_MAX_REPORT_SIZE)"
            )
        if self._source.progress is not None:
            self._source.progress(self._raw.tell())
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _sniff(head: bytes, source: ReportSource) -> Head:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text or text.rstrip() == b"null":
        return Head("empty")
    if text[:1] == b"<":
        return Head("xml", xml_root=_xml_root(text, source))
    if text[:1] not in (b"{", b"["):
        return Head("text")
    return _sniff_json(text, source)


def _sniff_json(text: bytes, source: ReportSource) -> Head:
    max_depth = source.max_depth
    paths: dict[str, Any] = {}
    documents = 0
    depth = 0
    events = ijson.parse(
        io.BytesIO(text), buf_size=JSON_BUFFER, multiple_values=True, use_float=True
    )
    try:
        for count, (prefix, event, value) in enumerate(events):
            if count >= _HEAD_EVENTS:
                break
            if event in ("start_map", "start_array"):
                if depth == 0:
                    documents += 1
                depth += 1
                if depth > max_depth:
                    raise source.error(f"JSON nested deeper than {max_depth} levels")
                if paths.get(prefix) is None:  # its key may have been seen already
                    paths[prefix] = "map" if event == "start_map" else "array"
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif event == "map_key":
                paths.setdefault(f"{prefix}.{value}" if prefix else value, None)
            else:
                if depth == 0:
                    documents += 1
                if paths.get(prefix) is None:
                    paths[prefix] = value[:500] if isinstance(value, str) else value
    except ijson.JSONError as exc:
        # The head is cut at an arbitrary byte: premature EOF is expected when the file is
        # larger than the head; anything else is a real syntax error.
        if len(text) < HEAD_BYTES or "premature EOF" not in str(exc):
            raise source.error(describe_json_error(exc)) from exc
    return Head("jsonl" if documents > 1 else "json", paths)


def _xml_root(text: bytes, source: ReportSource) -> str:
    try:
        for _event, element in ElementTree.iterparse(
            io.BytesIO(text), events=("start",), forbid_dtd=True
        ):
            return str(element.tag)
    except DefusedXmlException as exc:
        raise source.error(f"XML with forbidden constructs ({type(exc).__name__})") from exc
    except ElementTree.ParseError as exc:
        if len(text) < HEAD_BYTES:
            raise source.error(f"not valid XML: {exc}") from exc
    raise source.error("not valid XML: no root element")


def describe_json_error(exc: Exception) -> str:
    """ijson's multi-line messages, as one line a person understands."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if first.startswith("b'") or first.startswith('b"'):
        first = first[2:]
    if "premature EOF" in first:
        return "truncated JSON (the file ends in the middle of the document)"
    if "trailing garbage" in first:
        return "not valid JSON (there is data after the end of the document)"
    if "invalid char" in first or "lexical error" in first:
        return "not valid JSON (invalid character)"
    return f"not valid JSON ({first.strip()})"
