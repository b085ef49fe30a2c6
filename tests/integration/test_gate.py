"""`shieldwall gate` as a pipeline runs it: what blocks and why, what only warns, what the
store, a baseline, the diff and exceptions change, missing scanners, the outputs for CI, the
recorded runs and the friction they measure; locally and through the server's API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from shieldwall.auth.policy import TokenScope
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.exceptions.models import RiskException
from shieldwall.inventory.models import Service
from shieldwall.web.app import create_app
from tests.conftest import Cli, fixture
from tests.integration.test_scan_cli import PAT, git
from tests.server import bearer, organisation

SQLI = ("python.sqli", "error", 9.8, "CWE-89", "SQL built from request data")
CMDI = ("python.cmdi", "error", 9.8, "CWE-78", "Shell command built from request data")
STYLE = ("python.todo", "note", None, None, "A TODO comment")


def sarif(
    path: Path, results: list[tuple[tuple[Any, ...], str, int]], tool: str = "semgrep"
) -> Path:
    """A SARIF report of ``tool`` with one result per (rule, file, line)."""
    rules = {}
    out = []
    for (rule_id, level, score, cwe, text), file, line in results:
        properties: dict[str, Any] = {
            "tags": ["security"] + ([f"external/cwe/{cwe.lower()}"] if cwe else [])
        }
        if score is not None:
            properties["security-severity"] = str(score)
        rules[rule_id] = {
            "id": rule_id,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": level},
            "properties": properties,
        }
        out.append(
            {
                "ruleId": rule_id,
                "level": level,
                "message": {"text": f"{text} in {file}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": file},
                            "region": {"startLine": line},
                        }
                    }
                ],
            }
        )
    document = {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": tool, "rules": list(rules.values())}}, "results": out}
        ],
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def sast_only(tmp_path: Path) -> Path:
    """A policy that requires only SAST, so that a Semgrep report is enough."""
    path = tmp_path / "gate.yaml"
    path.write_text("required_scanners: [sast]\n")
    return path


@pytest.fixture
def org(cli: Cli) -> Cli:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    return cli


def gate(cli: Cli, *args: str | Path) -> tuple[int, str, dict[str, Any]]:
    """Run the gate twice over: Markdown for people, JSON for assertions (both recorded)."""
    shown = cli("gate", *args)
    data = cli("gate", *args, "--format", "json")
    assert data.code == shown.code, data.err
    return shown.code, shown.out, json.loads(data.out)


def test_a_secret_blocks_and_ci_gets_a_summary_junit_and_annotations(
    cli: Cli, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "settings.py").write_text(f'DEBUG = False\nGITHUB_TOKEN = "{PAT}"\n')
    report = tmp_path / "scan.sarif"
    cli.ok("scan", repo, "--tools", "none", "--out", report)
    junit_file = tmp_path / "junit.xml"
    result = cli("gate", report, "--junit", junit_file, "--github-annotations")
    assert result.code == 1, result.err
    assert PAT not in result.out
    assert PAT not in junit_file.read_text()
    assert "## Shieldwall gate: blocked" in result.out
    assert "`app/settings.py:2`" in result.out
    assert "a high-confidence secret" in result.out
    assert "rotate it" in result.out  # how to fix
    assert "shieldwall exception request" in result.out  # or ask for an exception
    assert any(
        line.startswith("::error file=app/settings.py,line=2,") for line in result.out.splitlines()
    )
    suite = ElementTree.parse(junit_file).getroot()
    assert suite.get("failures") == "2"  # the finding and the gate
    [case] = [c for c in suite.iter("testcase") if c.get("name", "").startswith("github-pat")]
    assert case.find("failure") is not None
    assert "gate blocked: 1 blocking" in result.err


def test_new_findings_block_known_ones_warn_and_triage_or_exceptions_release(
    org: Cli, db: Database, tmp_path: Path, sast_only: Path
) -> None:
    cli = org
    first = sarif(tmp_path / "main.sarif", [(SQLI, "app/db.py", 10), (STYLE, "app/db.py", 3)])
    code, shown, data = gate(cli, first, "--service", "payments-api", "--policy", sast_only)
    assert code == 1
    [blocking] = data["blocking"]
    assert blocking["rule_id"] == "python.sqli"
    assert blocking["priority"] in ("P0", "P1")
    assert blocking["new"] is True
    assert "new P" in blocking["reason"]
    assert data["counts"]["block"] == 1
    assert data["result"] == "blocked"
    assert "python.sqli" in shown
    assert "python.todo" not in shown.split("What blocks")[1].split("How")[0]

    # What the default branch's scans brought into the store is not new to a change.
    cli.ok("import", first, "--service", "payments-api", "--branch", "main")
    code, _, data = gate(cli, first, "--service", "payments-api", "--policy", sast_only)
    assert code == 0
    assert data["result"] == "pass"
    assert any("not new: already known" in w["reason"] for w in data["warnings"])

    # A new finding beside it blocks again, until an approved exception covers its rule.
    second = sarif(tmp_path / "pr.sarif", [(SQLI, "app/db.py", 10), (CMDI, "app/views.py", 7)])
    code, _, data = gate(cli, second, "--service", "payments-api", "--policy", sast_only)
    assert code == 1
    assert [b["rule_id"] for b in data["blocking"]] == ["python.cmdi"]
    with db.write() as session:
        service = session.query(Service).filter_by(name="payments-api").one()
        session.add(
            RiskException(
                uid="e1e1e1e1e1e1e1e1",
                service_id=service.id,
                rule_id="python.cmdi",
                state="approved",
                priority=1,
                reason="templates escape by default",
                compensating_controls="CSP",
                expires_at=utcnow() + timedelta(days=30),
                requested_by="dev@example.com",
                requested_at=utcnow(),
                decided_by="sec@example.com",
                decided_at=utcnow(),
            )
        )
    code, shown, data = gate(cli, second, "--service", "payments-api", "--policy", sast_only)
    assert code == 0
    assert data["counts"]["excepted"] == 1
    assert "1 covered by exceptions" in shown

    # A finding triaged as a false positive never blocks, new line or not.
    listed = json.loads(cli.ok("findings", "list", "--format", "json").out)
    [sqli] = [f for f in listed if f["rule_id"] == "python.sqli"]
    cli.ok("findings", "triage", sqli["id"], "--status", "false_positive", "--reason", "constant")
    moved = sarif(tmp_path / "moved.sarif", [(SQLI, "app/db.py", 42)])
    code, _, data = gate(cli, moved, "--service", "payments-api", "--policy", sast_only)
    assert code == 0
    assert data["counts"]["triaged"] == 1


def test_a_baseline_report_or_the_diff_decides_what_is_new(
    cli: Cli, tmp_path: Path, sast_only: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "db.py").write_text("import db\nquery(request.args)\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app" / "db.py").write_text("import db\nquery(request.args)\n\nrender(request.form)\n")
    git(repo, "commit", "-qam", "render")
    report = sarif(tmp_path / "pr.sarif", [(SQLI, "app/db.py", 2), (CMDI, "app/db.py", 4)])

    code, shown, data = gate(
        cli, report, "--policy", sast_only, "--base-ref", "main", "--repository", repo
    )
    assert code == 1
    assert [b["rule_id"] for b in data["blocking"]] == ["python.cmdi"]
    [old] = [w for w in data["warnings"] if w["rule_id"] == "python.sqli"]
    assert old["reason"].endswith("not new: on a line this change did not touch")
    assert "only lines changed since `main` count as new" in shown

    baseline = sarif(tmp_path / "main.sarif", [(SQLI, "app/db.py", 2), (CMDI, "app/db.py", 4)])
    code, _, data = gate(cli, report, "--policy", sast_only, "--baseline", baseline)
    assert code == 0
    assert data["counts"]["block"] == 0

    bad = cli("gate", report, "--base-ref", "no-such-ref", "--repository", repo)
    assert bad.code == 2
    assert "--base-ref" in bad.err


def test_a_missing_scanner_fails_closed_or_open_as_the_policy_says(
    cli: Cli, tmp_path: Path
) -> None:
    clean = sarif(tmp_path / "semgrep.sarif", [])
    code, shown, data = gate(cli, clean)
    assert code == 1
    assert data["missing_scanners"] == ["secrets", "sca"]
    assert "Required scanners missing" in shown
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("missing_scanner: fail-open\n")
    code, _, data = gate(cli, clean, "--policy", lenient)
    assert code == 0
    assert data["missing_scanners"] == ["secrets", "sca"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nblock_priority: P9\n")
    result = cli("gate", clean, "--policy", bad)
    assert result.code == 2
    assert f"{bad}:2" in result.err


def test_runs_are_recorded_and_friction_is_measured(
    org: Cli, tmp_path: Path, sast_only: Path
) -> None:
    cli = org
    report = sarif(tmp_path / "pr.sarif", [(SQLI, "app/db.py", 10)])
    blocked = json.loads(
        cli(
            "gate",
            report,
            "--service",
            "payments-api",
            "--policy",
            sast_only,
            "--branch",
            "feature",
            "--commit",
            "4f2a9c1",
            "--format",
            "json",
        ).out
    )
    assert blocked["result"] == "blocked"
    refused = cli("gate-override", blocked["run"], "--reason", "no")
    assert refused.code == 2
    assert "say why" in refused.err
    cli.ok("gate-override", blocked["run"], "--reason", "hotfix for the outage, fixed next")
    again = cli("gate-override", blocked["run"], "--reason", "hotfix for the outage, fixed next")
    assert again.code == 2
    assert "overridden already" in again.err

    # The blocking finding arrives in the store, is triaged a false positive: a wrong block.
    cli.ok("import", report, "--service", "payments-api", "--branch", "feature")
    [finding] = json.loads(cli.ok("findings", "list", "--format", "json").out)
    cli.ok("findings", "triage", finding["id"], "--status", "false_positive", "--reason", "fixture")
    passed = cli(
        "gate", report, "--service", "payments-api", "--policy", sast_only, "--branch", "feature"
    )
    assert passed.code == 0

    runs = json.loads(cli.ok("gate-runs", "--format", "json").out)
    assert [r["result"] for r in runs] == ["pass", "blocked"]
    assert runs[1]["commit"] == "4f2a9c1"
    assert runs[1]["overridden_by"].startswith("cli")
    [row] = json.loads(cli.ok("friction", "--format", "json").out)
    assert row["service"] == "payments-api"
    assert (row["runs"], row["blocked"], row["overridden"]) == (2, 1, 1)
    assert row["false_positive_blocks"] == 1
    assert row["still_blocked"] == 0
    assert row["median_hours_to_unblock"] is not None
    audit = cli.ok("audit", "list", "--format", "json").out
    assert "gate.run" in audit
    assert "gate.override" in audit


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    organisation(db)
    settings = Settings(home=tmp_path)
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(
    client: TestClient, headers: dict[str, str], service: str, report: Path, **data: str
) -> Any:
    with report.open("rb") as content:
        return client.post(
            "/api/v1/gate",
            headers=headers,
            files=[("reports", (report.name, content, "application/json"))],
            data={"service": service, **data},
        )


def test_the_server_decides_for_an_ingest_token_of_the_service_team(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    report = sarif(tmp_path / "pr.sarif", [(SQLI, "app/db.py", 10)])
    answer = _post(client, ingest, "payments-api", report, branch="feature")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["result"] == "blocked"
    assert body["blocking"][0]["rule_id"] == "python.sqli"
    assert body["missing_scanners"] == ["secrets", "sca"]

    assert _post(client, ingest, "web", report).status_code == 404  # another team's service
    reader = bearer(db, "platform", TokenScope.READ, "platform-reader")
    assert _post(client, reader, "payments-api", report).status_code == 403
    runs = client.get("/api/v1/gate/runs", headers=reader).json()
    assert [r["run"] for r in runs] == [body["run"]]
    other = bearer(db, "growth", TokenScope.READ, "growth-reader")
    assert client.get("/api/v1/gate/runs", headers=other).json() == []
    friction = client.get("/api/v1/gate/friction", headers=reader).json()
    assert friction[0]["blocked"] == 1


def test_the_cli_gates_on_the_server_when_one_is_configured(
    client: TestClient,
    db: Database,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    monkeypatch.setenv("SHIELDWALL_SERVER_URL", "http://shieldwall.test")
    monkeypatch.setenv("SHIELDWALL_TOKEN", ingest["Authorization"].removeprefix("Bearer "))

    def post(url: str, **kwargs: Any) -> Any:
        kwargs.pop("timeout")
        return client.post(url.removeprefix("http://shieldwall.test"), **kwargs)

    monkeypatch.setattr("shieldwall.client.httpx.post", post)
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("missing_scanner: fail-open\n")
    report = sarif(tmp_path / "pr.sarif", [(SQLI, "app/db.py", 10)])
    result = cli("gate", report, "--service", "payments-api", "--policy", lenient)
    assert result.code == 1, result.err
    assert "python.sqli" in result.out
    assert "Required scanners missing** (the policy warns)" in result.out
    refused = cli("gate", report, "--service", "web")
    assert refused.code == 2
    assert "refused the gate (404)" in refused.err


def test_hostile_report_text_cannot_break_the_summary_or_annotations(
    cli: Cli, tmp_path: Path, sast_only: Path
) -> None:
    evil = ("x|y](http://evil)", "error", 9.8, "CWE-89", "@security-team <b>pwned</b>\n::error::x")
    report = sarif(tmp_path / "evil.sarif", [(evil, "a,b:c.py", 1)])
    result = cli("gate", report, "--policy", sast_only, "--github-annotations")
    assert result.code == 1
    summary = result.out[result.out.index("## Shieldwall gate") :]
    assert "<b>" not in summary  # HTML is escaped; the rule id stays inside a code span
    assert "`x\\|y](http://evil)`" in summary
    assert "\\@security-team" in summary
    annotations = [line for line in result.out.splitlines() if line.startswith("::")]
    assert annotations
    assert all(line.count("::") == 2 for line in annotations)
    assert "file=a%2Cb%3Ac.py" in annotations[0]


def test_reports_that_are_not_reports_exit_2(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sarif"
    broken.write_text('{"runs": [')
    result = cli("gate", broken)
    assert result.code == 2
    assert str(broken) in result.err
    missing = cli("gate", tmp_path / "absent.sarif")
    assert missing.code == 2
    assert "absent.sarif" in missing.err
