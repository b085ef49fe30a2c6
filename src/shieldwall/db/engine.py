"""Engines and transactions.

SQLite is the embedded default: WAL so readers never wait for the writer, foreign keys on, and
write transactions that start with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead
of failing half-way when a deferred transaction tries to upgrade. PostgreSQL needs nothing
special here; cross-process ordering (audit chain, per-service imports) uses advisory locks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from shieldwall.errors import InputError

_WRITE = "shieldwall_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_db_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"SHIELDWALL_DATABASE_URL is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No server-side prepared statements: psycopg prepares a query run five times, and
        # PostgreSQL may then keep a generic plan chosen while an import's tables were
        # still small (a sequential scan), making a large import quadratic.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    raise InputError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        # The store holds security findings: only its owner may read it. SQLite gives the
        # -wal and -shm files the database file's permissions.
        file = Path(database).expanduser()
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        file.touch(mode=0o600, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below own transaction start (pysqlite would emit
        # its own deferred BEGIN lazily otherwise).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # 64 MiB of page cache: an import inserts into several indexes in random key order,
        # and the 2 MiB default makes that 30% slower.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN"
        )

    return engine


class Database:
    """One engine and the two kinds of unit of work the domains use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._writer = self.engine.execution_options(**{_WRITE: True})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and leaves nothing behind on any error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def allocate_ids(session: Session, table_name: str, count: int) -> list[int]:
    """Reserve ``count`` primary keys for a bulk insert without a round trip per row.

    PostgreSQL draws them from the table's own sequence (safe under concurrency). SQLite
    continues after the current maximum; that is safe because SQLite writers hold the
    database lock for the whole transaction (``BEGIN IMMEDIATE``).
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table_name, "count": count},
        )
        return [row[0] for row in rows]
    start = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table_name}")).scalar_one()  # noqa: S608 - table name is ours
    return list(range(start + 1, start + 1 + count))


def execute_many(session: Session, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run one INSERT or upsert for many rows as fast as the engine allows.

    PostgreSQL: SQLAlchemy's own batching, many rows per ``INSERT ... VALUES`` (one statement
    per row, even pipelined, is forty times slower there). SQLite: the driver's
    ``executemany``, with the statement compiled once and every value converted by its column
    type's own bind processor, as SQLAlchemy would; what is skipped is SQLAlchemy's per-row
    parameter bookkeeping, which costs more than SQLite itself when an import writes 100,000
    rows. Values bound in the statement (``.values(...)``) are converted once, not per row.
    The statement must not rely on Python-side column defaults.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name != "sqlite":
        session.execute(statement, rows)
        return
    keys = list(rows[0])
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    template = compiled.construct_params(rows[0])
    order = compiled.positiontup  # SQLite's parameters are positional
    processors = {
        name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in template
    }
    fixed = {
        name: processors[name](value) if processors[name] and value is not None else value
        for name, value in template.items()
        if name not in keys
    }
    # The row's values in statement order, at C speed (a tuple: statements have 2+ columns).
    pick = operator.itemgetter(*order)
    converted = [
        (i, _remembering(process))
        for i, name in enumerate(order)
        if name in keys and (process := processors[name])
    ]
    params: list[tuple[Any, ...]] = []
    for row in rows:
        values = pick({**row, **fixed})
        if converted:
            values = list(values)
            for i, process in converted:
                if values[i] is not None:
                    values[i] = process(values[i])
            values = tuple(values)
        params.append(values)
    conn.exec_driver_sql(compiled.string, params)


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A bind processor that converts each distinct list of strings, or time, once per
    statement: the rows of a batch mostly repeat a few (no CWE, the same tool; the instant of
    the import, a due date per priority), and ``json.dumps`` of a short list, or a time zone
    conversion, costs more than inserting the value."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if type(value) is datetime:
            key: Any = value
        elif type(value) is list and all(type(item) is str for item in value):
            key = tuple(value)
        else:
            return process(value)
        found = seen.get(key)
        if found is None:
            found = seen[key] = process(value)
        return found

    return convert
