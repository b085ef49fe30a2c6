"""The drill end to end through the CLI, on SQLite and PostgreSQL: the inventory, the feeds
and the scanners' reports of ``tests/fixtures/drill`` in, the queue a team fixes from out.

The expected priorities are the unit drill's (``tests/unit/test_risk_drill.py``), worked out
by hand from SSVC and the default policy; here they must survive ingestion: SBOM matching,
two scanners reporting one vulnerability, two advisory databases describing it, enrichment.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shieldwall.db.engine import Database
from tests.conftest import Cli, fixture
from tests.unit.test_risk_drill import BY_NUMBER, CASES, Case

DRILL = fixture("drill")
PASSWORD = "correct horse battery staple"
KEYS = {
    "id",
    "service",
    "priority",
    "risk_score",
    "sla_due",
    "sla_state",
    "kev",
    "epss",
    "exception_id",
    "title",
    "vulnerability_ids",
    "rule_id",
}
SLA_DAYS = {"P0": 3, "P1": 7, "P2": 30, "P3": 90, "P4": 180}


def load_intel(cli: Cli) -> None:
    cli.ok("intel", "load", "kev", DRILL / "kev.json")
    cli.ok("intel", "load", "epss", DRILL / "epss.csv")
    cli.ok("intel", "load", "osv", DRILL / "osv")


def import_reports(cli: Cli) -> None:
    for path in sorted((DRILL / "reports").glob("*/*.json")):
        cli.ok("import", path, "--service", path.parent.name)


@pytest.fixture
def drill(cli: Cli) -> Cli:
    cli.ok("inventory", "import", DRILL / "org.yaml")
    load_intel(cli)
    import_reports(cli)
    return cli


def queue(cli: Cli, *args: str) -> list[dict[str, Any]]:
    out = cli.ok("findings", "list", "--sort", "priority", "--format", "json", *args).out
    return json.loads(out)  # type: ignore[no-any-return]


def case_of(row: dict[str, Any]) -> Case:
    """The drill case a listed finding is."""
    found = [
        case
        for case in CASES
        if case.service == row["service"]
        and (
            case.subject in row["vulnerability_ids"]
            if case.is_vulnerability
            else case.subject.partition(":")[2] == row["rule_id"]
        )
    ]
    assert len(found) == 1, f"{row['service']} {row['title']}: {found}"
    return found[0]


def by_case(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        number = case_of(row).number
        assert number not in found, f"case {number} listed twice: {row['title']}"
        found[number] = row
    return found


def explain(cli: Cli, finding_id: str) -> dict[str, Any]:
    return json.loads(cli.ok("findings", "explain", finding_id, "--format", "json").out)  # type: ignore[no-any-return]


def test_the_queue_lists_each_case_once_at_its_expected_priority_all_p0_first(
    drill: Cli,
) -> None:
    rows = queue(drill)
    found = by_case(rows)

    assert sorted(found) == [case.number for case in CASES]
    assert {n: row["priority"] for n, row in found.items()} == {
        case.number: case.priority.label for case in CASES
    }
    order = [row["priority"] for row in rows]
    assert order == sorted(order)
    assert order[0] == "P0"
    urgency = [(row["priority"], -row["risk_score"]) for row in rows]
    assert urgency == sorted(urgency)


def test_the_kev_finding_on_the_internet_tier0_service_comes_before_the_cvss_9_8_with_epss_0_01_on_the_internal_tier2_one(
    drill: Cli,
) -> None:
    rows = queue(drill)
    numbers = [case_of(row).number for row in rows]
    listed, scary = rows[numbers.index(1)], rows[numbers.index(26)]

    assert numbers.index(1) < numbers.index(26)
    assert (listed["service"], listed["kev"], listed["priority"]) == ("checkout-api", True, "P0")
    assert (scary["service"], scary["kev"], scary["epss"]) == ("log-compactor", False, 0.01)
    assert scary["priority"] == "P4"


def test_each_finding_carries_its_priority_sla_and_intelligence(drill: Cli) -> None:
    with (DRILL / "epss.csv").open(encoding="utf-8") as stream:
        next(stream)
        scores = {row["cve"]: float(row["epss"]) for row in csv.DictReader(stream)}
    listed = {e["cveID"] for e in json.loads((DRILL / "kev.json").read_text())["vulnerabilities"]}
    now = datetime.now(UTC)

    for number, row in by_case(queue(drill)).items():
        case = BY_NUMBER[number]
        assert set(row) >= KEYS, f"case {number}: missing {KEYS - set(row)}"
        assert row["kev"] is (case.subject in listed)
        assert row["epss"] == scores.get(case.subject)
        assert 0 < row["risk_score"] <= 100
        assert row["exception_id"] is None
        assert row["sla_state"] in ("on_track", "due_soon")
        due = _moment(row["sla_due"])
        days = SLA_DAYS[row["priority"]]
        assert now + timedelta(days=days) - timedelta(hours=1) < due <= now + timedelta(days=days)


def test_two_scanners_and_two_advisory_databases_make_one_finding(drill: Cli) -> None:
    found = by_case(queue(drill))

    # checkout-api: pip-audit and the SBOM match report the same five vulnerabilities.
    assert "pip-audit" in found[1]["tools"]
    assert len(found[1]["tools"]) == 2
    # patient-portal: golang.org/x/net is described by GO-2026-4102 and its GHSA alias.
    assert {"CVE-2026-41885", "GO-2026-4102", "GHSA-3vh9-g4rv-6cj6"} <= set(
        found[15]["vulnerability_ids"]
    )


def test_explain_gives_one_line_per_factor_and_the_kev_listing(drill: Cli) -> None:
    found = by_case(queue(drill))

    listed = explain(drill, found[1]["id"])
    unlisted = explain(drill, found[26]["id"])

    assert listed["id"] == found[1]["id"]
    assert (listed["priority"], listed["risk_score"]) == ("P0", found[1]["risk_score"])
    assert (listed["sla_due"], listed["sla_state"]) == (found[1]["sla_due"], found[1]["sla_state"])
    for record in (listed, unlisted):
        assert all(set(f) == {"name", "text", "effect"} for f in record["factors"])
        assert all("\n" not in f["text"] for f in record["factors"])
        names = [f["name"] for f in record["factors"]]
        assert len(names) == len(set(names))
        assert any(f["text"].startswith("SSVC:") for f in record["factors"])
    kev_lines = [f for f in listed["factors"] if "KEV" in f["text"]]
    assert [(f["effect"], "in KEV since 2026-10-02" in f["text"]) for f in kev_lines] == [
        ("+", True)
    ]
    assert not any("in KEV since" in f["text"] for f in unlisted["factors"])
    assert any("9.8" in f["text"] for f in unlisted["factors"])


def test_intelligence_loaded_after_the_imports_gives_the_same_queue(cli: Cli) -> None:
    cli.ok("inventory", "import", DRILL / "org.yaml")
    import_reports(cli)
    load_intel(cli)

    found = by_case(queue(cli))

    assert {n: row["priority"] for n, row in found.items()} == {
        case.number: case.priority.label for case in CASES
    }


def test_a_policy_file_that_raises_the_epss_threshold_reprioritises_the_queue(
    drill: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = by_case(queue(drill))
    policy = tmp_path / "policy.yaml"
    policy.write_text("exploitation:\n  epss_poc_threshold: 0.2\n", encoding="utf-8")
    monkeypatch.setenv("SHIELDWALL_POLICY", str(policy))

    after = by_case(queue(drill))

    # jackson-databind on the payment gateway, EPSS 0.15: no longer a proof of concept.
    assert (before[7]["priority"], after[7]["priority"]) == ("P1", "P2")
    # grpc-go on the patient portal, EPSS 0.12: likewise.
    assert (before[17]["priority"], after[17]["priority"]) == ("P1", "P2")
    # EPSS 0.87 and KEV listings are above any such threshold.
    assert after[4]["priority"] == before[4]["priority"]
    assert after[1]["priority"] == before[1]["priority"]


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _user(cli: Cli, monkeypatch: pytest.MonkeyPatch, email: str, role: str, *teams: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    team_args = [arg for team in teams for arg in ("--team", team)]
    cli.ok("user", "create", "--email", email, "--role", role, *team_args, "--password-stdin")


def test_an_accepted_exception_takes_the_finding_out_of_the_queue_until_it_expires(
    drill: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user(drill, monkeypatch, "lena.schmidt@example.com", "engineer", "commerce")
    _user(drill, monkeypatch, "appsec@example.com", "security")
    finding = by_case(queue(drill))[10]  # lodash on the storefront, P3
    expires = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()

    exception_id = drill.ok(
        "exception",
        "request",
        "--finding",
        finding["id"],
        "--reason",
        "zipObjectDeep is not reachable: only lodash.get and lodash.merge are imported",
        "--compensating-controls",
        "WAF rule blocks __proto__ in query strings",
        "--expires",
        expires,
        "--as",
        "lena.schmidt@example.com",
    ).out.strip()
    assert finding["id"] in {row["id"] for row in queue(drill)}  # requested, not yet accepted
    drill.ok("exception", "approve", exception_id, "--as", "appsec@example.com")

    assert finding["id"] not in {row["id"] for row in queue(drill)}
    assert len(queue(drill)) == len(CASES) - 1
    (accepted,) = (r for r in queue(drill, "--status", "accepted") if r["id"] == finding["id"])
    assert (accepted["exception_id"], accepted["sla_state"]) == (exception_id, "accepted")

    # Sixty days later: the hourly job (`sla remind`) ends the exception.
    with db.write() as session:
        session.execute(
            text("UPDATE risk_exceptions SET expires_at = :past WHERE uid = :uid"),
            {"past": datetime.now(UTC) - timedelta(minutes=1), "uid": exception_id},
        )
    drill.ok("sla", "remind", "--dry-run")

    (reopened,) = (r for r in queue(drill) if r["id"] == finding["id"])
    assert (reopened["status"], reopened["exception_id"]) == ("open", None)
    assert reopened["priority"] == "P3"
    # The default policy restarts the clock from the expiry.
    assert reopened["sla_state"] == "on_track"
    assert _moment(reopened["sla_due"]) > _moment(finding["sla_due"])
    assert len(queue(drill)) == len(CASES)
