"""What the four secret-scanner formats promise together: each report is recognised as its own
format only, and no raw secret reaches any field but ``RawFinding.secret`` (the only one the
importer hashes and redacts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest import registry
from shieldwall.ingest.records import RawFinding
from shieldwall.ingest.source import ReportSource
from tests.conftest import FIXTURES, parse_file, shared_data

FORMATS = ("gitleaks", "trufflehog", "trufflehog3", "detect-secrets")  # = fixture folders
REPORTS = sorted(
    (folder, path) for folder in FORMATS for path in (FIXTURES / "reports" / folder).iterdir()
)
NOT_EMPTY = [(folder, path) for folder, path in REPORTS if path.name != "empty.json"]
# Secrets the fixtures hold outside the field a parser takes the secret from: the other half
# of an AWS key pair (RawV2, SecretParts), a password in ExtraData and SecretParts, a session
# token in ExtraData.
PLANTED = ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Tr0ub4dor-fixture", "FwoGZXIvYXdzEXAMPLE")


@pytest.mark.parametrize(("folder", "path"), REPORTS, ids=[p.name for _, p in REPORTS])
def test_each_report_is_recognised_as_its_own_format_only(folder: str, path: Path) -> None:
    source = ReportSource(path, max_size=2**31, max_depth=64)
    assert registry.resolve(source).name == folder


@pytest.mark.parametrize(("folder", "path"), NOT_EMPTY, ids=[p.name for _, p in NOT_EMPTY])
def test_no_secret_of_a_fixture_appears_outside_the_secret_field(folder: str, path: Path) -> None:
    found = [r for r in parse_file(path) if isinstance(r, RawFinding)]
    assert found
    assert all(f.kind is Kind.SECRET and f.cwe_ids == ["CWE-798"] for f in found)
    assert leaks(found, PLANTED) == []


def test_real_reports_leak_no_secret() -> None:
    folders = ("gitleaks", "trufflehog", "trufflehog3", "detect_secrets")
    checked = 0
    for folder in folders:
        for path in sorted(shared_data("scans", folder).iterdir()):
            source = ReportSource(path, max_size=2**31, max_depth=64)
            try:
                fmt = registry.resolve(source)
            except InputError:  # the empty reports, covered per format
                continue
            found = [r for r in fmt.parse(source) if isinstance(r, RawFinding)]
            assert leaks(found) == [], path
            checked += sum(1 for f in found if f.secret)
    assert checked > 200


def test_the_leak_check_finds_a_leak() -> None:
    finding = RawFinding(
        tool="t",
        kind=Kind.SECRET,
        rule_id="r",
        title="t",
        severity=Severity.HIGH,
        secret="s3cr3t-value",
    )
    assert leaks([finding]) == []
    finding.references = ["https://example.com/?k=s3cr3t-value"]
    assert leaks([finding]) == [("references", "s3cr3t-value")]
    assert leaks(
        [dataclasses.replace(finding, references=[], description="x Tr0ub4dor-fixture")], PLANTED
    ) == [("description", "Tr0ub4dor-fixture")]


def leaks(found: list[RawFinding], planted: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(field, secret) for every secret of the report (any finding's, and the planted ones)
    that a field other than ``secret`` of any finding contains."""
    secrets = {f.secret for f in found if f.secret} | set(planted)
    return [
        (field.name, secret)
        for finding in found
        for field in dataclasses.fields(finding)
        if field.name != "secret"
        for value in _strings(getattr(finding, field.name))
        for secret in secrets
        if secret in value
    ]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name))
