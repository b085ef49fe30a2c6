"""Tool vocabularies mapped to Shieldwall's."""

from __future__ import annotations

import pytest

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.normalize import (
    build_purl,
    canonical_vulnerability_id,
    cvss_vector_score,
    cwe_ids,
    kind_for_package,
    lowest_fix,
    normalize_path,
    package_key,
    redact_secret,
    severity_from_text,
    tool_name,
    vulnerability_ids,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", Severity.CRITICAL),
        ("High", Severity.HIGH),
        ("moderate", Severity.MEDIUM),
        ("WARNING", Severity.MEDIUM),
        ("note", Severity.LOW),
        ("Negligible", Severity.INFO),
        ("UNKNOWN", Severity.MEDIUM),
        (9.8, Severity.CRITICAL),
        ("7.0", Severity.HIGH),
        (3.9, Severity.LOW),
        (0, Severity.INFO),
        (None, Severity.MEDIUM),
        ("gibberish", Severity.MEDIUM),
    ],
)
def test_severity_words_and_scores(word: object, expected: Severity) -> None:
    assert severity_from_text(word) is expected


def test_cwe_ids_from_every_spelling() -> None:
    assert cwe_ids(
        ["CWE-79: Improper Neutralization", "external/cwe/cwe-089", 22, "352", "cwe_79", None]
    ) == [
        "CWE-79",
        "CWE-89",
        "CWE-22",
        "CWE-352",
    ]


def test_vulnerability_ids_put_the_canonical_alias_first_whatever_the_order() -> None:
    a = vulnerability_ids(["GHSA-J8R2-6X86-Q33Q", "PYSEC-2023-74", "cve-2023-32681"])
    b = vulnerability_ids(["CVE-2023-32681", "ghsa-j8r2-6x86-q33q"])
    assert a[0] == b[0] == "CVE-2023-32681"
    assert "GHSA-j8r2-6x86-q33q" in a
    assert canonical_vulnerability_id(["CVE-2021-44228", "CVE-2021-4104"]) == "CVE-2021-4104"
    assert (
        canonical_vulnerability_id(["RUSTSEC-2021-0001", "GHSA-aaaa-bbbb-cccc"])
        == "GHSA-aaaa-bbbb-cccc"
    )
    assert vulnerability_ids(["not an id", "", 42]) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("./src/app.py", "src/app.py"),
        ("src\\win\\app.py", "src/win/app.py"),
        ("file:///home/x/repo/a%20b.py", "/home/x/repo/a b.py"),
        ("../../etc/passwd", "etc/passwd"),
        ("a/../../../b", "b"),
        ("/abs/./x", "/abs/x"),
        ("", None),
        ("..", None),
    ],
)
def test_paths(raw: str, expected: str | None) -> None:
    assert normalize_path(raw) == expected


def test_package_identity_ignores_version_and_ecosystem_spelling() -> None:
    assert (
        package_key("pkg:pypi/Django_Rest.Framework@3.0", None, "x") == "pypi/django-rest-framework"
    )
    assert package_key(None, "PyPI", "django-rest-framework") == "pypi/django-rest-framework"
    assert package_key(None, "npm", "@babel/core") == "npm/@babel/core"
    assert package_key("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", None, "") == (
        "maven/org.apache.logging.log4j/log4j-core"
    )


def test_purls_and_kinds_from_ecosystem_words() -> None:
    assert (
        build_purl("java-archive", "org.yaml:snakeyaml", "1.33")
        == "pkg:maven/org.yaml/snakeyaml@1.33"
    )
    assert build_purl("python", "requests", "2.28.1") == "pkg:pypi/requests@2.28.1"
    assert build_purl("martian", "x", "1") is None
    assert kind_for_package("pkg:deb/debian/openssl@3.0.11", None) is Kind.CONTAINER
    assert kind_for_package(None, "alpine") is Kind.CONTAINER
    assert kind_for_package("pkg:pypi/requests@2.0", None) is Kind.DEPENDENCY


def test_secret_previews_reveal_at_most_a_prefix_of_long_secrets() -> None:
    assert redact_secret("AKIAZ7VRSQ5TEXAMPLE1") == "AKIA****"
    assert redact_secret("hunter2") == "****"


def test_tool_names_are_stream_keys() -> None:
    assert tool_name("Semgrep OSS", "x") == "semgrep"
    assert tool_name("Python Security Analysis", "x") == "python-security-analysis"
    assert tool_name(None, "sarif") == "sarif"


@pytest.mark.parametrize(
    ("candidates", "installed", "expected"),
    [
        (["2.2.25", "3.1.14", "3.2.10"], "3.2.9", "3.2.10"),  # one fix per release line
        (["3.1.0, 2.6.9"], "3.0.1", "3.1.0"),  # Trivy's comma-separated list
        ([">=4.17.12"], "4.17.4", "4.17.12"),  # old Trivy wrote a range
        (["5.0"], "6.0", None),  # every fix is below: recommending a downgrade would mislead
        (["1:2.3-1+deb12u1", "2.4"], "1:2.3-1", "1:2.3-1+deb12u1"),  # not PEP 440: the first
        ([], "1.0", None),
    ],
)
def test_the_fix_to_upgrade_to_is_the_lowest_above_the_installed_version(
    candidates: list[str], installed: str, expected: str | None
) -> None:
    assert lowest_fix(candidates, installed) == expected


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N", 6.5),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("CVSS:3.1/AV:X/AC:L", None),
        ("not a vector", None),
    ],
)
def test_cvss_vectors_are_scored(vector: str, score: float | None) -> None:
    assert cvss_vector_score(vector) == score
