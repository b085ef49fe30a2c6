"""Portable backups: one JSON object per line, restorable into SQLite or PostgreSQL.

Layout: a header line (format, version, schema revision, creation time), then one line per
row (``{"t": table, "r": {column: value}}``) in foreign-key order, then a trailer with the row
count, so a truncated file is detected before anything is written. Restore migrates an empty
database to the backup's revision, loads the rows in one transaction, then migrates to head:
a backup taken by an older Shieldwall restores into a newer one.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.exc import DBAPIError

from shieldwall.clock import isoformat, utcnow
from shieldwall.db import migrate
from shieldwall.db.base import UTCDateTime
from shieldwall.db.engine import Database
from shieldwall.db.schema import metadata
from shieldwall.errors import InputError

FORMAT = "shieldwall-backup"
VERSION = 1
_BATCH = 1000


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    rows: int
    tables: dict[str, int]
    schema_revision: str


def backup(db: Database, destination: Path) -> BackupSummary:
    revision = migrate.current_revision(db)
    if revision is None:
        raise InputError(f"database {db.display_url()} is empty: nothing to back up")
    destination = destination.expanduser()
    folder = destination.parent if str(destination.parent) else Path()
    if not folder.is_dir():
        raise InputError.in_file(destination, "folder does not exist")
    counts: dict[str, int] = {}
    # Write beside the target and rename at the end: a failed backup leaves no partial file.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
        "w", encoding="utf-8", dir=folder, prefix=".shieldwall-backup-", delete=False
    )
    try:
        with handle, _snapshot(db) as conn:
            _write_line(
                handle,
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "schema_revision": revision,
                    "created_at": isoformat(utcnow()),
                },
            )
            for table in metadata.sorted_tables:
                counts[table.name] = 0
                for row in _rows(conn, table):
                    _write_line(handle, {"t": table.name, "r": _encode(table, row)})
                    counts[table.name] += 1
            _write_line(handle, {"end": True, "rows": sum(counts.values())})
        Path(handle.name).chmod(0o600)
        Path(handle.name).replace(destination)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return BackupSummary(destination, sum(counts.values()), counts, revision)


def restore(db: Database, source: Path) -> BackupSummary:
    source = source.expanduser()
    try:
        handle = source.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError.in_file(source, f"cannot open: {exc.strerror}") from exc
    with handle:
        header = _read_header(source, handle)
        revision = header["schema_revision"]
        _check_target_empty(db)
        migrate.upgrade(db, revision)
        counts = _load_rows(db, source, handle)
    migrate.upgrade(db)
    return BackupSummary(source, sum(counts.values()), counts, revision)


def _snapshot(db: Database) -> Connection:
    conn = db.engine.connect()
    if db.dialect == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    conn.begin()
    return conn


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    stmt = select(table).order_by(*table.primary_key.columns)
    for row in conn.execution_options(yield_per=_BATCH).execute(stmt):
        yield dict(row._mapping)


def _encode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: isoformat(value) if isinstance(value, datetime) else value
        for name, value in row.items()
        if name in table.columns
    }


def _write_line(handle: IO[str], obj: Any) -> None:
    handle.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    handle.write("\n")


def _read_header(source: Path, handle: IO[str]) -> dict[str, Any]:
    first = handle.readline()
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError.in_file(source, "not a Shieldwall backup (bad header)", 1)
    if header.get("version") != VERSION:
        raise InputError.in_file(
            source, f"backup version {header.get('version')!r} is not supported", 1
        )
    revision = header.get("schema_revision")
    known = {script.revision for script in migrate.all_revisions()}
    if revision not in known:
        raise InputError.in_file(
            source, f"schema revision {revision!r} is unknown to this version of Shieldwall", 1
        )
    return header


def _check_target_empty(db: Database) -> None:
    if migrate.current_revision(db) is None:
        return
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                raise InputError(
                    f"database {db.display_url()} is not empty (table {table.name} has rows): "
                    "restore needs an empty database"
                )


def _load_rows(db: Database, source: Path, handle: IO[str]) -> dict[str, int]:
    tables = metadata.tables
    counts: dict[str, int] = {}
    pending: list[dict[str, Any]] = []
    pending_table: Table | None = None
    line_no = 1
    ended = False
    with db.engine.begin() as conn:

        def flush() -> None:
            if pending_table is not None and pending:
                try:
                    conn.execute(insert(pending_table), pending)
                except DBAPIError as exc:
                    problem = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
                    raise InputError.in_file(
                        source, f"rows of {pending_table.name} rejected: {problem}", line_no
                    ) from exc
                pending.clear()

        for line_no, line in enumerate(handle, start=2):
            if ended:
                raise InputError.in_file(source, "data after the end marker", line_no)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError.in_file(source, f"not JSON: {exc.msg}", line_no) from exc
            if not isinstance(record, dict):
                raise InputError.in_file(source, "each line must be a JSON object", line_no)
            if record.get("end") is True:
                flush()
                ended = True
                if record.get("rows") != sum(counts.values()):
                    raise InputError.in_file(
                        source, "row count does not match the trailer", line_no
                    )
                continue
            table = tables.get(record.get("t", ""))
            row = record.get("r")
            if table is None or not isinstance(row, dict):
                raise InputError.in_file(source, f"unknown table {record.get('t')!r}", line_no)
            if table is not pending_table or len(pending) >= _BATCH:
                flush()
                pending_table = table
            pending.append(_decode(source, line_no, table, row))
            counts[table.name] = counts.get(table.name, 0) + 1
        if not ended:
            raise InputError.in_file(source, "truncated: the end marker is missing", line_no)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


def _decode(source: Path, line_no: int, table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in row.items():
        column = table.columns.get(name)
        if column is None:
            raise InputError.in_file(source, f"table {table.name} has no column {name!r}", line_no)
        if isinstance(column.type, UTCDateTime) and value is not None:
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError) as exc:
                raise InputError.in_file(
                    source, f"{table.name}.{name}: not a time", line_no
                ) from exc
        decoded[name] = value
    return decoded


def _reset_sequences(conn: Connection) -> None:
    """Move each serial sequence past the restored ids so new rows do not collide."""
    for table in metadata.sorted_tables:
        if "id" not in table.columns or not table.columns["id"].primary_key:
            continue
        next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, "id")
        conn.execute(select(func.setval(sequence, next_id, False)))
