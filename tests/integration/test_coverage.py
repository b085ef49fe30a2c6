"""Security-check coverage from imported reports: the ``coverage`` command, the API (scoped
to the caller's teams) and the service and team pages. On both engines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shieldwall.auth.policy import Role, TokenScope
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.ingest.models import ScanStream
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.models import Service, Team
from shieldwall.web.app import create_app
from tests.conftest import Cli, fixture
from tests.server import bearer, drain_queue, log_in, organisation, upload, user, wait_for_import

REPORTS = {
    # ledger: every check, Trivy finding misconfigurations and a secret besides dependencies
    "ledger": [
        ("semgrep", "semgrep-code.json"),
        ("gitleaks", "v8.json"),
        ("trivy", "filesystem-config-secrets.json"),
    ],
    # payments-api: IaC, an SBOM with components only, and a SAST run long ago
    "payments-api": [
        ("checkov", "checkov-terraform.json"),
        ("cyclonedx", "syft-sbom-1.5.json"),
        ("bandit", "bandit-1.7.json"),
    ],
    # web (team growth): SAST only
    "web": [("sarif", "codeql.sarif")],
}


def _age(db: Database, service: str, tool: str, days: int) -> None:
    """Make the last run of ``tool`` on ``service`` ``days`` old."""
    with db.write() as session:
        session.execute(
            update(ScanStream)
            .where(
                ScanStream.tool == tool,
                ScanStream.service_id
                == select(Service.id).where(Service.name == service).scalar_subquery(),
            )
            .values(last_import_at=utcnow() - timedelta(days=days))
        )


def _populate(db: Database, home: Path) -> None:
    organisation(db)
    settings = Settings(home=home)
    for service, reports in REPORTS.items():
        for folder, name in reports:
            import_report(db, ImportRequest(fixture("reports", folder, name), service), settings)
    _age(db, "payments-api", "bandit", 45)


def _by_name(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


# --- the command ------------------------------------------------------------------------------


def test_coverage_command_per_service_and_per_team(cli: Cli, db: Database) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    for service, reports in REPORTS.items():
        for folder, name in reports:
            cli.ok("import", fixture("reports", folder, name), "--service", service)
    _age(db, "payments-api", "bandit", 45)

    rows = json.loads(cli.ok("coverage", "--format", "json").out)
    assert [row["service"] for row in rows] == ["ledger", "payments-api", "web"]
    services = _by_name(rows, "service")
    ledger = services["ledger"]
    assert (ledger["team"], ledger["tier"]) == ("platform", 1)
    assert [ledger[c] for c in ("sast", "sca", "secrets", "iac")] == ["covered"] * 4
    assert ledger["sast_tools"] == ["semgrep"]
    assert ledger["secrets_tools"] == ["gitleaks", "trivy"]
    assert ledger["iac_tools"] == ["trivy"]
    assert ledger["covered"] == 4
    assert ledger["sast_last_run"].endswith("Z")
    payments = services["payments-api"]
    assert payments["sast"] == "stale"
    assert payments["sast_tools"] == ["bandit"]
    assert payments["sca"] == "covered"
    assert payments["sca_tools"] == ["syft"]  # the SBOM's components are matched: SCA
    assert payments["secrets"] == "missing"
    assert payments["secrets_last_run"] is None
    assert payments["iac_tools"] == ["checkov"]
    assert payments["covered"] == 2
    assert services["web"]["sast_tools"] == ["codeql"]
    assert services["web"]["covered"] == 1

    # A longer window makes the old SAST run current.
    longer = json.loads(cli.ok("coverage", "--stale-days", "60", "--format", "json").out)
    assert _by_name(longer, "service")["payments-api"]["sast"] == "covered"

    teams = _by_name(json.loads(cli.ok("coverage", "--by", "team", "--format", "json").out), "team")
    platform = teams["platform"]
    assert platform["services"] == 2
    assert platform["fully_covered"] == 1
    assert (platform["sast_covered"], platform["sast_stale"], platform["sast_missing"]) == (1, 1, 0)
    assert (platform["secrets_covered"], platform["secrets_missing"]) == (1, 1)
    assert (teams["growth"]["services"], teams["growth"]["sast_covered"]) == (1, 1)

    only = json.loads(cli.ok("coverage", "--team", "growth", "--format", "json").out)
    assert [row["service"] for row in only] == ["web"]
    one_team = json.loads(
        cli.ok("coverage", "--by", "team", "--service", "web", "--format", "json").out
    )
    assert [row["team"] for row in one_team] == ["growth"]

    table = cli.ok("coverage").out
    assert "stale: bandit" in table
    assert "covered: gitleaks, trivy" in table
    header = next(csv.reader(io.StringIO(cli.ok("coverage", "--format", "csv").out)))
    assert header[:5] == ["service", "service_id", "team", "tier", "sast"]

    typo = cli("coverage", "--service", "ledgr")
    assert typo.code == 2
    assert typo.err.strip() == "error: service 'ledgr' is not in the inventory"
    assert cli("coverage", "--stale-days", "0").code == 2


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


@pytest.fixture
def client(db: Database, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    _populate(db, tmp_path)
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_api_shows_each_caller_its_own_teams_coverage(
    client: TestClient, db: Database, settings: Settings
) -> None:
    platform = bearer(db, "platform", TokenScope.READ)
    answer = client.get("/api/v1/coverage", headers=platform).json()
    assert answer["total"] == 2
    assert answer["next"] is None
    rows = _by_name(answer["items"], "service")
    assert set(rows) == {"ledger", "payments-api"}
    assert rows["ledger"]["iac_tools"] == ["trivy"]
    assert rows["payments-api"]["sast"] == "stale"
    assert (
        client.get("/api/v1/coverage", headers=platform, params={"stale_days": 90}).json()["items"][
            1
        ]["sast"]
        == "covered"
    )

    # An engineer of another team sees only that team's service, by service and by team.
    user(db, "mo@example.com", Role.ENGINEER, ["growth"])
    log_in(client, "mo@example.com")
    seen = client.get("/api/v1/coverage").json()
    assert [row["service"] for row in seen["items"]] == ["web"]
    teams = client.get("/api/v1/coverage", params={"by": "team"}).json()["items"]
    assert [(t["team"], t["services"], t["sast_covered"]) for t in teams] == [("growth", 1, 1)]
    hidden = client.get("/api/v1/coverage", params={"team": "platform"})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["message"] == "team 'platform' is not in the inventory"

    # Security sees every team; pages walk every team once.
    client.cookies.clear()
    user(db, "sec@example.com", Role.SECURITY)
    log_in(client, "sec@example.com")
    walked, cursor = [], None
    while True:
        params = {"by": "team", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/coverage", params=params).json()
        walked.extend(t["team"] for t in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert walked == ["growth", "platform"]

    assert client.get("/api/v1/coverage", params={"stale_days": 0}).status_code == 422
    ingest = bearer(db, "growth", TokenScope.INGEST)
    assert client.get("/api/v1/coverage", headers=ingest).status_code == 403

    # An upload through the API is a run: web gains secrets coverage.
    uid = upload(client, ingest, "web", fixture("reports", "gitleaks", "v8.json")).json()["id"]
    drain_queue(db, settings)
    assert wait_for_import(client, ingest, uid)["state"] == "done"
    web = client.get("/api/v1/coverage", params={"team": "growth"}).json()["items"][0]
    assert (web["secrets"], web["secrets_tools"]) == ("covered", ["gitleaks"])


# --- the pages --------------------------------------------------------------------------------


def _uid(db: Database, model: type[Service] | type[Team], name: str) -> str:
    with db.read() as session:
        return str(session.scalars(select(model.uid).where(model.name == name)).one())


def test_the_service_and_team_pages_show_the_checks(client: TestClient, db: Database) -> None:
    user(db, "raj@example.com", Role.ENGINEER, ["platform"])
    log_in(client, "raj@example.com")
    team_uid = _uid(db, Team, "platform")

    page = client.get(f"/services/{_uid(db, Service, 'payments-api')}")
    assert page.status_code == 200
    block = page.text.split("<h2>Security checks</h2>", 1)[1].split("<h2>", 1)[0]
    assert (
        '<th scope="row">SAST</th><td><span class="cov cov-stale">stale</span></td><td>bandit</td>'
        in block
    )
    assert (
        '<th scope="row">Secrets</th><td><span class="cov cov-missing">missing</span></td><td>-</td><td>never</td>'
        in block
    )
    assert "<td>syft</td>" in block
    assert f'href="/teams/{team_uid}"' in page.text
    assert f'href="/teams/{team_uid}"' in client.get("/services").text

    team = client.get(f"/teams/{team_uid}")
    assert team.status_code == 200
    assert "<h1>platform</h1>" in team.text
    assert "1 of 2" in team.text  # fully covered
    summary = team.text.split("How many of the team", 1)[1].split("</table>", 1)[0]
    assert '<th scope="row">SAST</th><td>1</td><td>1</td><td>0</td>' in summary
    assert '<th scope="row">Secrets</th><td>1</td><td>0</td><td>1</td>' in summary
    services = team.text.split("Checks on each service", 1)[1]
    assert f'href="/services/{_uid(db, Service, "ledger")}"' in services
    assert "trivy" in services
    assert "checkov" in services

    # Another team's page is as absent as a missing one.
    other = client.get(f"/teams/{_uid(db, Team, 'growth')}")
    assert other.status_code == 404
    assert client.get("/teams/0000000000000000").status_code == 404
