"""The drill: the ordering rules of prioritisation, stated on a realistic organisation.

``tests/fixtures/drill/`` is an online pharmacy: eight services, 30 vulnerabilities whose KEV,
EPSS and CVSS signals disagree, a leaked cloud key (live on one service, unverified on
another) and a SQL injection. The facts are read from the fixture files with plain
json/csv/yaml, as the feeds and the scanners wrote them; the engine decides; the tests say
what a security engineer expects of its decisions.

The expected priorities (``CASES``, and the table in the fixture's README) were worked out
by hand from CISA's SSVC coordinator tree and the default policy, not taken from the engine.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.intel.cvss import best_cvss
from shieldwall.inventory.vocabulary import Exposure
from shieldwall.risk.engine import (
    Assessment,
    FindingFacts,
    ServiceContext,
    VulnIntel,
    assess,
)
from shieldwall.risk.policy import Outcome, Policy, Priority, load_policy

DRILL = Path(__file__).resolve().parents[1] / "fixtures" / "drill"
REPORTS = DRILL / "reports"
DEFAULT = load_policy(None)

TRUFFLEHOG = "trufflehog:AWS"
GITLEAKS = "gitleaks:aws-access-token"
SQL_INJECTION = (
    "semgrep:go.lang.security.audit.database.string-formatted-query.string-formatted-query"
)


@dataclass(frozen=True)
class Case:
    number: int
    service: str
    subject: str
    """A CVE id for a vulnerability, else ``tool:rule``."""
    outcome: Outcome
    priority: Priority

    @property
    def is_vulnerability(self) -> bool:
        return self.subject.startswith("CVE-")

    def __str__(self) -> str:
        return f"{self.number:02d}-{self.service}-{self.subject.rpartition('.')[2]}"


_A, _AT, _TS, _T = Outcome.ACT, Outcome.ATTEND, Outcome.TRACK_STAR, Outcome.TRACK
_P0, _P1, _P2, _P3, _P4 = Priority.P0, Priority.P1, Priority.P2, Priority.P3, Priority.P4

# Mission impact (default policy): tier 0 high, 1 medium, 2 low, one step up with payment,
# health, credentials, secrets or pii data. Exploitation: active when in KEV, public PoC when
# EPSS >= 0.1 or an advisory links an exploit. Automatable: AV:N/AC:L/PR:N/UI:N. Total
# impact: C:H/I:H and A:H or S:C. Exposure turns the outcome into a priority:
# act P0/P0/P1, attend P1/P1/P2, track* P2/P2/P3, track P3/P3/P4 (internet/partner/internal).
# Each comment: exploitation, automatable, technical impact, mission impact.
CASES = [
    # checkout-api: tier 0, internet, payment + pii -> mission high
    Case(1, "checkout-api", "CVE-2026-41871", _A, _P0),  # active (KEV, CVSS 6.5), yes, partial
    Case(2, "checkout-api", "CVE-2026-41872", _AT, _P1),  # none (EPSS .009), yes, partial
    Case(3, "checkout-api", "CVE-2026-41873", _T, _P3),  # none, no (UI:R), partial
    Case(4, "checkout-api", "CVE-2026-41874", _AT, _P1),  # poc (EPSS .87, no KEV), yes, partial
    Case(5, "checkout-api", "CVE-2026-41875", _T, _P3),  # none (no EPSS), no CVSS: no, partial
    # payment-gateway: tier 0, partner, payment + credentials -> high
    Case(6, "payment-gateway", "CVE-2021-44228", _A, _P0),  # active (Log4Shell), yes, total
    Case(7, "payment-gateway", "CVE-2026-41877", _AT, _P1),  # poc (EPSS .15), no (AC:H), total
    Case(8, "payment-gateway", "CVE-2026-41878", _AT, _P1),  # none (CVSS 9.8), yes, total
    Case(9, "payment-gateway", "CVE-2026-41879", _AT, _P1),  # active, no (PR:L), partial
    # storefront-web: tier 1, internet, public -> medium
    Case(10, "storefront-web", "CVE-2026-41880", _T, _P3),  # none (CVSS 9.8), yes, total
    Case(11, "storefront-web", "CVE-2026-41881", _TS, _P2),  # poc (EVIDENCE link), yes, total
    Case(12, "storefront-web", "CVE-2026-41882", _AT, _P1),  # active, yes, partial
    Case(13, "storefront-web", "CVE-2026-41883", _T, _P3),  # none, yes, partial
    Case(14, "storefront-web", "CVE-2026-41884", _A, _P0),  # active, yes, total
    # patient-portal: tier 1, internet, health + pii -> high
    Case(15, "patient-portal", "CVE-2026-41885", _A, _P0),  # active, yes, partial
    Case(16, "patient-portal", "CVE-2026-41886", _T, _P3),  # none, no (UI:R), partial
    Case(17, "patient-portal", "CVE-2026-41887", _AT, _P1),  # poc (EPSS .12), no (PR:L), total
    Case(18, "patient-portal", "CVE-2026-41888", _TS, _P2),  # none (EPSS .04), no (PR:L), total
    Case(19, "patient-portal", "CVE-2026-41889", _AT, _P1),  # poc, yes (CVSS 4.0), total
    # formulary-partner-api: tier 1, partner, public -> medium
    Case(20, "formulary-partner-api", "CVE-2021-44228", _A, _P0),  # active, yes, total
    Case(21, "formulary-partner-api", "CVE-2026-41890", _TS, _P2),  # poc (EPSS .22), yes, total
    Case(22, "formulary-partner-api", "CVE-2026-41891", _T, _P3),  # none, yes, partial
    # search-indexer: tier 2, internal, pii -> medium
    Case(23, "search-indexer", "CVE-2026-41871", _AT, _P2),  # active, yes, partial
    Case(24, "search-indexer", "CVE-2026-41892", _T, _P4),  # none (CVSS 9.8), yes, total
    Case(25, "search-indexer", "CVE-2026-41893", _AT, _P2),  # active, no (PR:L), total
    # log-compactor: tier 2, internal, no data -> low
    Case(26, "log-compactor", "CVE-2026-41894", _T, _P4),  # none (9.8, EPSS .01), yes, total
    Case(27, "log-compactor", "CVE-2026-41885", _AT, _P2),  # active, yes, partial
    Case(28, "log-compactor", "CVE-2026-41895", _T, _P4),  # active, no (AV:L), total
    # sitemap-builder: tier 2, internal, public -> low
    Case(29, "sitemap-builder", "CVE-2026-41896", _T, _P4),  # poc (EPSS .55), yes, total
    Case(30, "sitemap-builder", "CVE-2026-41897", _T, _P4),  # none, yes, partial
    # Not vulnerabilities. A live key: active, automatable, total. An unverified one: poc.
    # SQL injection rated high: no exploitation, CWE-89 automatable and total.
    Case(31, "checkout-api", TRUFFLEHOG, _A, _P0),
    Case(32, "log-compactor", GITLEAKS, _T, _P4),
    Case(33, "patient-portal", SQL_INJECTION, _AT, _P1),
]
BY_NUMBER = {case.number: case for case in CASES}
VULNERABILITIES = [case for case in CASES if case.is_vulnerability]


# --- the fixture, read as plain data ---------------------------------------------------------


@cache
def services() -> dict[str, ServiceContext]:
    inventory = yaml.safe_load((DRILL / "org.yaml").read_text(encoding="utf-8"))
    return {
        entry["name"]: ServiceContext(
            name=entry["name"],
            tier=entry["tier"],
            exposure=Exposure(entry["exposure"]),
            data_classes=tuple(entry.get("data", [])),
        )
        for entry in inventory["services"]
    }


@cache
def kev() -> dict[str, dict[str, Any]]:
    catalog = json.loads((DRILL / "kev.json").read_text(encoding="utf-8"))
    return {entry["cveID"]: entry for entry in catalog["vulnerabilities"]}


@cache
def epss() -> dict[str, tuple[float, float, date]]:
    """CVE -> (score, percentile, score date), from the daily CSV and its header line."""
    with (DRILL / "epss.csv").open(encoding="utf-8", newline="") as stream:
        header = dict(part.split(":", 1) for part in stream.readline()[1:].strip().split(","))
        day = date.fromisoformat(header["score_date"][:10])
        return {
            row["cve"]: (float(row["epss"]), float(row["percentile"]), day)
            for row in csv.DictReader(stream)
        }


@cache
def advisories() -> tuple[dict[str, Any], ...]:
    return tuple(
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((DRILL / "osv").glob("*.json"))
    )


def report(service: str, name: str) -> Any:
    return json.loads((REPORTS / service / name).read_text(encoding="utf-8"))


def json_lines(service: str, name: str) -> Iterator[dict[str, Any]]:
    for line in (REPORTS / service / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def vuln_intel(cve: str) -> VulnIntel:
    """What the feeds say about a CVE and every advisory that names it."""
    records = [a for a in advisories() if cve == a["id"] or cve in a.get("aliases", [])]
    names = sorted({cve, *(a["id"] for a in records), *(i for a in records for i in a["aliases"])})
    listed = kev().get(cve)
    scores = [epss()[name] for name in names if name in epss()]
    top = max(scores, default=None)
    return VulnIntel(
        key=cve,
        aliases=tuple(names),
        kev_added=date.fromisoformat(listed["dateAdded"]) if listed else None,
        kev_due=date.fromisoformat(listed["dueDate"]) if listed else None,
        ransomware=listed is not None and listed["knownRansomwareCampaignUse"] == "Known",
        epss=top[0] if top else None,
        epss_percentile=top[1] if top else None,
        epss_date=top[2] if top else None,
        cvss=best_cvss((s["type"], s["score"]) for a in records for s in a.get("severity", [])),
        exploit_references=tuple(
            ref["url"]
            for a in records
            for ref in a.get("references", [])
            if ref["type"] == "EVIDENCE"
        ),
    )


def _score_severity(score: float | None) -> Severity:
    """CVSS's qualitative rating; an unrated advisory counts as medium (unrated is not
    harmless)."""
    if score is None:
        return Severity.MEDIUM
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    return Severity.MEDIUM if score >= 4.0 else Severity.LOW


def facts(case: Case) -> FindingFacts:
    if case.is_vulnerability:
        intel = vuln_intel(case.subject)
        return FindingFacts(
            kind=Kind.DEPENDENCY,
            severity=_score_severity(intel.cvss.base_score if intel.cvss else None),
            tool_severity=None,
            cwe_ids=(),
            intel=intel,
        )
    tool, _, rule = case.subject.partition(":")
    if tool == "trufflehog":
        (found,) = (f for f in json_lines(case.service, "trufflehog.json") if "DetectorName" in f)
        assert found["DetectorName"] == rule
        verified = found["Verified"] is True
        return FindingFacts(
            kind=Kind.SECRET,
            # A secret the scanner verified as live is critical (as the importer rates it).
            severity=Severity.CRITICAL if verified else Severity.HIGH,
            tool_severity="verified" if verified else "unverified",
            cwe_ids=("CWE-798",),
        )
    if tool == "gitleaks":
        (found,) = report(case.service, "gitleaks.json")
        assert found["RuleID"] == rule
        # gitleaks cannot tell whether a key works: high, no verification.
        return FindingFacts(Kind.SECRET, Severity.HIGH, None, ("CWE-798",))
    (result,) = report(case.service, "semgrep.json")["results"]
    assert result["check_id"] == rule
    extra = result["extra"]
    cwes = tuple(re.match(r"CWE-\d+", c).group(0) for c in extra["metadata"]["cwe"])  # type: ignore[union-attr]
    severity = {"ERROR": Severity.HIGH, "WARNING": Severity.MEDIUM, "INFO": Severity.LOW}
    return FindingFacts(Kind.CODE, severity[extra["severity"]], extra["severity"], cwes)


def decide(case: Case, policy: Policy = DEFAULT, **service_changes: Any) -> Assessment:
    service = replace(services()[case.service], **service_changes)
    return assess(facts(case), service, policy)


def with_intel(case: Case, **changes: Any) -> FindingFacts:
    found = facts(case)
    assert found.intel is not None
    return replace(found, intel=replace(found.intel, **changes))


# --- the fixture is what its README says -----------------------------------------------------

_PURL_ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm", "golang": "Go", "maven": "Maven"}


def _numbers(version: str) -> tuple[int, ...]:
    # The drill's versions are dotted numbers (4.1.86.Final, v0.17.0, 2.0-beta9 sorts low).
    return tuple(int(n) for n in re.findall(r"\d+", version))


def _affects(record: dict[str, Any], ecosystem: str, name: str, version: str) -> bool:
    for affected in record["affected"]:
        package = affected["package"]
        same = (
            package["name"].lower() == name.lower()
            if ecosystem == "PyPI"
            else (package["name"] == name)
        )
        if package["ecosystem"] != ecosystem or not same:
            continue
        for ranges in affected.get("ranges", []):
            events = {k: v for event in ranges["events"] for k, v in event.items()}
            if _numbers(events["introduced"]) <= _numbers(version) < _numbers(events["fixed"]):
                return True
    return False


def _sbom_matches() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(REPORTS.glob("*/sbom.cdx.json")):
        for component in json.loads(path.read_text(encoding="utf-8"))["components"]:
            ecosystem = _PURL_ECOSYSTEMS[component["purl"].split(":")[1].split("/")[0]]
            name = component["name"]
            if "group" in component:
                name = f"{component['group']}:{name}"
            for record in advisories():
                if _affects(record, ecosystem, name, component["version"]):
                    cves = [a for a in (record["id"], *record["aliases"]) if a.startswith("CVE-")]
                    found.add((path.parent.name, cves[0]))
    return found


def test_the_sboms_hold_exactly_the_thirty_vulnerabilities_of_the_table() -> None:
    expected = {(case.service, case.subject) for case in VULNERABILITIES}

    assert len(expected) == 30
    assert _sbom_matches() == expected
    assert set(services()) == {case.service for case in CASES}
    assert len(services()) == 8


def test_the_readme_table_states_the_same_expected_priorities() -> None:
    rows = {}
    for line in (DRILL / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0].isdigit():
            rows[int(cells[0])] = (cells[1], cells[7].strip("*"))

    assert rows == {case.number: (case.service, case.priority.label) for case in CASES}


# --- each case --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_case_gets_the_outcome_and_priority_ssvc_and_the_default_policy_give(
    case: Case,
) -> None:
    result = decide(case)

    assert (result.outcome, result.priority) == (case.outcome, case.priority)


# --- the ordering rules ------------------------------------------------------------------------


def test_a_kev_listed_automatable_vulnerability_on_an_internet_tier0_service_outranks_a_cvss_9_8_with_epss_0_01_on_an_internal_tier2_service() -> (
    None
):
    listed, scary = BY_NUMBER[1], BY_NUMBER[26]
    listed_intel, scary_intel = vuln_intel(listed.subject), vuln_intel(scary.subject)
    assert listed_intel.kev_added is not None
    assert listed_intel.cvss is not None
    assert listed_intel.cvss.base_score == 6.5
    assert listed_intel.cvss.automatable
    assert scary_intel.kev_added is None
    assert scary_intel.cvss is not None
    assert scary_intel.cvss.base_score == 9.8
    assert scary_intel.epss == 0.01

    first, second = decide(listed), decide(scary)

    assert first.priority < second.priority
    assert first.urgency > second.urgency


@pytest.mark.parametrize("case", VULNERABILITIES, ids=str)
def test_a_kev_listing_always_outranks_the_same_vulnerability_unlisted_on_the_same_service(
    case: Case,
) -> None:
    service = services()[case.service]
    listed = assess(with_intel(case, kev_added=date(2026, 11, 2)), service, DEFAULT)
    unlisted = assess(
        with_intel(case, kev_added=None, kev_due=None, ransomware=False), service, DEFAULT
    )

    assert listed.priority <= unlisted.priority
    assert listed.urgency > unlisted.urgency


@pytest.mark.parametrize("case", CASES, ids=str)
def test_internet_exposure_raises_priority_over_the_same_finding_internal(case: Case) -> None:
    exposed = decide(case, exposure=Exposure.INTERNET)
    internal = decide(case, exposure=Exposure.INTERNAL)

    assert exposed.priority < internal.priority
    assert exposed.urgency > internal.urgency


def test_epss_above_the_policy_threshold_raises_priority_over_below_it_all_else_equal() -> None:
    # Two grpc-go / golang-jwt advisories on the patient portal: same CVSS vector, neither in
    # KEV, EPSS 0.12 and 0.04 on either side of the default threshold of 0.1.
    above, below = BY_NUMBER[17], BY_NUMBER[18]
    above_intel, below_intel = vuln_intel(above.subject), vuln_intel(below.subject)
    assert above.service == below.service
    assert above_intel.cvss == below_intel.cvss
    assert above_intel.kev_added is None
    assert below_intel.kev_added is None
    threshold = DEFAULT.exploitation.epss_poc_threshold
    assert above_intel.epss is not None
    assert below_intel.epss is not None
    assert below_intel.epss < threshold <= above_intel.epss

    assert decide(above).priority < decide(below).priority
    assert decide(above).urgency > decide(below).urgency


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in VULNERABILITIES
        if not vuln_intel(c.subject).kev_added and not vuln_intel(c.subject).exploit_references
    ],
    ids=str,
)
def test_epss_reaching_the_threshold_raises_a_case_without_other_evidence_of_exploitation(
    case: Case,
) -> None:
    service = services()[case.service]
    threshold = DEFAULT.exploitation.epss_poc_threshold
    likely = assess(with_intel(case, epss=threshold), service, DEFAULT)
    unlikely = assess(with_intel(case, epss=threshold - 0.001), service, DEFAULT)

    assert likely.priority <= unlikely.priority
    assert likely.urgency > unlikely.urgency


def test_a_live_credential_on_an_internet_service_is_p0_and_the_same_unverified_secret_on_an_internal_tier2_service_is_not() -> (
    None
):
    (live,) = (f for f in json_lines("checkout-api", "trufflehog.json") if "DetectorName" in f)
    (leaked,) = report("log-compactor", "gitleaks.json")
    assert live["Verified"] is True
    assert live["Raw"] == leaked["Secret"]  # the same key, committed to both repositories
    assert services()["checkout-api"].exposure is Exposure.INTERNET
    assert (services()["log-compactor"].tier, services()["log-compactor"].exposure) == (
        2,
        Exposure.INTERNAL,
    )

    assert decide(BY_NUMBER[31]).priority is Priority.P0
    assert decide(BY_NUMBER[32]).priority is not Priority.P0
    assert decide(BY_NUMBER[31]).urgency > decide(BY_NUMBER[32]).urgency


def test_raising_the_epss_poc_threshold_in_a_policy_file_changes_a_mid_epss_case(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("exploitation:\n  epss_poc_threshold: 0.2\n", encoding="utf-8")
    stricter = load_policy(path)
    mid = BY_NUMBER[7]  # jackson-databind on the payment gateway, EPSS 0.15
    high = BY_NUMBER[4]  # aiohttp on checkout, EPSS 0.87
    assert vuln_intel(mid.subject).epss == 0.1523

    assert stricter.exploitation.epss_poc_threshold == 0.2
    assert stricter.model_dump(exclude={"exploitation"}) == DEFAULT.model_dump(
        exclude={"exploitation"}
    )
    assert decide(mid).priority is Priority.P1
    assert decide(mid, stricter).priority is Priority.P2
    assert decide(high, stricter).priority is decide(high).priority


# --- explanations ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_explanation_has_one_line_per_factor_including_the_ssvc_decision(
    case: Case,
) -> None:
    result = decide(case)
    names = [factor.name for factor in result.factors]

    assert len(names) == len(set(names))
    for factor in result.factors:
        assert factor.text.strip()
        assert "\n" not in str(factor)
        assert factor.effect in ("+", "-", "·")
    (decision,) = (f for f in result.factors if f.name == "decision")
    assert decision.text.startswith("SSVC:")
    assert f"-> {result.outcome}" in decision.text
    assert result.priority.label in " ".join(f.text for f in result.factors)
    assert f"service {case.service}:" in " ".join(f.text for f in result.factors)
    if case.is_vulnerability:
        assert {"kev", "epss", "decision", "service"} <= set(names)
        assert {"cvss", "impact"} & set(names)


@pytest.mark.parametrize("case", [c for c in VULNERABILITIES if c.subject in kev()], ids=str)
def test_the_kev_factor_says_since_when_the_vulnerability_is_listed(case: Case) -> None:
    entry = kev()[case.subject]

    (factor,) = (f for f in decide(case).factors if f.name == "kev")

    assert f"in KEV since {entry['dateAdded']}" in factor.text
    assert entry["dueDate"] in factor.text
    assert factor.effect == "+"


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_by_urgency_puts_every_p0_first_then_p1_and_so_on() -> None:
    queue = sorted(CASES, key=lambda case: decide(case).urgency, reverse=True)
    priorities = [decide(case).priority for case in queue]

    assert priorities == sorted(priorities)
    assert [case.priority for case in queue] == priorities
    counts = {p.label: priorities.count(p) for p in Priority}
    assert counts == {"P0": 6, "P1": 9, "P2": 6, "P3": 6, "P4": 6}
