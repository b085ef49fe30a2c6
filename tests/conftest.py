"""Shared fixtures.

Engines: integration tests take ``db`` and run once on SQLite and once on PostgreSQL (a fresh
schema per test on the server named by SHIELDWALL_TEST_POSTGRES_URL, by default the CI
machine's 127.0.0.1:5432). Outside CI a missing server or ../shared/data skips with the
reason; with CI=true it fails, because nothing that matters may skip there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shieldwall import runtime
from shieldwall.cli import main
from shieldwall.config import get_settings
from shieldwall.db.engine import Database
from shieldwall.db.migrate import upgrade
from shieldwall.ingest import registry
from shieldwall.ingest.records import Record
from shieldwall.ingest.source import ReportSource

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED_DATA = Path(os.environ.get("SHIELDWALL_SHARED_DATA", REPO.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get(
    "SHIELDWALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _no_scheduled_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers started by tests run no scheduled reminders at the top of the hour (a test
    crossing it would see findings change under it); the tests of the schedule set it."""
    monkeypatch.setenv("SHIELDWALL_REMINDERS_CRON", "")


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        unavailable(f"{path} is missing: the shared reference data is not on this machine")
    return path


def fixture(*parts: str) -> Path:
    return FIXTURES.joinpath(*parts)


def parse_file(path: Path, fmt: str = "auto") -> list[Record]:
    """Every record a report yields, without a database."""
    source = ReportSource(path, max_size=2**31, max_depth=64)
    return list(registry.resolve(source, fmt).parse(source))


@contextmanager
def _postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema on the test PostgreSQL server, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shieldwall.db'}"
        return
    request.applymarker(pytest.mark.postgres)
    with _postgres_schema() as url:
        yield url


def _migrated(url: str) -> Iterator[Database]:
    database = Database(url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    yield from _migrated(database_url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """For tests about SQLite itself, and pure-logic tests that need some store."""
    yield from _migrated(f"sqlite:///{tmp_path / 'shieldwall.db'}")


@pytest.fixture
def postgres_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """For tests about what only PostgreSQL installations have (the job queue)."""
    request.applymarker(pytest.mark.postgres)
    with _postgres_schema() as url:
        yield from _migrated(url)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class Cli:
    """Runs ``shieldwall`` in-process against one database, as a user would type it."""

    def __init__(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        url: str,
        home: Path,
    ) -> None:
        self.capsys = capsys
        monkeypatch.setenv("SHIELDWALL_DATABASE_URL", url)
        monkeypatch.setenv("SHIELDWALL_HOME", str(home))
        monkeypatch.delenv("SHIELDWALL_DEBUG", raising=False)
        monkeypatch.setenv("COLUMNS", "250")

    def __call__(self, *args: str | Path) -> CliResult:
        _reset_caches()
        self.capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        finally:
            _reset_caches()
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def ok(self, *args: str | Path) -> CliResult:
        result = self(*args)
        assert result.code == 0, f"exit {result.code}: {result.err or result.out}"
        return result


def _reset_caches() -> None:
    for cached in (runtime.database, runtime.raw_database):
        if cached.cache_info().currsize:
            cached().dispose()
    get_settings.cache_clear()
    runtime.database.cache_clear()
    runtime.raw_database.cache_clear()


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    tmp_path: Path,
) -> Iterator[Cli]:
    yield Cli(capsys, monkeypatch, db.url, tmp_path / "home")
    _reset_caches()


@pytest.fixture
def sqlite_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sqlite_db: Database,
    tmp_path: Path,
) -> Cli:
    return Cli(capsys, monkeypatch, sqlite_db.url, tmp_path / "home")


@pytest.fixture
def postgres_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgres_db: Database,
    tmp_path: Path,
) -> Cli:
    return Cli(capsys, monkeypatch, postgres_db.url, tmp_path / "home")
