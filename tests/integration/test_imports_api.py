"""Imports through the API: queued, carried out by a background job (a thread on SQLite,
procrastinate workers on PostgreSQL), followed to done or failed; size limits; scoping."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shieldwall.auth.policy import TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.ingest.models import ReportImport, UploadChunk
from shieldwall.web.app import create_app
from tests.server import bearer, drain_queue, organisation, upload, wait_for_import


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, max_upload_size=64 * 1024)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    organisation(db)
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_upload_is_queued_then_imported(
    client: TestClient, db: Database, settings: Settings
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    answer = upload(client, ingest, "payments-api", branch="main", commit="4f2a9c1")
    assert answer.status_code == 202
    queued = answer.json()
    assert queued["state"] in ("queued", "running", "done")
    assert answer.headers["location"] == f"/api/v1/imports/{queued['id']}"
    drain_queue(db, settings)
    done = wait_for_import(client, ingest, queued["id"])
    assert done["state"] == "done", done
    assert done["format"] == "trivy"
    assert done["summary"]["created"] == done["summary"]["total"] > 0
    assert (done["branch"], done["commit"], done["actor"]) == (
        "main",
        "4f2a9c1",
        "token:platform-ingest",
    )
    reader = bearer(db, "platform", TokenScope.READ)
    listed = client.get(
        "/api/v1/findings", headers=reader, params={"service": "payments-api", "status": "all"}
    )
    assert listed.json()["total"] == done["summary"]["total"]
    with db.read() as session:  # the upload is gone once imported
        assert session.scalar(select(func.count()).select_from(UploadChunk)) == 0


def test_a_bad_report_fails_with_its_one_line_reason(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    broken = tmp_path / "broken.json"
    broken.write_text('{"results": [')
    uid = upload(client, ingest, "ledger", broken).json()["id"]
    drain_queue(db, settings)
    failed = wait_for_import(client, ingest, uid)
    assert failed["state"] == "failed"
    assert failed["error"].startswith("broken.json: ")
    assert "\n" not in failed["error"]
    assert str(tmp_path) not in failed["error"]
    assert failed["summary"]["total"] == 0


def test_gzip_uploads_are_read(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    packed = tmp_path / "report.json.gz"
    packed.write_bytes(
        gzip.compress(
            Path(__file__)
            .parents[1]
            .joinpath("fixtures", "reports", "semgrep", "semgrep-code.json")
            .read_bytes()
        )
    )
    uid = upload(client, ingest, "ledger", packed).json()["id"]
    drain_queue(db, settings)
    assert wait_for_import(client, ingest, uid)["state"] == "done"


def test_an_ingest_token_imports_only_into_its_teams_services(
    client: TestClient, db: Database
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    refused = upload(client, ingest, "web")  # growth's service
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    growth = bearer(db, "growth", TokenScope.INGEST)
    theirs = upload(client, growth, "web").json()["id"]
    # Nor can it follow another credential's import, or list imports, or read findings.
    assert client.get(f"/api/v1/imports/{theirs}", headers=ingest).status_code == 404
    assert client.get("/api/v1/imports", headers=ingest).status_code == 403
    assert client.get("/api/v1/findings", headers=ingest).status_code == 403
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ReportImport)) == 1


def test_a_read_token_cannot_import(client: TestClient, db: Database) -> None:
    answer = upload(client, bearer(db, "platform", TokenScope.READ), "ledger")
    assert answer.status_code == 403


def test_uploads_above_the_limit_are_refused_and_leave_nothing(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (65 * 1024) + b"{}")
    refused = upload(client, ingest, "ledger", big)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "too_large"

    # A body sent without a length (chunked) is counted as it arrives.
    def chunks() -> Iterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n'
        for _ in range(100):
            yield b" " * 1024

    chunked = client.post(
        "/api/v1/imports",
        headers={**ingest, "content-type": "multipart/form-data; boundary=x"},
        content=chunks(),
    )
    assert chunked.status_code == 413
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ReportImport)) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"commit": "not a commit!"}, "--commit"),
        ({"branch": "a\tb"}, "--branch"),
    ],
)
def test_bad_fields_are_refused_before_anything_is_queued(
    client: TestClient, db: Database, fields: dict[str, str], message: str
) -> None:
    refused = upload(client, bearer(db, "platform", TokenScope.INGEST), "ledger", **fields)
    assert refused.status_code == 400
    assert message in refused.json()["error"]["message"]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ReportImport)) == 0


def test_empty_upload_is_refused(client: TestClient, db: Database, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    refused = upload(client, bearer(db, "platform", TokenScope.INGEST), "ledger", empty)
    assert refused.status_code == 400
    assert "empty" in refused.json()["error"]["message"]


def test_queued_imports_are_taken_up_when_the_server_starts_again(
    sqlite_db: Database, settings: Settings
) -> None:
    """On SQLite the server is the worker (on PostgreSQL the queue keeps waiting jobs)."""
    db = sqlite_db

    class Stopped:
        def defer_import(self, uid: str) -> None:
            """A server that stops before its job runs."""

        def close(self) -> None:
            pass

    organisation(db)
    ingest = bearer(db, "platform", TokenScope.INGEST)
    with TestClient(create_app(db, settings, Stopped())) as first:
        uid = upload(first, ingest, "ledger").json()["id"]
        assert first.get(f"/api/v1/imports/{uid}", headers=ingest).json()["state"] == "queued"
    with TestClient(create_app(db, settings)) as second:
        assert wait_for_import(second, ingest, uid)["state"] == "done"


def test_a_hostile_file_name_is_only_a_label(
    client: TestClient, db: Database, settings: Settings
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    for name in ("..", "../../etc/passwd", "a\nb.json"):
        answer = upload(client, ingest, "ledger", name=name)
        assert answer.status_code == 202
        drain_queue(db, settings)
        done = wait_for_import(client, ingest, answer.json()["id"])
        assert done["state"] == "done", done
        assert "/" not in done["filename"]
        assert "\n" not in done["filename"]
