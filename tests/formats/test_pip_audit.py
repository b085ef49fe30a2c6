"""pip-audit JSON: what a Python team sees after importing ``pip-audit -f json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def pip_audit(name: str) -> Path:
    return fixture("reports", "pip-audit", name)


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_current_report_gives_one_finding_per_vulnerability_with_its_aliases() -> None:
    records = parse_file(pip_audit("current.json"))
    assert records[0] == ToolRun("pip-audit", None)
    intcomma, unfixed, session = findings(pip_audit("current.json"))

    assert intcomma.kind is Kind.DEPENDENCY
    assert intcomma.rule_id == "PYSEC-2024-28"
    assert intcomma.title == "PYSEC-2024-28 in Django 4.2.7"
    # The CVE is the canonical id across aliases, so Trivy's report of it meets this one.
    assert intcomma.vulnerability_ids == [
        "CVE-2024-24680",
        "GHSA-xxj9-f6rv-m3x4",
        "PYSEC-2024-28",
    ]
    assert intcomma.component == RawComponent("Django", "4.2.7", "pkg:pypi/django@4.2.7", "PyPI")
    # One fix per release line: 4.2.7 upgrades to 4.2.10, not to 3.2.24.
    assert intcomma.fixed_version == "4.2.10"
    assert "intcomma template filter" in (intcomma.description or "")
    assert "Fixed in: 3.2.24, 4.2.10, 5.0.2" in (intcomma.description or "")
    assert intcomma.references == ["https://osv.dev/vulnerability/PYSEC-2024-28"]

    # pip-audit rates nothing: unrated is medium, and the tool's severity stays empty.
    assert (intcomma.severity, intcomma.tool_severity) == (Severity.MEDIUM, None)

    assert unfixed.vulnerability_ids == ["GHSA-qcgg-j2x8-h9g8"]
    assert unfixed.fixed_version is None
    assert unfixed.description == "No fixed version is known."

    assert session.vulnerability_ids[0] == "CVE-2024-35195"
    assert session.fixed_version == "2.32.0"


def test_every_audited_dependency_is_a_component_and_skipped_ones_have_no_findings() -> None:
    records = parse_file(pip_audit("current.json"))
    components = [r for r in records if isinstance(r, RawComponent)]
    assert [(c.name, c.version) for c in components] == [
        ("certifi", "2023.11.17"),
        ("Django", "4.2.7"),
        ("internal-tools", None),
        ("requests", "2.31.0"),
    ]
    found = findings(pip_audit("current.json"))
    assert "internal-tools" not in {f.component.name for f in found if f.component}


def test_the_old_top_level_list_is_read_the_same_way() -> None:
    (jinja,) = findings(pip_audit("legacy-list.json"))
    assert jinja.vulnerability_ids == ["PYSEC-2019-217"]
    assert jinja.component is not None
    assert (jinja.component.name, jinja.component.version) == ("jinja2", "2.10")
    assert jinja.fixed_version == "2.10.1"


def test_a_scan_without_dependencies_is_a_complete_empty_run() -> None:
    assert parse_file(pip_audit("no-dependencies.json")) == [ToolRun("pip-audit", None)]


def test_an_empty_list_is_ambiguous_but_imports_with_the_format_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text("[]")
    assert parse_file(path, "pip-audit") == [ToolRun("pip-audit", None)]


def test_dependencies_that_are_not_a_list_are_refused(tmp_path: Path) -> None:
    # Importing it as "nothing found" would close every open pip-audit finding.
    path = tmp_path / "audit.json"
    path.write_text(json.dumps({"dependencies": None, "fixes": []}))
    with pytest.raises(InputError, match="`dependencies` is not a list"):
        parse_file(path, "pip-audit")


def test_hostile_shapes_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(
        json.dumps(
            {
                "dependencies": [
                    {"name": "a", "version": 1, "vulns": "nope"},
                    {"name": ["b"], "vulns": [{"id": "PYSEC-2020-1"}]},
                    {"name": "c", "version": "1.0", "vulns": [None, {"id": 7}, {"id": "x y"}]},
                    {
                        "name": "d",
                        "version": "1.0",
                        "vulns": [{"id": "PYSEC-2020-2", "fix_versions": "1.1"}],
                    },
                ]
            }
        )
    )
    (found,) = findings(path)
    assert found.vulnerability_ids == ["PYSEC-2020-2"]
    assert found.fixed_version == "1.1"


def test_real_pip_audit_reports() -> None:
    folder = shared_data("scans", "pip_audit")
    for path in sorted(folder.iterdir()):
        assert parse_file(path, "pip-audit")[0] == ToolRun("pip-audit", None)

    old, new = findings(folder / "many_vulns.json"), findings(folder / "many_vulns_new.json")
    assert len(old) == len(new) == 7
    assert [(f.rule_id, f.fixed_version) for f in old] == [
        (f.rule_id, f.fixed_version) for f in new
    ]
    django = next(f for f in new if f.component and f.component.name == "django")
    assert (django.rule_id, django.fixed_version) == ("PYSEC-2021-439", "3.2.10")
    assert findings(folder / "zero_vulns.json") == findings(folder / "zero_vulns_new.json") == []
    assert parse_file(folder / "empty_new.json") == [ToolRun("pip-audit", None)]
    # ``[]`` is also what gitleaks and trufflehog3 write when they find nothing.
    with pytest.raises(InputError, match="could be any of"):
        parse_file(folder / "empty.json")
