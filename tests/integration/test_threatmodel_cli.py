"""``shieldwall threatmodel``: check, gate, report, diff and the vocabularies, as a tech lead
runs them in design review and CI. No database: models and tracking are files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, shared_data

MODEL = """\
shieldwall_threat_model: 1
title: Checkout
service: payments-api
reviewed: 2026-11-01
assets:
  - {id: card-data, name: Card data, data_classes: [payment, pii]}
actors:
  - {id: customer, name: Customer, trust: untrusted}
boundaries:
  - {id: edge, name: Edge, type: network}
  - {id: core, name: Core, type: network}
components:
  - {id: web, name: Web shop, type: web_application, boundary: edge, exposure: internet}
  - {id: api, name: Orders API, type: api, boundary: core, stores: [card-data]}
flows:
  - {source: customer, target: web, protocol: https, authentication: session, sends: [card-data]}
  - {source: web, target: api, protocol: http, sends: [card-data]}
"""
PLAIN_FLOW = "unencrypted-flow-across-boundary:flows/web-to-api"


@pytest.fixture
def tm(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    monkeypatch.chdir(tmp_path)
    return Cli(capsys, monkeypatch, f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "home")


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.write_text(textwrap.dedent(text))
    return path


def threats(tm: Cli, *args: str | Path) -> dict[str, dict[str, object]]:
    rows = json.loads(tm.ok("threatmodel", "check", *args, "--format", "json").out)
    return {row["id"]: row for row in rows}


def test_check_lists_threats_with_stable_ids_risk_and_status(tm: Cli) -> None:
    model = write("checkout.yaml", MODEL)
    found = threats(tm, model)
    plain = found[PLAIN_FLOW]
    assert plain["status"] == "open"
    assert plain["residual_risk"] == "critical"
    assert plain["cwe_ids"] == ["CWE-319"]
    assert "information_disclosure" in plain["categories"]
    assert plain["missing_controls"] == ["encryption-in-transit"]
    # The same model checked again gives the same ids: they are rule + element path.
    assert set(threats(tm, model)) == set(found)


def test_a_control_in_the_model_mitigates_and_lowers_residual_risk(tm: Cli) -> None:
    model = write(
        "checkout.yaml", MODEL.replace("protocol: http,", "protocol: http, controls: [mtls],")
    )
    row = threats(tm, model)[PLAIN_FLOW]
    assert row["status"] == "mitigated"
    assert row["inherent_risk"] == "critical"
    assert row["residual_score"] < row["inherent_score"]


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        ("target: api, protocol: http", 17, "no actor or component has the id 'apii'"),
        ("boundary: core,", 14, "no boundary has the id 'coer'"),
        ("protocol: http,", 17, "'htp'"),
    ],
)
def test_an_invalid_model_exits_2_naming_the_file_and_line(
    tm: Cli, change: str, line: int, problem: str
) -> None:
    broken = {
        "target: api, protocol: http": "target: apii, protocol: http",
        "boundary: core,": "boundary: coer,",
        "protocol: http,": "protocol: htp,",
    }[change]
    model = write("broken.yaml", MODEL.replace(change, broken))
    result = tm("threatmodel", "check", model)
    assert result.code == 2
    assert f"broken.yaml:{line}:" in result.err
    assert problem in result.err
    assert "Traceback" not in result.err


def test_an_unknown_control_is_refused_with_the_closest_one(tm: Cli) -> None:
    model = write("c.yaml", MODEL.replace("protocol: http,", "protocol: http, controls: [mtsl],"))
    result = tm("threatmodel", "check", model)
    assert result.code == 2
    assert "c.yaml:17:" in result.err
    assert "did you mean 'mtls'" in result.err


def test_gate_fails_only_on_new_open_threats_at_the_threshold(tm: Cli) -> None:
    before = write("before.yaml", MODEL)
    assert tm("threatmodel", "check", before, "--gate").code == 1
    # Against itself as baseline nothing is new.
    result = tm("threatmodel", "check", before, "--gate", "--baseline", before)
    assert result.code == 0, result.err
    # A new internet-facing flow without authentication is new and critical.
    after = write(
        "after.yaml",
        MODEL + "  - {id: admin, source: customer, target: api, protocol: https}\n",
    )
    result = tm("threatmodel", "check", after, "--gate", "--baseline", before)
    assert result.code == 1
    assert "unauthenticated-flow-from-untrusted:flows/admin" in result.err
    assert PLAIN_FLOW not in result.err
    # The baseline may also be the JSON report of the old model.
    report = Path("before.json")
    report.write_text(tm.ok("threatmodel", "report", before, "--format", "json").out)
    assert tm("threatmodel", "check", after, "--gate", "--baseline", report).code == 1
    assert tm("threatmodel", "check", before, "--gate", "--baseline", report).code == 0
    # Above the threshold only.
    assert (
        tm(
            "threatmodel", "check", after, "--gate", "--baseline", before, "--threshold", "critical"
        ).code
        == 1
    )


def _tracking(status: str = "accepted", **fields: str) -> str:
    entry = {"status": status, "reason": "internal network only until Q1 migration", **fields}
    return yaml.safe_dump({"shieldwall_threat_tracking": 1, "threats": {PLAIN_FLOW: entry}})


def test_an_accepted_threat_has_owner_approver_and_expiry_and_reopens_when_it_expires(
    tm: Cli,
) -> None:
    model = write("checkout.yaml", MODEL)
    people = {"owner": "lead@example.com", "approver": "ciso@example.com"}
    write("checkout.tracking.yaml", _tracking(**people, expires="2099-01-31"))
    row = threats(tm, model)[PLAIN_FLOW]
    assert row["status"] == "accepted"
    assert row["approver"] == "ciso@example.com"
    assert row["expires"] == "2099-01-31"
    write("checkout.tracking.yaml", _tracking(**people, expires="2020-01-31"))
    row = threats(tm, model)[PLAIN_FLOW]
    assert row["status"] == "open"
    assert "expired on 2020-01-31" in str(row["status_note"])


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"owner": "a@example.com", "approver": "A@example.com", "expires": "2099-01-01"},
            "must not be its owner",
        ),
        ({"owner": "a@example.com", "approver": "b@example.com"}, "accepted needs expires"),
    ],
)
def test_an_acceptance_without_governance_is_refused(
    tm: Cli, fields: dict[str, str], problem: str
) -> None:
    model = write("checkout.yaml", MODEL)
    write("checkout.tracking.yaml", _tracking(**fields))
    result = tm("threatmodel", "check", model)
    assert result.code == 2
    assert "checkout.tracking.yaml:" in result.err
    assert problem in result.err


def test_a_tracking_entry_for_a_threat_that_went_away_is_reported(tm: Cli) -> None:
    model = write("checkout.yaml", MODEL.replace("protocol: http,", "protocol: https,"))
    write("checkout.tracking.yaml", _tracking("not_applicable"))
    result = tm.ok("threatmodel", "check", model)
    assert f"{PLAIN_FLOW} matches no threat any more" in result.err


def test_report_formats(tm: Cli) -> None:
    model = write("checkout.yaml", MODEL)
    document = json.loads(tm.ok("threatmodel", "report", model, "--format", "json").out)
    threat = next(t for t in document["threats"] if t["id"] == PLAIN_FLOW)
    for key in (
        "id",
        "rule_id",
        "element",
        "categories",
        "cwe_ids",
        "capec_ids",
        "inherent_risk",
        "residual_risk",
        "status",
    ):
        assert key in threat
    assert document["summary"]["open"] >= 1
    markdown = tm.ok("threatmodel", "report", model).out
    assert markdown.startswith("# Threat model review: Checkout")
    assert "## Needs a decision" in markdown
    assert "Unencrypted communication across a trust boundary" in markdown
    sarif = json.loads(tm.ok("threatmodel", "report", model, "--format", "sarif").out)
    result = next(
        r
        for r in sarif["runs"][0]["results"]
        if r["partialFingerprints"]["shieldwallThreatId/v1"] == PLAIN_FLOW
    )
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 17
    tm.ok("threatmodel", "report", model, "--format", "html", "--out", "r.html")
    page = Path("r.html").read_text()
    assert "<h1>Threat model review: Checkout</h1>" in page


def test_report_escapes_hostile_names(tm: Cli) -> None:
    hostile = MODEL.replace(
        "name: Web shop", "name: '<script>alert(1)</script> [x](http://evil) @team'"
    )
    model = write("h.yaml", hostile)
    markdown = tm.ok("threatmodel", "report", model).out
    assert "<script>" not in markdown
    assert "](http" not in markdown
    tm.ok("threatmodel", "report", model, "--format", "html", "--out", "h.html")
    page = Path("h.html").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_diff_shows_changed_elements_new_threats_and_acceptances_to_review(tm: Cli) -> None:
    old = write("old.yaml", MODEL)
    new = write(
        "new.yaml",
        MODEL.replace("stores: [card-data]", "stores: [card-data], technology: postgres")
        + "  - {id: admin, source: customer, target: api, protocol: https}\n",
    )
    people = {"owner": "lead@example.com", "approver": "ciso@example.com", "expires": "2099-01-31"}
    write("new.tracking.yaml", _tracking(**people))
    document = json.loads(tm.ok("threatmodel", "diff", old, new, "--format", "json").out)
    changes = {e["element"]: e for e in document["elements"]}
    assert changes["components/api"]["change"] == "changed"
    assert changes["components/api"]["fields"] == ["technology"]
    assert changes["flows/admin"]["change"] == "added"
    assert "unauthenticated-flow-from-untrusted:flows/admin" in {
        t["id"] for t in document["threats_added"]
    }
    assert document["acceptances_invalidated"] == []
    # Changing the accepted flow itself invalidates its acceptance.
    write("new.yaml", MODEL.replace("protocol: http,", "protocol: http, readonly: true,"))
    document = json.loads(tm.ok("threatmodel", "diff", old, new, "--format", "json").out)
    (invalidated,) = document["acceptances_invalidated"]
    assert invalidated["id"] == PLAIN_FLOW
    assert "readonly" in invalidated["reason"]
    markdown = tm.ok("threatmodel", "diff", old, new).out
    assert "## Acceptances to review again" in markdown


def test_schema_rules_and_controls(tm: Cli) -> None:
    schema = json.loads(tm.ok("threatmodel", "schema").out)
    assert schema["title"] == "Shieldwall threat model"
    assert "flows" in schema["properties"]
    rules = json.loads(tm.ok("threatmodel", "rules", "--format", "json").out)
    assert {"id", "applies_to", "categories", "cwe_ids", "capec_ids"} <= set(rules[0])
    controls = json.loads(tm.ok("threatmodel", "controls", "--format", "json").out)
    mtls = next(c for c in controls if c["id"] == "mtls")
    assert "encryption-in-transit" in mtls["implies"]


def test_a_custom_rule_that_names_an_unknown_attribute_fails_loading_with_its_line(tm: Cli) -> None:
    model = write("checkout.yaml", MODEL)
    rule = yaml.safe_load(
        Path(__file__)
        .parents[2]
        .joinpath("src/shieldwall/threatmodel/rules/communication.yaml")
        .read_text()
    )[0]
    rule["id"] = "my-rule"
    rule["when"] = "network and not encryptd"
    Path("rules.yaml").write_text(yaml.safe_dump([rule], sort_keys=False))
    result = tm("threatmodel", "check", model, "--rules", "rules.yaml")
    assert result.code == 2
    assert "rules.yaml:" in result.err
    assert "unknown attribute 'encryptd'" in result.err
    assert "did you mean 'encrypted'" in result.err


def test_diagram_formats(tm: Cli) -> None:
    model = write("checkout.yaml", MODEL)
    mermaid = tm.ok("threatmodel", "diagram", model).out
    assert mermaid.startswith("flowchart LR")
    assert mermaid.count("subgraph ") == 2
    dot = tm.ok("threatmodel", "diagram", model, "--format", "dot").out
    assert dot.count('subgraph "cluster_') == 2
    tm.ok("threatmodel", "diagram", model, "--format", "svg", "--out", "d.svg")
    assert Path("d.svg").read_text().lstrip().startswith("<svg")
    assert tm("threatmodel", "diagram", model, "--format", "png").code == 2


def test_import_threagile_then_check_and_export_tmbom(tm: Cli) -> None:
    source = shared_data("threatmodels", "threagile-example.yaml")
    result = tm.ok("threatmodel", "import", source, "--from", "threagile", "--out", "tg.yaml")
    assert "risk_tracking entries not imported" in result.err
    assert Path("tg.yaml").read_text().startswith("# Imported from Threagile file")
    found = threats(tm, "tg.yaml")
    assert "unencrypted-flow-across-boundary:flows/load-balancer-to-apache-webserver" in found
    report = tm.ok("threatmodel", "report", "tg.yaml").out
    # A reviewer's report: each kind of threat said once, with the elements it affects.
    headings = [line for line in report.splitlines() if line.startswith("### ")]
    assert len(headings) == len(set(headings))
    assert len(headings) < len([t for t in found.values() if t["status"] == "open"])
    exported = json.loads(tm.ok("threatmodel", "export", "tg.yaml", "--format", "tmbom").out)
    Path("tg.json").write_text(json.dumps(exported))
    back = tm.ok("threatmodel", "import", "tg.json", "--from", "tmbom", "--out", "back.yaml")
    assert back.code == 0
    assert set(threats(tm, "back.yaml")) == set(found)
    assert tm("threatmodel", "import", source, "--from", "visio").code == 2


def test_the_published_json_schema_is_the_one_the_command_prints(tm: Cli) -> None:
    published = Path(__file__).parents[2] / "docs" / "threat-model.schema.json"
    assert json.loads(published.read_text()) == json.loads(tm.ok("threatmodel", "schema").out)
