"""Parsers for the exploitation feeds: CISA's Known Exploited Vulnerabilities catalog and
FIRST's EPSS scores.

Pure: a file in, values out. Both feeds are downloaded from the internet, so both are hostile
input: sizes are capped, every value is checked, and every problem is one ``InputError`` that
names the file (and the line where one is known). EPSS is streamed, so its errors may come
half-way through; the caller loads it in one transaction and rolls back.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from shieldwall.errors import InputError
from shieldwall.ingest.source import ReportSource
from shieldwall.structured import read_text
from shieldwall.text import one_line

KEV_MAX_SIZE = 64 * 1024 * 1024
"""The real catalog is about 1.3 MB."""
EPSS_MAX_SIZE = 1024**3
"""Decompressed bytes. The real file is about 10 MB; this stops a gzip bomb."""
EPSS_MAX_LINE = 4096
"""Bytes. Real lines are under 40; this stops one endless line from filling memory."""

_TEXT_MAX = 300
_NOTES_MAX = 2000
_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,19}$")  # the KEV schema's pattern
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPSS_COLUMNS = "cve,epss,percentile"


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    vendor: str | None
    product: str | None
    name: str | None
    date_added: date
    due_date: date | None
    ransomware: bool
    """CISA knows of its use in a ransomware campaign ("Known"; otherwise "Unknown")."""
    notes: str | None


@dataclass(frozen=True, slots=True)
class KevCatalog:
    version: str | None
    released: datetime | None
    entries: tuple[KevEntry, ...]


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve_id: str
    score: float
    """Probability of exploitation activity in the next 30 days."""
    percentile: float


@dataclass(frozen=True, slots=True)
class EpssHeader:
    model_version: str | None
    score_date: date | None


# --- KEV ---------------------------------------------------------------------------------------


def parse_kev(path: Path, *, max_size: int = KEV_MAX_SIZE) -> KevCatalog:
    """The catalog (``known_exploited_vulnerabilities.json``), every entry checked."""
    text = read_text(path, max_size)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.in_file(path, f"not valid JSON: {exc.msg}", exc.lineno) from exc
    except RecursionError as exc:
        raise InputError.in_file(path, "not valid JSON: nested too deeply") from exc
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise InputError.in_file(path, "not a KEV catalog: no 'vulnerabilities' list")
    entries = tuple(
        _kev_entry(path, index, item) for index, item in enumerate(document["vulnerabilities"])
    )
    _check_kev_entries(path, entries, document.get("count"))
    released = document.get("dateReleased")
    try:
        released_at = _utc(released) if released is not None else None
    except ValueError:
        raise InputError.in_file(
            path, f"dateReleased {_shown(released)} is not a date and time"
        ) from None
    return KevCatalog(
        version=_text(document.get("catalogVersion"), _TEXT_MAX),
        released=released_at,
        entries=entries,
    )


def _kev_entry(path: Path, index: int, item: object) -> KevEntry:
    where = f"vulnerabilities[{index}]"
    if not isinstance(item, dict):
        raise InputError.in_file(path, f"{where} is not an object")
    cve_id = _cve_id(item.get("cveID"))
    if cve_id is None:
        raise InputError.in_file(
            path, f"{where}: cveID {_shown(item.get('cveID'))} is not a CVE id"
        )
    where = f"{where} ({cve_id})"
    date_added = _kev_date(path, where, item, "dateAdded")
    if date_added is None:
        raise InputError.in_file(path, f"{where}: no dateAdded")
    return KevEntry(
        cve_id=cve_id,
        vendor=_text(item.get("vendorProject"), _TEXT_MAX),
        product=_text(item.get("product"), _TEXT_MAX),
        name=_text(item.get("vulnerabilityName"), _TEXT_MAX),
        date_added=date_added,
        due_date=_kev_date(path, where, item, "dueDate"),
        ransomware=str(item.get("knownRansomwareCampaignUse", "")).strip().lower() == "known",
        notes=_text(item.get("notes"), _NOTES_MAX),
    )


def _check_kev_entries(path: Path, entries: tuple[KevEntry, ...], count: object) -> None:
    """A count that disagrees or a CVE listed twice means a damaged or doctored catalog."""
    if isinstance(count, int) and count != len(entries):
        raise InputError.in_file(
            path, f"the catalog says it has {count} entries but lists {len(entries)}"
        )
    seen: set[str] = set()
    for entry in entries:
        if entry.cve_id in seen:
            raise InputError.in_file(path, f"{entry.cve_id} is listed twice")
        seen.add(entry.cve_id)


def _kev_date(path: Path, where: str, item: dict[str, Any], key: str) -> date | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # 2025-02-30: the right shape, not a date
    raise InputError.in_file(path, f"{where}: {key} {_shown(value)} is not a date (YYYY-MM-DD)")


# --- EPSS --------------------------------------------------------------------------------------


def read_epss(
    path: Path, *, max_size: int = EPSS_MAX_SIZE, max_line: int = EPSS_MAX_LINE
) -> tuple[EpssHeader, Iterator[EpssScore]]:
    """The header at once (a caller can skip a file older than what it has) and the scores
    as a stream. The file is plain or gzip-compressed, whatever its name.

    The stream opens the file again, so nothing is held open until it is read.
    """
    with closing(_lines(path, max_size, max_line)) as lines:
        header = _epss_header(path, lines)
    return header, _epss_scores(path, max_size, max_line)


def _epss_scores(path: Path, max_size: int, max_line: int) -> Iterator[EpssScore]:
    with closing(_lines(path, max_size, max_line)) as lines:
        _epss_header(path, lines)
        for number, text in lines:
            if text.strip():
                yield _epss_score(path, number, text)


def _lines(path: Path, max_size: int, max_line: int) -> Generator[tuple[int, str], None, None]:
    """The file's lines numbered from 1, without line ends or byte-order mark.

    ``ReportSource`` recognises gzip by its magic bytes and caps the decompressed size; the
    line cap keeps one endless line from being held whole.
    """
    source = ReportSource(path, max_size=max_size, max_depth=1)
    with source.open() as raw:
        # The source's reader is raw (it counts every read): unbuffered, readline would read
        # one byte at a time.
        stream = io.BufferedReader(raw, 64 * 1024)  # type: ignore[type-var]
        number = 0
        while line := stream.readline(max_line + 1):
            number += 1
            if len(line) > max_line and not line.endswith(b"\n"):
                raise InputError.in_file(path, f"line longer than {max_line} bytes", number)
            try:
                text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InputError.in_file(path, "not UTF-8 text", number) from None
            yield number, text.rstrip("\r\n")


def _epss_header(path: Path, lines: Iterator[tuple[int, str]]) -> EpssHeader:
    """The optional ``#model_version:...,score_date:...`` line, then the column names."""
    number, text = next(lines, (1, ""))
    header = EpssHeader(model_version=None, score_date=None)
    if text.startswith("#"):
        header = _epss_comment(path, number, text)
        number, text = next(lines, (number + 1, ""))
    if ",".join(part.strip() for part in text.lower().split(",")) != _EPSS_COLUMNS:
        raise InputError.in_file(
            path, f"not an EPSS CSV: expected the header {_EPSS_COLUMNS!r}", number
        )
    return header


