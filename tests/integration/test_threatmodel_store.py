"""Threat models in the store: versions per service, treatments with decision rights,
coverage, accepted threats among the exceptions, findings raised by a matching open threat,
and the API's team scoping. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from shieldwall.auth.policy import Role, TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.web.app import create_app
from tests.conftest import Cli, fixture
from tests.integration.test_gate import sarif
from tests.server import bearer, log_in, organisation, user

MODEL = """\
shieldwall_threat_model: 1
title: Payments
service: payments-api
reviewed: {reviewed}
assets:
  - {{id: card-data, name: Card data, data_classes: [payment, pii]}}
actors:
  - {{id: customer, trust: untrusted}}
boundaries:
  - {{id: edge}}
  - {{id: core}}
components:
  - {{id: web, type: web_application, boundary: edge, exposure: internet}}
  - {{id: api, type: api, boundary: core, stores: [card-data]}}
flows:
  - {{source: customer, target: web, authentication: session, sends: [card-data]}}
  - {{source: web, target: api, protocol: http, sends: [card-data]}}
"""
PLAIN = "unencrypted-flow-across-boundary:flows/web-to-api"
CLEARTEXT = ("python.cleartext", "warning", 5.3, "CWE-319", "Data sent over plain HTTP")


def model_file(tmp_path: Path, reviewed: str = "2026-11-01", extra: str = "") -> Path:
    path = tmp_path / "payments.yaml"
    path.write_text(MODEL.format(reviewed=reviewed) + extra)
    return path


@pytest.fixture
def org(cli: Cli) -> Cli:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    return cli


def models(cli: Cli) -> list[dict[str, Any]]:
    return list(json.loads(cli.ok("threatmodel", "list", "--format", "json").out))


def test_each_push_of_a_changed_model_is_a_new_version(org: Cli, tmp_path: Path) -> None:
    path = model_file(tmp_path)
    assert "stored as version 1" in org.ok("threatmodel", "push", path).err
    assert "unchanged, still version 1" in org.ok("threatmodel", "push", path).err
    model_file(tmp_path, extra="  - {source: api, target: web, protocol: https}\n")
    assert "stored as version 2" in org.ok("threatmodel", "push", path).err
    (row,) = models(org)
    assert row["service"] == "payments-api"
    assert row["version"] == 2
    assert row["open"] >= 1
    assert row["reviewed"] == "2026-11-01"


def test_a_push_is_refused_for_an_unknown_service_or_an_invalid_model(
    org: Cli, tmp_path: Path
) -> None:
    path = model_file(tmp_path)
    path.write_text(path.read_text().replace("service: payments-api\n", ""))
    result = org("threatmodel", "push", path, "--service", "nope")
    assert result.code == 2
    assert "service 'nope' is not in the inventory" in result.err
    path.write_text(MODEL.format(reviewed="2026-11-01").replace("target: api", "target: apx"))
    result = org("threatmodel", "push", path)
    assert result.code == 2
    assert "payments.yaml:17:" in result.err
    assert models(org) == []


def test_an_acceptance_needs_an_approver_who_is_not_the_owner_and_shows_among_exceptions(
    org: Cli, tmp_path: Path
) -> None:
    org.ok("threatmodel", "push", model_file(tmp_path))
    (row,) = models(org)
    me = json.loads(org.ok("audit", "list", "--format", "json").out)[-1]["actor"]
    refused = org(
        "threatmodel", "treat", row["id"], PLAIN, "--status", "accepted",
        "--reason", "internal only", "--owner", me, "--expires", "2099-01-31",
    )  # fmt: skip
    assert refused.code == 2
    assert "must not be its owner" in refused.err
    no_expiry = org(
        "threatmodel", "treat", row["id"], PLAIN, "--status", "accepted",
        "--reason", "internal only", "--owner", "lead@example.com",
    )  # fmt: skip
    assert no_expiry.code == 2
    assert "expires" in no_expiry.err
    org.ok(
        "threatmodel", "treat", row["id"], PLAIN, "--status", "accepted",
        "--reason", "internal only until the mesh lands", "--owner", "lead@example.com",
        "--expires", "2099-01-31",
    )  # fmt: skip
    (after,) = models(org)
    assert after["accepted"] == 1
    exceptions = json.loads(org.ok("exception", "list", "--format", "json").out)
    (threat,) = [e for e in exceptions if e["kind"] == "threat"]
    assert threat["id"] == f"{row['id']}/{PLAIN}"
    assert threat["state"] == "approved"
    assert threat["expires_at"].startswith("2099-01-31")
    assert threat["requested_by"] == "lead@example.com"
    assert "threat.treat" in org.ok("audit", "list", "--format", "json").out
    # The treatment outlives versions: a new push keeps it.
    model_file(tmp_path, extra="  - {source: api, target: web, protocol: https}\n")
    org.ok("threatmodel", "push", tmp_path / "payments.yaml")
    assert models(org)[0]["accepted"] == 1


def test_a_tracking_file_pushed_with_the_model_sets_treatments(org: Cli, tmp_path: Path) -> None:
    path = model_file(tmp_path)
    (tmp_path / "payments.tracking.yaml").write_text(
        json.dumps(
            {
                "shieldwall_threat_tracking": 1,
                "threats": {PLAIN: {"status": "not_applicable", "reason": "one host, loopback"}},
            }
        )
    )
    org.ok("threatmodel", "push", path)
    (row,) = models(org)
    threats = json.loads(org.ok("threatmodel", "threats", row["id"], "--format", "json").out)
    (plain,) = [t for t in threats if t["id"] == PLAIN]
    assert plain["status"] == "not_applicable"
    assert plain["status_note"] == "one host, loopback"
    exceptions = json.loads(org.ok("exception", "list", "--format", "json").out)
    assert [e for e in exceptions if e["kind"] == "threat"] == []


def test_coverage_counts_tier_0_and_1_services_with_a_recent_review(
    org: Cli, tmp_path: Path
) -> None:
    org.ok("threatmodel", "push", model_file(tmp_path, reviewed="2026-10-01"))
    rows = {
        r["service"]: r
        for r in json.loads(
            org.ok("threatmodel", "coverage", "--days", "3650", "--format", "json").out
        )
    }
    assert set(rows) == {"payments-api", "ledger"}  # web is tier 2
    assert rows["payments-api"]["state"] == "covered"
    assert rows["ledger"]["state"] == "missing"
    stale = json.loads(org.ok("threatmodel", "coverage", "--days", "1", "--format", "json").out)
    assert {r["service"]: r["state"] for r in stale}["payments-api"] == "stale"


def test_an_open_threat_raises_the_priority_of_a_finding_with_its_cwe(
    org: Cli, tmp_path: Path
) -> None:
    report = sarif(tmp_path / "s.sarif", [(CLEARTEXT, "app/client.py", 3)])
    org.ok("import", report, "--service", "payments-api")
    (before,) = json.loads(org.ok("findings", "list", "--format", "json").out)
    org.ok("threatmodel", "push", model_file(tmp_path))
    (after,) = json.loads(org.ok("findings", "list", "--format", "json").out)
    assert int(after["priority"][1]) == max(1, int(before["priority"][1]) - 1)
    explained = json.loads(org.ok("findings", "explain", after["id"], "--format", "json").out)
    (factor,) = [f for f in explained["factors"] if f["name"] == "threat_model"]
    assert PLAIN in factor["text"]
    assert "raised one step" in factor["text"]
    # The gate judges a new finding of that kind at the priority the store gives it.
    gated = org(
        "gate", sarif(tmp_path / "pr.sarif", [(CLEARTEXT, "app/other.py", 9)]),
        "--service", "payments-api", "--format", "json",
    )  # fmt: skip
    items = json.loads(gated.out)
    (item,) = [i for i in items["blocking"] + items["warnings"] if i["path"] == "app/other.py"]
    assert item["priority"] == after["priority"]
    # Mitigate the threat in the model: the finding goes back down.
    model_file(tmp_path, extra="")
    text = (
        (tmp_path / "payments.yaml")
        .read_text()
        .replace("protocol: http,", "protocol: http, controls: [mtls],")
    )
    (tmp_path / "payments.yaml").write_text(text)
    org.ok("threatmodel", "push", tmp_path / "payments.yaml")
    (again,) = json.loads(org.ok("findings", "list", "--format", "json").out)
    assert again["priority"] == before["priority"]


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    organisation(db)
    with TestClient(create_app(db, Settings(home=tmp_path)), raise_server_exceptions=False) as c:
        yield c


def _push(client: TestClient, headers: dict[str, str], text: str, **data: str) -> Any:
    return client.post(
        "/api/v1/threat-models",
        headers=headers,
        files=[("model", ("payments.yaml", text.encode(), "application/yaml"))],
        data=data,
    )


def test_the_api_stores_versions_for_the_services_team_only(
    client: TestClient, db: Database
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    text = MODEL.format(reviewed="2026-11-01")
    answer = _push(client, ingest, text)
    assert answer.status_code == 201, answer.text
    uid = answer.json()["model"]
    mismatch = _push(client, ingest, text, service="web")
    assert mismatch.status_code == 400
    assert "the model says service 'payments-api'" in mismatch.text
    growth = bearer(db, "growth", TokenScope.INGEST, "growth-ingest")
    assert _push(client, growth, text).status_code == 404
    broken = _push(client, ingest, text.replace("target: api", "target: apx"))
    assert broken.status_code == 400
    assert "payments.yaml:17" in broken.text

    reader = bearer(db, "platform", TokenScope.READ, "platform-reader")
    (listed,) = client.get("/api/v1/threat-models", headers=reader).json()
    assert listed["id"] == uid
    other = bearer(db, "growth", TokenScope.READ, "growth-reader")
    assert client.get("/api/v1/threat-models", headers=other).json() == []
    assert client.get(f"/api/v1/threat-models/{uid}", headers=other).status_code == 404
    detail = client.get(f"/api/v1/threat-models/{uid}", headers=reader).json()
    assert PLAIN in {t["id"] for t in detail["threats"]}

    second = text + "  - {source: api, target: web, protocol: https}\n"
    assert _push(client, ingest, second).json()["version"] == 2
    versions = client.get(f"/api/v1/threat-models/{uid}/versions", headers=reader).json()
    assert [v["version"] for v in versions] == [2, 1]
    diff = client.get(f"/api/v1/threat-models/{uid}/diff?old=1&new=2", headers=reader).json()
    assert {"element": "flows/api-to-web", "change": "added", "fields": []} in diff["elements"]
    picture = client.get(f"/api/v1/threat-models/{uid}/diagram.svg", headers=reader)
    assert picture.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(picture.text)
    assert root.tag.endswith("svg")

    writer = bearer(db, "platform", TokenScope.WRITE, "platform-writer")
    treatment = {
        "status": "accepted",
        "reason": "later",
        "owner": "a@example.com",
        "expires": "2099-01-01",
    }
    denied = client.post(
        f"/api/v1/threat-models/{uid}/threats/{PLAIN}/treatment", headers=writer, data=treatment
    )
    assert denied.status_code == 403  # a write token may triage, not approve risk
    fine = client.post(
        f"/api/v1/threat-models/{uid}/threats/{PLAIN}/treatment",
        headers=writer,
        data={"status": "not_applicable", "reason": "loopback only"},
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["effective"] == "not_applicable"
    coverage = client.get("/api/v1/threat-models/coverage?days=3650", headers=reader).json()
    assert coverage["share_covered"] == 0.5


def test_the_pages_show_the_diagram_threats_versions_diff_and_take_a_treatment(
    client: TestClient, db: Database
) -> None:
    ingest = bearer(db, "platform", TokenScope.INGEST)
    text = MODEL.format(reviewed="2026-11-01").replace("title: Payments", "title: Pay <b>ments</b>")
    uid = _push(client, ingest, text).json()["model"]
    _push(client, ingest, text + "  - {source: api, target: web, protocol: https}\n")
    lead = user(db, "lead@example.com", Role.MANAGER, ["platform"])
    csrf = log_in(client, lead)

    listing = client.get("/threat-models").text
    assert f'href="/threat-models/{uid}"' in listing
    assert "Pay &lt;b&gt;ments&lt;/b&gt;" in listing
    assert "50% of tier-0 and tier-1 services" in listing

    page = client.get(f"/threat-models/{uid}")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert PLAIN in page.text
    assert f"/threat-models/{uid}/diff?old=1&amp;new=2" in page.text
    service_link = re.search(r'href="(/services/[0-9a-f]+)"', page.text)
    assert service_link
    service = client.get(service_link.group(1)).text
    assert f'<a href="/threat-models/{uid}">Pay &lt;b&gt;ments&lt;/b&gt;</a>: version 2' in service

    diff = client.get(f"/threat-models/{uid}/diff?old=1&new=2").text
    assert "flows/api-to-web" in diff

    refused = client.post(
        f"/threat-models/{uid}/treat",
        data={
            "csrf": csrf,
            "threat_id": PLAIN,
            "status": "accepted",
            "reason": "later",
            "owner": "lead@example.com",
            "expires": "2099-01-01",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "must not be its owner" in refused.text
    done = client.post(
        f"/threat-models/{uid}/treat",
        data={
            "csrf": csrf,
            "threat_id": PLAIN,
            "status": "accepted",
            "reason": "mesh in Q1",
            "owner": "dev@example.com",
            "expires": "2099-01-01",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    exceptions = client.get("/exceptions").text
    assert f'href="/threat-models/{uid}"' in exceptions
    assert "mesh in Q1" in exceptions
