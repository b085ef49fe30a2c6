"""OSV advisory records (ossf/osv-schema), read from a file, a folder or an OSV zip.

Every record is hostile input. Fields that identify something (ids, package names, versions,
URLs) are rejected when longer than any real one, never cut, since a cut identifier names
something else; free text (summary, details) is cut. Wrong types are an ``InputError`` that
names the file and the field. The number of values read from one record is bounded too,
because YAML aliases can make a small file describe a huge document.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NoReturn

import yaml

from shieldwall.errors import InputError
from shieldwall.text import clean

SUFFIXES = (".json", ".yaml", ".yml")
MAX_FILE_SIZE = 50 * 1024 * 1024
MAX_DETAILS = 20_000
MAX_SUMMARY = 1_000
MAX_ID = 200
MAX_ECOSYSTEM = 100
MAX_NAME = 1_000
MAX_VERSION = 256
MAX_URL = 2_048
MAX_SCORE = 300
MAX_TIME = 64
MAX_VALUES = 1_000_000
"""List items read from one record (all lists together)."""

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")

# Go's zero time: golang/vulndb leaves `modified` (and often `published`) at it in its source
# tree and fills it in when publishing, so it means "not known", not the year 1.
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_CWE = re.compile(r"CWE-([0-9]{1,6})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Range:
    type: str
    """"SEMVER", "ECOSYSTEM" or "GIT"."""
    events: tuple[tuple[str, str], ...]
    """(kind, version) in record order; kind is one of ``EVENT_KINDS``."""


@dataclass(frozen=True, slots=True)
class Affected:
    ecosystem: str
    """As the record writes it: "PyPI", "Go", "crates.io", "Debian:11"."""
    name: str
    purl: str | None
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    """Enumerated affected versions."""


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    """The record's ``aliases`` only: ``related`` ids are other vulnerabilities."""
    summary: str | None
    details: str | None
    published: datetime | None
    modified: datetime | None
    withdrawn: datetime | None
    severity: tuple[tuple[str, str], ...]
    """(type, score): ("CVSS_V3", "CVSS:3.1/AV:N/...")."""
    affected: tuple[Affected, ...]
    references: tuple[tuple[str, str], ...]
    """(type, url): ("ADVISORY", "https://..."), ("EXPLOIT", ...)."""
    cwe_ids: tuple[str, ...]
    """"CWE-79" form, from ``database_specific.cwe_ids`` (GitHub's advisories have them)."""


def parse_advisory(document: object, origin: str) -> Advisory:
    """The advisory an OSV document describes; ``InputError`` naming ``origin`` if it is not
    one. Affected entries without a package (GIT-only ranges of a C library) are left out:
    no component can be matched against them."""
    return _Reader(origin).advisory(document)


def iter_advisories(path: Path, *, max_file_size: int = MAX_FILE_SIZE) -> Iterator[Advisory]:
    """Every advisory in a ``.json``/``.yaml``/``.yml`` file, a folder (recursively, in sorted
    order, hidden files and folders skipped) or a ``.zip`` such as OSV's per-ecosystem
    ``all.zip`` (read in memory, one member at a time, nothing extracted)."""
    if not path.exists():
        raise InputError.in_file(path, "not found")
    if path.is_dir():
        for file in _walk(path):
            yield _read_file(file, max_file_size)
    elif path.suffix.lower() == ".zip":
        yield from _read_zip(path, max_file_size)
    else:
        yield _read_file(path, max_file_size)


def _walk(root: Path) -> Iterator[Path]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            file = Path(folder, name)
            # Only regular files: opening a FIFO someone left in the folder would block.
            if _is_record_name(name) and file.is_file():
                yield file


def _is_record_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(SUFFIXES)


def _read_file(path: Path, limit: int) -> Advisory:
    if not path.name.lower().endswith(SUFFIXES):
        raise InputError.in_file(path, "not an OSV record: expected a .json, .yaml, .yml or .zip")
    if not path.is_file():
        raise InputError.in_file(path, "not a regular file")
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise InputError.in_file(path, f"cannot read: {exc.strerror}") from exc
    return parse_advisory(_decode(data, path.name, str(path), limit), str(path))


