"""Which of the four checks a scan stream stands for: SAST, SCA, secrets or IaC scanning.

A stream is (service, tool, branch); what it counts for is decided from its tool's name and
from what it has reported:

1. The tool's categories in ``KNOWN_TOOLS``, one table keyed by the name as streams store it
   (lower case, words joined by ``-``; matched case-insensitively).
2. A multi-purpose tool (``MULTI_PURPOSE``: Trivy, Snyk, Semgrep, Checkov, SonarQube) also
   counts for the category of every kind of finding its stream has reported: Trivy that
   reported misconfigurations scans IaC too. A single-purpose tool does not: Bandit's check
   for a hard-coded password does not make it a secrets scanner of the repository.
3. A tool the table does not know counts for the kinds of findings its stream has reported
   (code is SAST, dependency and container are SCA; web findings are dynamic testing, none of
   the four). One that has reported none of those counts for nothing and is listed as
   "other": add it to the table when it is a security check.
4. A stream that lists components (an SBOM, even one with components only, or a scanner's
   package list) counts as SCA whatever its tool: Shieldwall matches stored components
   against its advisory store in the import that brings them and again whenever advisories
   change (``intel match``), so the SBOM's arrival is what keeps the check current. Whether
   advisories are loaded is ``shieldwall intel status``'s concern, not coverage's.
5. Streams of Shieldwall's own advisory matching (``shieldwall-intel``) count for nothing:
   they are derived from the streams that brought the components (which count, by rule 4),
   and they run again at each advisory update, which would make a CI that stopped sending
   SBOMs look current.

What a multi-purpose tool checks and found nothing in is not visible in the stored data (a
clean ``trivy config`` run leaves no IaC finding): such a run counts for its table
categories only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shieldwall.findings.vocabulary import Kind
from shieldwall.intel import MATCH_TOOL as ADVISORY_MATCH_TOOL
from shieldwall.scan.posture.tools import Category


def _table(**tools: str) -> dict[str, frozenset[Category]]:
    """``sast="semgrep bandit ..."`` to ``{"semgrep": {sast}, ...}``; a tool may be named
    under several categories."""
    table: dict[str, set[Category]] = {}
    for category, names in tools.items():
        for name in names.split():
            table.setdefault(name, set()).add(Category(category))
    return {name: frozenset(categories) for name, categories in sorted(table.items())}


KNOWN_TOOLS: Mapping[str, frozenset[Category]] = _table(
    sast="""
        bandit bearer brakeman checkmarx codeql coverity devskim find-sec-bugs findsecbugs
        flawfinder fortify gitlab-sast gosec horusec insider mobsfscan njsscan nodejsscan
        opengrep phpcs-security-audit psalm security-code-scan semgrep snyk-code snykcode
        sonarcloud sonarqube spotbugs veracode
    """,
    sca="""
        audit-ci blackduck bundler-audit cargo-audit dependabot dependency-check
        dependency-review gitlab-container-scanning gitlab-dependency-scanning govulncheck
        grype jfrog-xray mend nancy npm-audit osv-scanner pip-audit retire.js safety
        shieldwall-deps snyk snyk-container snyk-open-source trivy whitesource yarn-audit
    """,
    secrets="""
        betterleaks detect-secrets ggshield git-secrets gitguardian gitlab-secret-detection
        gitleaks kingfisher noseyparker secretlint shieldwall-secrets talisman trufflehog
        trufflehog3 whispers
    """,
    iac="""
        cfn-lint cfn_nag checkov defsec dockle gitlab-sast-iac hadolint kics kube-linter
        kubescape snyk-iac terrascan tflint tfsec trivy-config
    """,
)
"""The tools whose every run is one of the checks, by the name their stream has."""

MULTI_PURPOSE = frozenset({"checkov", "semgrep", "snyk", "sonarqube", "trivy"})
"""Tools that check more than their table categories when configured to; the kinds of
findings they report say which."""

KIND_CATEGORY: Mapping[str, Category] = {
    Kind.CODE: Category.SAST,
    Kind.DEPENDENCY: Category.SCA,
    Kind.CONTAINER: Category.SCA,
    Kind.SECRET: Category.SECRETS,
    Kind.IAC: Category.IAC,
}
"""The check a kind of finding comes from; web findings (dynamic testing) are none of them."""

DERIVED_TOOLS = frozenset({ADVISORY_MATCH_TOOL})
"""Streams Shieldwall writes itself from other streams' data (rule 5)."""


def tool_key(tool: str) -> str:
    """A tool's name as the table holds it: lower case, words joined by ``-``."""
    return "-".join(tool.lower().split())


def is_derived(tool: str) -> bool:
    return tool_key(tool) in DERIVED_TOOLS


def needs_findings(tool: str) -> bool:
    """Whether the kinds of findings a stream of ``tool`` reported can change what it
    counts for (rules 2 and 3): only those streams' findings need reading."""
    key = tool_key(tool)
    return key not in DERIVED_TOOLS and (key in MULTI_PURPOSE or key not in KNOWN_TOOLS)


def stream_categories(
    tool: str, kinds: Iterable[str] = (), lists_components: bool = False
) -> frozenset[Category]:
    """What a stream of ``tool`` counts for, given the ``kinds`` of findings it has reported
    and whether it lists components; empty when it is none of the checks."""
    key = tool_key(tool)
    if key in DERIVED_TOOLS:
        return frozenset()
    categories = set(KNOWN_TOOLS.get(key, ()))
    if needs_findings(key):
        categories.update(KIND_CATEGORY[kind] for kind in kinds if kind in KIND_CATEGORY)
    if lists_components:
        categories.add(Category.SCA)
    return frozenset(categories)
