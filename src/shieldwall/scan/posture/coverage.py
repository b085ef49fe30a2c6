"""Security scanning coverage: does CI run a scanner of each kind the repository needs?

Each check passes when CI runs a tool of its category, warns when only something weaker
covers it (a local pre-commit hook, which can be skipped or never installed; an update bot,
which proposes new versions but does not say which old ones are vulnerable), fails when
nothing does, and does not apply when there is nothing of that kind to scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from shieldwall.errors import InputError
from shieldwall.scan.posture.containers import DOCKERFILES
from shieldwall.scan.posture.dependencies import manifests, update_configs
from shieldwall.scan.posture.model import Result, Verdict, check, counted, listing
from shieldwall.scan.posture.repository import Repository
from shieldwall.scan.posture.tools import (
    PRE_COMMIT_CONFIG,
    Category,
    Detection,
    pre_commit_hooks,
    tool_use,
)

SOURCE_CODE = tuple(
    f"*.{extension}"
    for extension in [
        "py",
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "cs",
        "go",
        "java",
        "kt",
        "kts",
        "scala",
        "groovy",
        "rb",
        "php",
        "rs",
        "swift",
        "m",
        "mm",
        "dart",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "vue",
        "svelte",
        "ex",
        "exs",
        "erl",
        "clj",
        "lua",
        "pl",
        "sh",
        "ps1",
    ]
)
INFRASTRUCTURE_CODE = (
    *DOCKERFILES,
    "*.tf",
    "*.tf.json",
    "*.bicep",
    "Chart.yaml",
    "kustomization.yaml",
    "kustomization.yml",
)


@check("sast", "CI runs static analysis of the code (semgrep, CodeQL, bandit, …)")
def sast(repo: Repository) -> Verdict:
    return _coverage(
        repo,
        Category.SAST,
        label="SAST",
        scope=("source file", repo.find(*SOURCE_CODE)),
        suggestions="semgrep, CodeQL (github/codeql-action) or bandit",
        unseen="CodeQL default setup",
    )


@check(
    "dependency-scanning",
    "CI checks dependencies for known vulnerabilities (osv-scanner, pip-audit, Trivy, …)",
)
def dependency_scanning(repo: Repository) -> Verdict:
    bots = update_configs(repo)
    updates_only = (
        f"{listing(bots)} proposes updates, but nothing in CI says which dependencies have "
        "known vulnerabilities"
    )
    return _coverage(
        repo,
        Category.SCA,
        label="dependency scanning",
        scope=("dependency manifest", [manifest.path for manifest in manifests(repo)]),
        suggestions="osv-scanner, pip-audit, npm audit, Trivy or `shieldwall scan`",
        unseen="Dependabot alerts",
        weaker=[updates_only] if bots else [],
    )


@check("secrets-scanning", "CI looks for committed secrets (gitleaks, TruffleHog, …)")
def secrets_scanning(repo: Repository) -> Verdict:
    return _coverage(
        repo,
        Category.SECRETS,
        label="secret scanning",
        scope=("file", repo.files),  # any file can hold a secret
        suggestions="gitleaks, TruffleHog, detect-secrets or `shieldwall scan`",
        unseen="GitHub secret scanning",
    )


@check("iac-scanning", "CI checks infrastructure code for misconfigurations (checkov, Trivy, …)")
def iac_scanning(repo: Repository) -> Verdict:
    return _coverage(
        repo,
        Category.IAC,
        label="IaC scanning",
        scope=("infrastructure file", repo.find(*INFRASTRUCTURE_CODE)),
        suggestions="checkov, `trivy config`, kics or tfsec",
    )


@check("pre-commit", "A pre-commit hook stops secrets before they are committed")
def pre_commit(repo: Repository) -> Verdict:
    if not repo.has(PRE_COMMIT_CONFIG):
        return Verdict(
            Result.WARN,
            f"no {PRE_COMMIT_CONFIG}: a secret is found only after it has been pushed; add a "
            "gitleaks or detect-secrets hook",
        )
    try:
        repo.read_yaml(PRE_COMMIT_CONFIG)
    except InputError as exc:
        return Verdict(Result.WARN, f"{exc.message}; pre-commit cannot run with this file")
    hooks = sorted(
        {found.tool for found in pre_commit_hooks(repo) if found.category is Category.SECRETS}
    )
    if hooks:
        return Verdict(
            Result.PASS, f"{PRE_COMMIT_CONFIG} runs {', '.join(hooks)} before each commit"
        )
    return Verdict(
        Result.WARN,
        f"{PRE_COMMIT_CONFIG} has no secrets hook; add gitleaks or detect-secrets, so a "
        "secret is stopped before it is committed",
    )


def _coverage(
    repo: Repository,
    category: Category,
    *,
    label: str,
    scope: tuple[str, Sequence[str]],
    suggestions: str,
    unseen: str = "",
    weaker: Sequence[str] = (),
) -> Verdict:
    """The verdict for one category.

    ``scope`` names the kind of file that needs it and lists them; ``unseen`` names coverage
    that may exist but cannot be seen offline, so a failure says what to check by hand;
    ``weaker`` lists what covers the category partly.
    """
    use = tool_use(repo)
    if running := use.in_ci(category):
        return Verdict(
            Result.PASS,
            f"{label} runs in CI: {_named(running)}",
            tuple(f"{found.tool}: {found.path}" for found in running),
        )
    if local := use.local_only(category):
        weaker = [
            f"{_named(local)} runs only as a local pre-commit hook, which can be skipped or "
            "never installed",
            *weaker,
        ]
    if weaker:
        return Verdict(
            Result.WARN, f"{'; '.join(weaker)}; run {suggestions} in CI too", tuple(weaker)
        )
    kind, files = scope
    if not files:
        return Verdict(Result.NOT_APPLICABLE, f"no {kind}: nothing to scan")
    return Verdict(
        Result.FAIL,
        f"{counted(len(files), kind)} ({listing(files, 2)}), but no {label} runs in CI; "
        f"add {suggestions}"
        + (f" (not visible offline: {unseen} in GitHub's settings)" if unseen else ""),
    )


def _named(detections: Sequence[Detection]) -> str:
    return listing(f"{found.tool} ({found.path})" for found in detections)
