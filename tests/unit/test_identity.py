"""Fingerprints: stable across what does not change the problem, different where it does."""

from __future__ import annotations

from dataclasses import replace

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.identity import IdentityAssigner, identity_key
from shieldwall.ingest.lifecycle import SCANNER_COLUMNS, merge
from shieldwall.ingest.normalize import secret_sha1
from shieldwall.ingest.records import RawComponent, RawFinding


def code(**changes: object) -> RawFinding:
    base = RawFinding(
        tool="semgrep",
        kind=Kind.CODE,
        rule_id="sqli",
        title="SQL injection",
        severity=Severity.HIGH,
        path="app/db.py",
        line=10,
        snippet="db.execute(q + x)",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fp(finding: RawFinding) -> str:
    return IdentityAssigner().fingerprint(finding)


def test_line_moves_reindentation_and_message_wording_do_not_change_identity() -> None:
    assert fp(code()) == fp(code(line=99, snippet="    db.execute(q  +  x)\n", title="Other words"))


def test_rule_path_and_code_do() -> None:
    assert fp(code()) != fp(code(rule_id="xss"))
    assert fp(code()) != fp(code(path="app/other.py"))
    assert fp(code()) != fp(code(snippet="db.execute(q + y)"))
    assert fp(code()) != fp(code(tool="bandit"))


def test_repeats_of_the_same_code_in_one_file_are_numbered_in_report_order() -> None:
    assigner = IdentityAssigner()
    first, second = assigner.fingerprint(code()), assigner.fingerprint(code(line=50))
    assert first != second
    assert first == fp(code())


def test_trusted_tool_fingerprints_win_and_placeholders_are_ignored() -> None:
    with_hash = code(tool_fingerprints={"primaryLocationLineHash": "abc:1"})
    assert fp(with_hash) == fp(replace(with_hash, path="moved/db.py", snippet="changed"))
    logged_out = code(tool_fingerprints={"matchBasedId/v1": "requires login"})
    assert identity_key(logged_out) == identity_key(code())
    gitleaks_metadata = code(tool_fingerprints={"commitSha": "deadbeef", "author": "x"})
    assert identity_key(gitleaks_metadata) == identity_key(code())


def dep(tool: str, ids: list[str], name: str = "requests", version: str = "2.28.1") -> RawFinding:
    return RawFinding(
        tool=tool,
        kind=Kind.DEPENDENCY,
        rule_id=ids[0],
        title="t",
        severity=Severity.HIGH,
        vulnerability_ids=ids,
        component=RawComponent(name, version, f"pkg:pypi/{name}@{version}"),
    )


def test_same_cve_in_same_package_from_two_tools_meets() -> None:
    assert fp(dep("trivy", ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"])) == fp(
        dep("grype", ["CVE-2023-32681"])
    )
    # An upgrade that is still vulnerable is still the same problem.
    assert fp(dep("trivy", ["CVE-2023-32681"])) == fp(
        dep("trivy", ["CVE-2023-32681"], version="2.30.0")
    )
    assert fp(dep("trivy", ["CVE-2023-32681"])) != fp(
        dep("trivy", ["CVE-2023-32681"], name="urllib3")
    )
    assert fp(dep("trivy", ["CVE-2023-32681"])) != fp(dep("trivy", ["CVE-2024-35195"]))


def secret(**changes: object) -> RawFinding:
    base = RawFinding(
        tool="gitleaks",
        kind=Kind.SECRET,
        rule_id="aws-access-token",
        title="AWS key",
        severity=Severity.HIGH,
        path="config.py",
        line=3,
        secret="AKIAZ7VRSQ5TEXAMPLE1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_secrets_are_identified_by_their_hash_and_file() -> None:
    assert fp(secret()) == fp(secret(line=40, rule_id="aws", tool="trufflehog"))
    assert fp(secret()) == fp(
        secret(tool="detect-secrets", secret=None, secret_sha1=secret_sha1("AKIAZ7VRSQ5TEXAMPLE1"))
    )
    assert fp(secret()) != fp(secret(path="other.py"))
    assert fp(secret()) != fp(secret(secret="AKIAZ7VRSQ5TEXAMPLE2"))
    assert "AKIAZ7VRSQ5TEXAMPLE1" not in identity_key(secret())[0]


def test_redacted_secrets_fall_back_to_rule_and_line() -> None:
    redacted = secret(secret="REDACTED")
    assert fp(redacted) != fp(secret())
    assert fp(redacted) == fp(secret(secret=None))


def test_a_shared_finding_keeps_the_higher_severity_with_its_tools_words() -> None:
    row = {
        **dict.fromkeys(SCANNER_COLUMNS),
        "severity": "info",
        "tool_severity": "Negligible",
        "severity_source": "scanner",
        "cwe_ids": [],
        "references": [],
        "vulnerability_ids": ["CVE-2023-45853"],
    }
    incoming = {**row, "severity": "critical", "tool_severity": "CRITICAL", "cwe_ids": ["CWE-190"]}
    merged = merge(row, incoming, shared=True)
    assert (merged["severity"], merged["tool_severity"]) == ("critical", "CRITICAL")
    assert merged["cwe_ids"] == ["CWE-190"]
    assert merge(incoming, row, shared=True)["tool_severity"] == "CRITICAL"
