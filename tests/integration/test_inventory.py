"""Inventory as code: idempotent imports, in-place updates with an audited diff, and precise
errors that apply nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli, fixture

ORG = fixture("inventory", "org.yaml")


def services(cli: Cli) -> dict[str, dict[str, object]]:
    rows = json.loads(cli.ok("inventory", "list", "--format", "json").out)
    return {row["name"]: row for row in rows}


def audit(cli: Cli) -> list[dict[str, object]]:
    return json.loads(cli.ok("audit", "list", "--format", "json", "--limit", "1000").out)  # type: ignore[no-any-return]


def test_import_creates_teams_people_and_services(cli: Cli) -> None:
    result = cli.ok("inventory", "import", ORG)
    assert "services: 3 created" in result.err
    listed = services(cli)
    assert listed["payments-api"] == {
        "id": listed["payments-api"]["id"],
        "name": "payments-api",
        "team": "platform",
        "repository": "https://git.example.com/acme/payments-api",
        "tier": 0,
        "exposure": "internet",
        "data": ["payment", "pii"],
        "lifecycle": "production",
        "description": None,
    }
    assert listed["web"]["lifecycle"] == "development"
    teams = {
        t["name"]: t
        for t in json.loads(cli.ok("inventory", "list", "teams", "--format", "json").out)
    }
    assert teams["platform"]["manager"] == "ana@example.com"
    assert teams["platform"]["champion"] == "raj@example.com"
    assert teams["platform"]["members"] == ["lee@example.com", "raj@example.com"]
    assert teams["platform"]["services"] == ["ledger", "payments-api"]
    people = json.loads(cli.ok("inventory", "list", "people", "--format", "json").out)
    assert {"email": "ana@example.com", "name": "Ana Silva"} in people


def test_applying_the_same_file_twice_changes_nothing(cli: Cli) -> None:
    cli.ok("inventory", "import", ORG)
    entries = audit(cli)
    again = cli.ok("inventory", "import", ORG)
    assert "services: 0 created, 0 updated, 3 unchanged" in again.err
    assert audit(cli) == entries


def test_a_changed_file_updates_in_place_and_the_audit_log_shows_the_difference(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("inventory", "import", ORG)
    before_id = services(cli)["ledger"]["id"]
    changed = tmp_path / "org.yaml"
    changed.write_text(
        ORG.read_text().replace(
            "    tier: 1\n    exposure: internal", "    tier: 0\n    exposure: partner"
        )
    )
    result = cli.ok("inventory", "import", changed)
    assert "updated service ledger (exposure, tier)" in result.err
    ledger = services(cli)["ledger"]
    assert (ledger["id"], ledger["tier"], ledger["exposure"]) == (before_id, 0, "partner")
    latest = audit(cli)[0]
    assert latest["action"] == "service.updated"
    assert latest["entity_id"] == "ledger"
    assert latest["changed"] == ["exposure", "tier"]
    assert (latest["before"]["tier"], latest["after"]["tier"]) == (1, 0)  # type: ignore[index]


def _bad(tmp_path: Path, text: str, name: str = "org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_unknown_keys_missing_teams_and_bad_tiers_are_reported_with_lines(
    cli: Cli, tmp_path: Path
) -> None:
    path = _bad(
        tmp_path,
        """teams:
  - name: platform
    colour: blue
services:
  - name: api
    team: platfrom
    tier: 0
    exposure: internet
  - name: batch
    team: platform
    tier: 7
    exposure: internal