def _epss_comment(path: Path, number: int, text: str) -> EpssHeader:
    values: dict[str, str] = {}
    for part in text[1:].split(","):
        key, _, value = part.partition(":")
        values[key.strip()] = value.strip()
    score_date = values.get("score_date")
    try:
        day = _utc(score_date).date() if score_date else None
    except ValueError:
        raise InputError.in_file(
            path, f"score_date {_shown(score_date)} is not a date", number
        ) from None
    return EpssHeader(model_version=_text(values.get("model_version"), 100), score_date=day)


def _epss_score(path: Path, number: int, text: str) -> EpssScore:
    fields = [field.strip() for field in text.split(",")]
    if len(fields) != 3:
        raise InputError.in_file(
            path, f"expected 3 values ({_EPSS_COLUMNS}), found {len(fields)}", number
        )
    cve_id = _cve_id(fields[0])
    if cve_id is None:
        raise InputError.in_file(path, f"{_shown(fields[0])} is not a CVE id", number)
    return EpssScore(
        cve_id=cve_id,
        score=_probability(path, number, f"{cve_id}: epss", fields[1]),
        percentile=_probability(path, number, f"{cve_id}: percentile", fields[2]),
    )


def _probability(path: Path, number: int, what: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise InputError.in_file(path, f"{what} {_shown(text)} is not a number from 0 to 1", number)
    return value


# --- shared ------------------------------------------------------------------------------------


def _cve_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    return text if _CVE_ID.match(text) else None


def _utc(value: object) -> datetime:
    """An ISO 8601 date and time in UTC (a time without offset is taken as UTC)."""
    if not isinstance(value, str):
        raise ValueError(value)
    moment = datetime.fromisoformat(value.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(value: object, max_length: int) -> str | None:
    """Descriptive text: trimmed, one line, capped; None when absent or not text."""
    if not isinstance(value, str):
        return None
    return one_line(value, max_length) or None


def _shown(value: object) -> str:
    """A hostile value quoted in an error message, short."""
    return one_line(repr(value), 60)
