"""Schemathesis generates requests from the OpenAPI document, valid and not, for every API
operation: none may get a 5xx, and every error must be the documented envelope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from shieldwall.auth.policy import TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.db.migrate import upgrade
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.web.app import create_app
from tests.server import REPORT, bearer, organisation


class _Jobs:
    """Imports stay queued: the fuzzer exercises the API, not the importer."""

    def defer_import(self, uid: str) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    db = Database(f"sqlite:///{home / 'shieldwall.db'}")
    upgrade(db)
    organisation(db)
    import_report(db, ImportRequest(REPORT, "ledger"), Settings(home=home))
    headers = bearer(db, "platform", TokenScope.WRITE)
    yield create_app(db, Settings(home=home), _Jobs()), headers
    db.dispose()


@pytest.fixture(scope="module")
def api(served: tuple[FastAPI, dict[str, str]]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", served[0])


def test_no_request_gets_a_server_error(
    api: schemathesis.BaseSchema, served: tuple[FastAPI, dict[str, str]]
) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 14  # every route of the API is exercised

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(headers=served[1])
            assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}
                assert set(body["error"]) == {"code", "message"}

        exercise()