""",
    )
    result = cli("inventory", "import", path)
    assert result.code == 2
    assert f"{path}:3: unknown key 'colour'" in result.err
    assert f"{path}:11: services[1].tier: tier must be one of 0, 1, 2, not 7" in result.err
    assert "Traceback" not in result.err
    assert services(cli) == {}


def test_a_service_whose_team_does_not_exist_names_the_line(cli: Cli, tmp_path: Path) -> None:
    path = _bad(
        tmp_path,
        "services:\n  - name: api\n    team: ghosts\n    tier: 1\n    exposure: internal\n",
    )
    result = cli("inventory", "import", path)
    assert result.code == 2
    assert result.err.strip() == (
        f"error: {path}:3: service 'api': owner team 'ghosts' does not exist (define it under teams)"
    )
    assert services(cli) == {}


def test_services_may_refer_to_teams_already_in_the_inventory(cli: Cli, tmp_path: Path) -> None:
    cli.ok("inventory", "import", ORG)
    path = _bad(
        tmp_path,
        "services:\n  - name: batch\n    team: growth\n    tier: 2\n    exposure: internal\n",
    )
    cli.ok("inventory", "import", path)
    assert services(cli)["batch"]["team"] == "growth"


def test_yaml_that_is_unsafe_or_ambiguous_is_refused(cli: Cli, tmp_path: Path) -> None:
    cases = {
        "tag.yaml": ("teams: !!python/object/apply:os.system ['true']\n", "unsupported value"),
        "dup.yaml": ("teams: []\nteams: []\n", "duplicate key 'teams'"),
        "bomb.yaml": (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{k}: &{k} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                for p, k in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "alias expansion",
        ),
        "list.yaml": ("- just\n- a list\n", "the top level must be a mapping"),
        "broken.yaml": ("teams: [\n", "not valid YAML"),
    }
    for name, (text, problem) in cases.items():
        result = cli("inventory", "import", _bad(tmp_path, text, name))
        assert result.code == 2, name
        assert problem in result.err, (name, result.err)


def test_csv_of_teams_and_of_services(cli: Cli, tmp_path: Path) -> None:
    teams = _bad(
        tmp_path,
        "name,manager,champion,members\nplatform,ana@example.com,raj@example.com,raj@example.com;lee@example.com\n",
        "teams.csv",
    )
    cli.ok("inventory", "import", teams)
    svc = _bad(
        tmp_path,
        "name,team,repository,tier,exposure,data,lifecycle\n"
        "payments-api,platform,https://git.example.com/p,0,internet,payment;pii,production\n"
        "ledger,platform,,1,internal,payment,\n",
        "services.csv",
    )
    cli.ok("inventory", "import", svc)
    listed = services(cli)
    assert listed["payments-api"]["data"] == ["payment", "pii"]
    assert listed["ledger"]["repository"] is None
    assert listed["ledger"]["lifecycle"] == "production"
    again = cli.ok("inventory", "import", svc)
    assert "services: 0 created, 0 updated, 2 unchanged" in again.err


def test_csv_errors_name_the_line(cli: Cli, tmp_path: Path) -> None:
    bad_tier = _bad(
        tmp_path,
        "name,team,tier,exposure\napi,platform,0,internet\nbatch,platform,high,internal\n",
        "s.csv",
    )
    cli.ok("inventory", "import", _bad(tmp_path, "name\nplatform\n", "t.csv"))
    result = cli("inventory", "import", bad_tier)
    assert result.code == 2
    assert f"{bad_tier}:3: services[1].tier: tier must be one of 0, 1, 2" in result.err
    unknown = _bad(tmp_path, "name,team,tier,exposure,owner\n", "u.csv")
    result = cli("inventory", "import", unknown)
    assert f"{unknown}:1: unknown column 'owner'" in result.err


def test_dry_run_shows_changes_and_applies_nothing(cli: Cli) -> None:
    result = cli.ok("inventory", "import", ORG, "--dry-run")
    assert "created service payments-api" in result.err
    assert "dry run, nothing applied" in result.err
    assert services(cli) == {}
    assert audit(cli) == []


def test_csv_output_defuses_spreadsheet_formulas(cli: Cli, tmp_path: Path) -> None:
    path = _bad(
        tmp_path,
        "teams:\n  - name: t\nservices:\n  - name: s\n    team: t\n    tier: 1\n"
        "    exposure: internal\n    description: '=HYPERLINK(\"http://evil\")'\n",
    )
    cli.ok("inventory", "import", path)
    out = cli.ok("inventory", "list", "--format", "csv").out
    assert "'=HYPERLINK" in out
