"""What a scan stream counts for (SAST, SCA, secrets, IaC), and a service's and a team's
coverage from its streams' runs: pure logic, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shieldwall.coverage.categories import KNOWN_TOOLS, MULTI_PURPOSE, stream_categories
from shieldwall.coverage.service import ServiceCoverage, State, StreamRun, by_team, checks
from shieldwall.ingest.formats.sarif import DEPENDENCY_TOOLS, IAC_TOOLS, SECRET_TOOLS
from shieldwall.ingest.registry import all_formats
from shieldwall.inventory.models import Team
from shieldwall.scan.posture.tools import SIGNATURES, Category

SAST, SCA, SECRETS, IAC = Category.SAST, Category.SCA, Category.SECRETS, Category.IAC
NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("semgrep", {SAST}),
        ("bandit", {SAST}),
        ("codeql", {SAST}),
        ("gitleaks", {SECRETS}),
        ("trufflehog", {SECRETS}),
        ("shieldwall-secrets", {SECRETS}),
        ("grype", {SCA}),
        ("osv-scanner", {SCA}),
        ("shieldwall-deps", {SCA}),
        ("checkov", {IAC}),
        ("tfsec", {IAC}),
        ("trivy", {SCA}),
    ],
)
def test_a_known_tool_counts_for_its_categories(tool: str, expected: set[Category]) -> None:
    assert stream_categories(tool) == expected


@pytest.mark.parametrize(
    ("tool", "expected"),
    [("CodeQL", {SAST}), ("Snyk Open Source", {SCA}), ("  GitLeaks ", {SECRETS}), ("KICS", {IAC})],
)
def test_tool_names_match_in_any_case_and_spacing(tool: str, expected: set[Category]) -> None:
    assert stream_categories(tool) == expected


def test_a_multi_purpose_tool_also_counts_for_what_it_reported() -> None:
    assert stream_categories("trivy", ["iac", "secret"]) == {SCA, IAC, SECRETS}
    assert stream_categories("Trivy", ["container"]) == {SCA}
    assert stream_categories("checkov", ["secret", "dependency"]) == {IAC, SECRETS, SCA}
    assert stream_categories("semgrep", ["dependency"]) == {SAST, SCA}


def test_a_single_purpose_tool_does_not_grow_with_its_findings() -> None:
    # Bandit's hard-coded password rule does not make it a secrets scanner.
    assert stream_categories("bandit", ["code", "secret"]) == {SAST}
    assert stream_categories("gitleaks", ["code"]) == {SECRETS}


def test_an_unknown_tool_counts_for_the_kinds_it_reported_else_for_nothing() -> None:
    assert stream_categories("eslint", ["code"]) == {SAST}
    assert stream_categories("acme-scanner", ["secret", "iac"]) == {SECRETS, IAC}
    assert stream_categories("zap", ["web"]) == set()  # dynamic testing: none of the four
    assert stream_categories("acme-scanner") == set()


def test_listing_components_is_sca_for_any_tool() -> None:
    # An inventory-only SBOM: its components are matched against the advisories.
    assert stream_categories("syft", (), lists_components=True) == {SCA}
    assert stream_categories("trivy", ["iac"], lists_components=True) == {SCA, IAC}


def test_shieldwalls_own_advisory_matches_count_for_nothing() -> None:
    assert stream_categories("shieldwall-intel", ["dependency"], lists_components=True) == set()


def test_every_report_format_named_after_its_tool_is_classified() -> None:
    # SBOM and SARIF streams are named after the producing tool, not the format.
    named_after_tool = set(all_formats()) - {"cyclonedx", "spdx", "sarif"}
    assert named_after_tool
    assert {name for name in named_after_tool if not stream_categories(name)} == set()


def test_the_sarif_parsers_tool_sets_agree_with_the_table() -> None:
    for tools, category in ((SECRET_TOOLS, SECRETS), (IAC_TOOLS, IAC), (DEPENDENCY_TOOLS, SCA)):
        assert {tool for tool in tools if category not in stream_categories(tool)} == set()


def test_every_tool_posture_recognises_in_ci_is_classified_alike() -> None:
    umbrella = {"shieldwall", "gitlab-auto-devops"}  # names for several streams' tools
    wrong = [
        signature.tool
        for signature in SIGNATURES
        if signature.tool not in umbrella
        and not (
            signature.categories <= KNOWN_TOOLS.get(signature.tool, frozenset())
            or signature.tool in MULTI_PURPOSE
        )
    ]
    assert wrong == []


def _run(tool: str, days_ago: float, *categories: Category) -> StreamRun:
    return StreamRun(1, tool, NOW - timedelta(days=days_ago), frozenset(categories))


def test_a_service_is_covered_stale_or_missing_per_category() -> None:
    found, other = checks(
        [
            _run("semgrep", 2, SAST),
            _run("bandit", 40, SAST),
            _run("trivy", 45, SCA, IAC),
            _run("trivy", 31, SCA),  # the same tool on another branch, more recently
            _run("zap", 1),
        ],
        NOW,
        stale_days=30,
    )
    by_category = {check.category: check for check in found}
    assert [check.category for check in found] == [SAST, SCA, SECRETS, IAC]
    assert by_category[SAST].state is State.COVERED
    assert by_category[SAST].tools == ("bandit", "semgrep")
    assert by_category[SAST].last_run == NOW - timedelta(days=2)
    assert by_category[SCA].state is State.STALE
    assert by_category[SCA].last_run == NOW - timedelta(days=31)
    assert by_category[IAC].state is State.STALE
    assert by_category[SECRETS].state is State.MISSING
    assert by_category[SECRETS].tools == ()
    assert by_category[SECRETS].last_run is None
    assert other == ("zap",)


def test_staleness_follows_the_days_given() -> None:
    found, _ = checks([_run("gitleaks", 10, SECRETS)], NOW, stale_days=7)
    assert found[2].state is State.STALE
    found, _ = checks([_run("gitleaks", 10, SECRETS)], NOW, stale_days=11)
    assert found[2].state is State.COVERED


def test_a_tool_that_counts_on_one_branch_is_not_other_on_another() -> None:
    _, other = checks([_run("acme", 1, SAST), _run("acme", 2)], NOW, stale_days=30)
    assert other == ()


def test_a_service_row_is_flat_and_complete() -> None:
    found, other = checks([_run("semgrep", 1, SAST), _run("zap", 1)], NOW, stale_days=30)
    row = ServiceCoverage("ledger", "a" * 16, "platform", "b" * 16, 1, found, other).row()
    assert row["sast"] == "covered"
    assert row["sast_tools"] == ["semgrep"]
    assert row["sast_last_run"] == "2025-06-29T12:00:00Z"
    assert row["sca"] == "missing"
    assert row["sca_last_run"] is None
    assert row["covered"] == 1
    assert row["other_tools"] == ["zap"]
    assert all(not isinstance(value, dict) for value in row.values())


def test_a_team_counts_its_services_per_category() -> None:
    platform, growth = Team(uid="p" * 16, name="platform"), Team(uid="g" * 16, name="growth")
    everything = [_run(t, 1, c) for t, c in (("a", SAST), ("b", SCA), ("c", SECRETS), ("d", IAC))]
    services = [
        ServiceCoverage("ledger", "1", "platform", platform.uid, 1, *checks(everything, NOW, 30)),
        ServiceCoverage(
            "payments", "2", "platform", platform.uid, 0, *checks([_run("a", 90, SAST)], NOW, 30)
        ),
    ]
    teams = by_team([growth, platform], services)
    assert [team.team for team in teams] == ["growth", "platform"]
    assert teams[0].row()["services"] == 0
    assert teams[0].row()["sast_missing"] == 0
    row = teams[1].row()
    assert row["services"] == 2
    assert row["fully_covered"] == 1
    assert (row["sast_covered"], row["sast_stale"], row["sast_missing"]) == (1, 1, 0)
    assert (row["sca_covered"], row["sca_stale"], row["sca_missing"]) == (1, 0, 1)
