"""CVSS vectors of every version as the facts prioritisation reads."""

from __future__ import annotations

import pytest

from shieldwall.intel.cvss import best_cvss, parse_cvss

LOG4SHELL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"  # CVE-2021-44228
STRUTS = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # CVE-2017-5638
SHELLSHOCK_V2 = "AV:N/AC:L/Au:N/C:C/I:C/A:C"  # CVE-2014-6271
HEARTBLEED_V2 = "AV:N/AC:L/Au:N/C:P/I:N/A:N"  # CVE-2014-0160
PAN_OS_V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"  # CVE-2024-3400
FIRST_V4_EXAMPLE = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def test_log4shell() -> None:
    facts = parse_cvss(LOG4SHELL)

    assert facts is not None
    assert (facts.version, facts.vector, facts.base_score) == ("3.1", LOG4SHELL, 10.0)
    assert facts.automatable
    assert facts.high_impact
    assert facts.total_impact


def test_local_attack_by_an_administrator_who_must_trick_a_user() -> None:
    facts = parse_cvss("CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H")

    assert facts is not None
    assert facts.base_score == 6.5
    assert (facts.network, facts.no_privileges, facts.no_user_interaction) == (False, False, False)
    assert not facts.automatable
    assert facts.total_impact  # once in, the attacker owns the machine


@pytest.mark.parametrize(
    ("vector", "version", "score"),
    [(STRUTS, "3.0", 9.8), (LOG4SHELL, "3.1", 10.0), (FIRST_V4_EXAMPLE, "4.0", 9.3)],
)
def test_versions_and_scores(vector: str, version: str, score: float) -> None:
    facts = parse_cvss(vector)

    assert facts is not None
    assert (facts.version, facts.base_score) == (version, score)


@pytest.mark.parametrize(
    ("vector", "total"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", True),
        # Read and write everything, beyond the vulnerable component: total without A:H.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:N", True),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", False),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", False),
    ],
)
def test_v3_total_impact(vector: str, total: bool) -> None:
    facts = parse_cvss(vector)

    assert facts is not None
    assert facts.high_impact
    assert facts.total_impact is total


def test_v2_vectors_with_and_without_parentheses() -> None:
    shellshock = parse_cvss(f"({SHELLSHOCK_V2})")
    heartbleed = parse_cvss(HEARTBLEED_V2)

    assert shellshock is not None
    assert heartbleed is not None
    assert (shellshock.version, shellshock.vector, shellshock.base_score) == (
        "2.0",
        SHELLSHOCK_V2,
        10.0,
    )
    assert shellshock.total_impact
    assert shellshock.automatable  # v2 has no user interaction: none needed is assumed
    assert heartbleed.base_score == 5.0
    assert heartbleed.automatable
    assert not heartbleed.high_impact  # "Partial" is v2's middle value
    assert not heartbleed.total_impact


def test_v4_vulnerable_and_subsequent_systems() -> None:
    pan_os = parse_cvss(PAN_OS_V4)
    # Reflected XSS: nothing lost on the server, a little in the victim's browser.
    xss = parse_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N")
    # A local flaw that hands over another system entirely.
    pivot = parse_cvss("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H")

    assert pan_os is not None
    assert xss is not None
    assert pivot is not None
    assert (pan_os.base_score, pan_os.automatable, pan_os.total_impact) == (10.0, True, True)
    assert (xss.no_user_interaction, xss.automatable, xss.high_impact) == (False, False, False)
    assert (pivot.network, pivot.high_impact, pivot.total_impact) == (False, True, True)


def test_v4_attack_requirements_are_not_low_complexity() -> None:
    facts = parse_cvss("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")

    assert facts is not None
    assert not facts.low_complexity
    assert not facts.automatable


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "   ",
        "not a vector",
        "high",
        "9.8",
        "CVSS:3.1/AV:N",  # mandatory metrics missing
        f"{LOG4SHELL}/",
        f"{LOG4SHELL}/AV:L",  # a metric twice
        "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:5.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # no AT
        "(AV:N/AC:L/Au:N/C:P/I:P",
        LOG4SHELL + "/E:X" * 100,  # too long to be real
    ],
)
def test_what_is_not_a_vector(vector: str) -> None:
    assert parse_cvss(vector) is None


def test_not_text_is_not_a_vector() -> None:
    assert parse_cvss(None) is None  # type: ignore[arg-type]


V2, V30, V31, V4 = (
    ("CVSS_V2", SHELLSHOCK_V2),
    ("CVSS_V3", STRUTS),
    ("CVSS_V3", LOG4SHELL),
    ("CVSS_V4", FIRST_V4_EXAMPLE),
)
UBUNTU = ("Ubuntu", "high")


@pytest.mark.parametrize(
    ("severities", "version"),
    [
        ([V2, V30, UBUNTU, V4, V31], "4.0"),
        ([V2, V30, UBUNTU, V31], "3.1"),
        ([V31, V30], "3.1"),
        ([UBUNTU, V30, V2], "3.0"),
        ([V2, UBUNTU], "2.0"),
    ],
)
def test_best_prefers_the_newest_version(severities: list[tuple[str, str]], version: str) -> None:
    best = best_cvss(severities)

    assert best is not None
    assert best.version == version


def test_best_passes_over_what_does_not_parse() -> None:
    best = best_cvss([("CVSS_V4", "CVSS:4.0/garbage"), ("CVSS_V3", LOG4SHELL)])

    assert best is not None
    assert best.vector == LOG4SHELL


def test_best_reads_only_cvss_types() -> None:
    assert best_cvss([("Ubuntu", "medium"), ("SEVERITY", LOG4SHELL)]) is None
    assert best_cvss([]) is None


def test_best_among_equals_is_the_first() -> None:
    other = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"
    best = best_cvss([("CVSS_V3", other), ("CVSS_V3", LOG4SHELL)])

    assert best is not None
    assert best.vector == other
