"""Which security tools the CI configuration runs, by category.

A tool is recognised by signatures: patterns for its GitHub Action, its container image, its
command line, its GitLab template. They are matched against what CI runs: in a parsed
workflow the ``uses:``, ``run:``, ``with:`` and image values (so comments never count); in
other CI files and unparsable workflows the text without comment lines.

Pre-commit hooks run on a developer's machine only if it installed them, and can be skipped;
they count as CI when CI itself runs ``pre-commit`` (``pre-commit/action``,
``pre-commit run``), and are otherwise reported apart as local-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shieldwall.errors import InputError
from shieldwall.scan.posture.ci import ci_files, without_comments
from shieldwall.scan.posture.repository import Repository, per_repository
from shieldwall.scan.posture.workflows import workflows

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
_RUNS_PRE_COMMIT = re.compile(r"pre-commit/action\b|\bpre-commit\s+run\b", re.IGNORECASE)


class Category(StrEnum):
    SAST = "sast"
    SCA = "sca"
    SECRETS = "secrets"
    IAC = "iac"


@dataclass(frozen=True)
class Signature:
    tool: str
    categories: frozenset[Category]
    pattern: re.Pattern[str]


def _signature(tool: str, categories: str, pattern: str) -> Signature:
    return Signature(
        tool,
        frozenset(Category(name) for name in categories.split()),
        re.compile(pattern, re.IGNORECASE),
    )


_GITLAB_TEMPLATE = r"(?:Security|Jobs)/{}(?:\.latest)?\.gitlab-ci\.yml"

SIGNATURES = (
    # Shieldwall's own scan covers secrets and dependencies; it runs SAST/IaC tools only when
    # configured to, and those tools are recognised by their own signatures.
    _signature("shieldwall", "secrets sca", r"\bshieldwall\s+(?:scan|gate)\b"),
    _signature("semgrep", "sast", r"\bsemgrep\b"),
    _signature("bandit", "sast", r"\bbandit\b"),
    _signature("codeql", "sast", r"github/codeql-action/analyze\b|\bcodeql\s+database\s+analyze"),
    _signature("sonarqube", "sast", r"sonarsource/sonar|\bsonar-scanner\b|\bsonar:sonar\b"),
    _signature("gosec", "sast", r"\bgosec\b"),
    _signature("snyk", "sast", r"\bsnyk\s+code\s+test\b|\bcommand:\s*['\"]?code\s+test\b"),
    _signature("snyk", "sca", r"snyk/actions/(?!iac\b)[\w-]+|\bsnyk\s+(?:test|monitor)\b"),
    _signature("snyk", "iac", r"snyk/actions/iac\b|\bsnyk\s+iac\s+test\b"),
    _signature("gitleaks", "secrets", r"\bgitleaks\b"),
    _signature("trufflehog", "secrets", r"\btrufflehog\b"),
    _signature("detect-secrets", "secrets", r"\bdetect-secrets\b"),
    _signature("ggshield", "secrets", r"\bggshield\b"),
    _signature(
        "trivy", "sca", r"aquasecurity/trivy-action\b|\btrivy\s+(?:fs|filesystem|image|repo|rootfs)"
    ),
    # Trivy finds misconfigurations with `trivy config`, or with the misconfig scanner enabled.
    _signature(
        "trivy",
        "iac",
        r"\btrivy\s+config\b|\bscan-type:\s*['\"]?config\b|\bscanners?\b[^\n]*\bmisconfig\b",
    ),
    _signature("osv-scanner", "sca", r"\bosv-scanner\b"),
    _signature("pip-audit", "sca", r"\bpip-audit\b"),
    _signature("npm-audit", "sca", r"\b(?:npm|yarn|pnpm)\s+audit\b"),
    _signature("dependency-review", "sca", r"actions/dependency-review-action\b"),
    _signature("grype", "sca", r"\bgrype\b|anchore/scan-action\b"),
    _signature("govulncheck", "sca", r"\bgovulncheck\b"),
    _signature("cargo-audit", "sca", r"\bcargo[\s-]audit\b|rustsec/audit-check\b"),
    _signature("dependency-check", "sca", r"\bdependency-check\b"),
    _signature("checkov", "iac", r"\bcheckov\b"),
    _signature("tfsec", "iac", r"\btfsec\b"),
    _signature("kics", "iac", r"\bkics\b"),
    _signature("terrascan", "iac", r"\bterrascan\b"),
    _signature("gitlab-sast", "sast", _GITLAB_TEMPLATE.format("SAST") + r"|components/sast/sast@"),
    _signature("gitlab-sast-iac", "iac", _GITLAB_TEMPLATE.format("SAST-IaC")),
    _signature(
        "gitlab-secret-detection",
        "secrets",
        _GITLAB_TEMPLATE.format("Secret-Detection") + r"|components/secret-detection/",
    ),
    _signature(
        "gitlab-dependency-scanning",
        "sca",
        _GITLAB_TEMPLATE.format("Dependency-Scanning") + r"|components/dependency-scanning/",
    ),
    _signature(
        "gitlab-container-scanning",
        "sca",
        _GITLAB_TEMPLATE.format("Container-Scanning") + r"|components/container-scanning/",
    ),
    _signature("gitlab-auto-devops", "sast secrets sca", r"\bAuto-DevOps\.gitlab-ci\.yml\b"),
)


@dataclass(frozen=True, order=True)
class Detection:
    """A tool found for a category, and the file that runs it."""

    category: Category
    tool: str
    path: str


@dataclass(frozen=True)
class ToolUse:
    """What runs in CI, and what only a local pre-commit hook runs."""

    ci: tuple[Detection, ...]
    local: tuple[Detection, ...]

    def in_ci(self, category: Category) -> list[Detection]:
        return [found for found in self.ci if found.category is category]

    def local_only(self, category: Category) -> list[Detection]:
        return [found for found in self.local if found.category is category]


def detect(path: str, text: str) -> set[Detection]:
    """The tools whose signatures ``text`` (from the file at ``path``) matches."""
    return {
        Detection(category, signature.tool, path)
        for signature in SIGNATURES
        if signature.pattern.search(text)
        for category in signature.categories
    }


@per_repository
def tool_use(repo: Repository) -> ToolUse:
    texts = list(_ci_texts(repo))
    ci = set().union(*(detect(path, text) for path, text in texts))
    hooks = pre_commit_hooks(repo)
    if any(_RUNS_PRE_COMMIT.search(text) for _, text in texts):
        return ToolUse(tuple(sorted(ci | hooks)), ())
    return ToolUse(tuple(sorted(ci)), tuple(sorted(hooks)))


def _ci_texts(repo: Repository) -> Iterator[tuple[str, str]]:
    """What each CI file runs: a parsed workflow's values, otherwise its text minus comments."""
    parsed = workflows(repo).parsed
    for file in ci_files(repo):
        if file.path in parsed:
            yield file.path, parsed[file.path].search_text()
        elif file.text is not None:
            yield file.path, without_comments(file.text)


@per_repository
def pre_commit_hooks(repo: Repository) -> set[Detection]:
    """The tools the pre-commit configuration runs, wherever it is run."""
    if not repo.has(PRE_COMMIT_CONFIG):
        return set()
    try:
        return detect(PRE_COMMIT_CONFIG, without_comments(repo.read(PRE_COMMIT_CONFIG)))
    except InputError:  # the pre-commit check reports the unreadable file
        return set()


def security_tools(root: Path) -> dict[str, set[str]]:
    """What the CI configuration runs, by category: ``{"sast": {"semgrep"}, "sca": …}``.

    Every category is present, empty when nothing covers it, so a stored coverage row always
    has the same shape. Raises InputError when ``root`` is not a folder.
    """
    coverage: dict[str, set[str]] = {str(category): set() for category in Category}
    for found in tool_use(Repository(root)).ci:
        coverage[found.category].add(found.tool)
    return coverage