def _read_zip(path: Path, limit: int) -> Iterator[Advisory]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError.in_file(path, f"not a readable zip archive: {exc}") from exc
    with archive:
        members = sorted(archive.infolist(), key=lambda info: info.filename)
        for info in members:
            name = info.filename.rpartition("/")[2]  # the folders do not matter: none is made
            if info.is_dir() or not _is_record_name(name):
                continue
            origin = f"{path}:{info.filename}"
            if info.file_size > limit:
                raise InputError(f"{origin}: {_too_large(info.file_size, limit)}")
            try:
                # Read at most one byte over the limit: the size in the header may lie.
                with archive.open(info) as member:
                    data = member.read(limit + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise InputError(f"{origin}: cannot read the member: {exc}") from exc
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
                raise InputError(f"{origin}: unsupported zip member: {exc}") from exc
            yield parse_advisory(_decode(data, name, origin, limit), origin)


def _too_large(size: int, limit: int) -> str:
    return f"{size} bytes or more, above the limit of {limit}"


def _decode(data: bytes, name: str, origin: str, limit: int) -> object:
    if len(data) > limit:
        raise InputError(f"{origin}: {_too_large(len(data), limit)}")
    syntax = "JSON" if name.lower().endswith(".json") else "YAML"
    try:
        if syntax == "JSON":
            return json.loads(data)
        # The pure-Python safe loader: libyaml's (CSafeLoader) is ten times faster but
        # crashes the process on deeply nested flow collections instead of raising.
        return yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin}: not UTF-8 text") from exc
    except RecursionError as exc:
        raise InputError(f"{origin}: nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin}: not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        # ValueError, TypeError: YAML timestamps out of range, JSON numbers over 4,300 digits.
        raise InputError(f"{origin}: not valid {syntax}: {exc}") from exc


class _Reader:
    """Validates one decoded record, naming ``origin`` and the field in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.budget = MAX_VALUES

    def fail(self, problem: str) -> NoReturn:
        raise InputError(f"{self.origin}: {problem}")

    def advisory(self, document: object) -> Advisory:
        if not isinstance(document, dict):
            self.fail("not an OSV record: expected an object with an `id`")
        vuln_id = self.text(document.get("id"), "id", MAX_ID)
        if not vuln_id:
            self.fail("not an OSV record: no `id`")
        affected: list[Affected] = []
        package_severity: list[tuple[str, str]] = []
        for i, value in enumerate(self.items(document, "affected", "")):
            entry = self.affected(value, f"affected[{i}]", package_severity)
            if entry is not None:
                affected.append(entry)
        return Advisory(
            id=vuln_id,
            aliases=tuple(
                alias
                for i, value in enumerate(self.items(document, "aliases", ""))
                if (alias := self.text(value, f"aliases[{i}]", MAX_ID))
            ),
            summary=self.free_text(document.get("summary"), "summary", MAX_SUMMARY),
            details=self.free_text(document.get("details"), "details", MAX_DETAILS),
            published=self.moment(document.get("published"), "published"),
            modified=self.moment(document.get("modified"), "modified"),
            withdrawn=self.moment(document.get("withdrawn"), "withdrawn"),
            # The schema puts severity either on the record or on its packages, never both.
            severity=self.severity(document, "") or tuple(dict.fromkeys(package_severity)),
            affected=tuple(affected),
            references=tuple(
                self.pair(value, f"references[{i}]", ("type", MAX_SCORE), ("url", MAX_URL))
                for i, value in enumerate(self.items(document, "references", ""))
            ),
            cwe_ids=_cwe_ids(document.get("database_specific")),
        )

    def affected(
        self, value: object, where: str, severity: list[tuple[str, str]]
    ) -> Affected | None:
        """The entry, its severity added to ``severity``; None without a package."""
        entry = self.mapping(value, where)
        package = entry.get("package")
        if package is None:
            return None
        package = self.mapping(package, f"{where}.package")
        ecosystem = self.text(package.get("ecosystem"), f"{where}.package.ecosystem", MAX_ECOSYSTEM)
        name = self.text(package.get("name"), f"{where}.package.name", MAX_NAME)
        if not ecosystem or not name:
            self.fail(f"{where}.package needs an `ecosystem` and a `name`")
        severity.extend(self.severity(entry, where))
        return Affected(
            ecosystem=ecosystem,
            name=name,
            purl=self.text(package.get("purl"), f"{where}.package.purl", MAX_URL) or None,
            ranges=tuple(
                self.range(item, f"{where}.ranges[{i}]")
                for i, item in enumerate(self.items(entry, "ranges", where))
            ),
            versions=tuple(
                version
                for i, item in enumerate(self.items(entry, "versions", where))
                if (version := self.text(item, f"{where}.versions[{i}]", MAX_VERSION))
            ),
        )

    def range(self, value: object, where: str) -> Range:
        entry = self.mapping(value, where)
        range_type = self.text(entry.get("type"), f"{where}.type", MAX_ECOSYSTEM)
        if not range_type:
            self.fail(f"{where} has no `type`")
        events: list[tuple[str, str]] = []
        for i, item in enumerate(self.items(entry, "events", where)):
            event = self.mapping(item, f"{where}.events[{i}]")
            # One kind per event in a valid record; a record that puts two in one object
            # (introduced and fixed) still means both.
            for kind in EVENT_KINDS:
                version = self.text(event.get(kind), f"{where}.events[{i}].{kind}", MAX_VERSION)
                if version:
                    events.append((kind, version))
        return Range(range_type.upper(), tuple(events))

    def severity(self, entry: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
        prefix = f"{where}." if where else ""
        return tuple(
            self.pair(value, f"{prefix}severity[{i}]", ("type", MAX_SCORE), ("score", MAX_SCORE))
            for i, value in enumerate(self.items(entry, "severity", where))
        )

    def pair(
        self, value: object, where: str, first: tuple[str, int], second: tuple[str, int]
    ) -> tuple[str, str]:
        entry = self.mapping(value, where)
        return (
            self.text(entry.get(first[0]), f"{where}.{first[0]}", first[1]) or "",
            self.text(entry.get(second[0]), f"{where}.{second[0]}", second[1]) or "",
        )

    def items(self, entry: dict[str, Any], key: str, where: str) -> list[Any]:
        value = entry.get(key)
        if value is None:
            return []
        field = f"{where}.{key}" if where else key
        if not isinstance(value, list):
            self.fail(f"{field} must be a list")
        self.budget -= len(value)
        if self.budget < 0:
            self.fail(f"more than {MAX_VALUES} values (YAML aliases?)")
        return value

    def mapping(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{where} must be an object")
        return value

    def text(self, value: object, where: str, limit: int) -> str | None:
        """An identifier: white space stripped; too long is an error, never cut."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(f"{where} must be text")
        value = value.strip()
        if len(value) > limit:
            self.fail(f"{where} is longer than {limit} characters")
        return value

    def free_text(self, value: object, where: str, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(f"{where} must be text")
        return clean(value.strip(), limit) or None

    def moment(self, value: object, where: str) -> datetime | None:
        """A UTC time from an RFC 3339 string, or from the date or time YAML made of one."""
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, str) and len(value) <= MAX_TIME:
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                self.fail(f"{where} is not an RFC 3339 time: {value!r}")
        else:
            self.fail(f"{where} must be an RFC 3339 time")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            self.fail(f"{where} is out of range: {value!r}")
        return None if moment == _ZERO_TIME else moment


def _cwe_ids(database_specific: object) -> tuple[str, ...]:
    """``database_specific`` is each database's own: what is not a list of CWE ids is
    ignored, not an error."""
    if not isinstance(database_specific, dict):
        return ()
    values = database_specific.get("cwe_ids")
    if not isinstance(values, list):
        return ()
    found = (_CWE.fullmatch(value.strip()) for value in values if isinstance(value, str))
    return tuple(dict.fromkeys(f"CWE-{int(match.group(1))}" for match in found if match))
