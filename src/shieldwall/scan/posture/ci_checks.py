"""Checks of the CI configuration itself, mostly GitHub Actions workflows.

These are the checks OpenSSF Scorecard is known for, done offline and with its known gaps
closed: a pull request checked out by a script (``gh pr checkout``) is as dangerous as one
checked out by ``actions/checkout``, ``actions/github-script``'s ``script:`` is as injectable
as ``run:``, and every finding names its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from shieldwall.scan.posture.ci import CI_SYSTEMS, GITHUB_ACTIONS, ci_files
from shieldwall.scan.posture.model import (
    Finding,
    Result,
    Verdict,
    check,
    counted,
    listing,
    summarise,
)
from shieldwall.scan.posture.repository import Repository
from shieldwall.scan.posture.workflows import Site, Step, Workflow, Workflows, workflows

# Triggers whose runs get a token with write access and the repository's secrets even when
# the run was caused by a fork's pull request.
PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run"})
GITHUB_OWNERS = frozenset({"actions", "github"})

_PR_CODE = (
    r"pull_request\.head\.(?:sha|ref)|github\.head_ref|workflow_run\.head_(?:sha|branch)"
    r"|pull_request\.merge_commit_sha|refs/pull/"
)
_PR_CHECKOUT_REF = re.compile(_PR_CODE, re.IGNORECASE)
_PR_CHECKOUT_SCRIPT = re.compile(
    rf"\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|switch|pull)\b[^\n]*(?:{_PR_CODE}|pull/)",
    re.IGNORECASE,
)
# Event fields a pull request's or issue's author writes (GitHub Security Lab's list, as
# Scorecard uses it, plus discussions and workflow_run's copies of the same fields).
_UNTRUSTED = re.compile(
    r"github\.head_ref\b"
    r"|github\.event\.(?:issue|pull_request|discussion)\.(?:title|body)\b"
    r"|github\.event\.(?:comment|review|review_comment)\.body\b"
    r"|github\.event\.pull_request\.head\.(?:ref|label|repo\.default_branch)\b"
    r"|github\.event\.pages\b.*?\.page_name\b"
    r"|github\.event\.(?:commits\b.*?|head_commit|workflow_run\.head_commit)"
    r"\.(?:message|author\.(?:email|name)|committer\.(?:email|name))\b"
    r"|github\.event\.workflow_run\.(?:head_branch|display_title)\b"
    r"|github\.event\.workflow_run\.pull_requests\b.*?\.head\.ref\b",
    re.IGNORECASE | re.DOTALL,
)
_INDEX = re.compile(r"""\[\s*['"]([\w-]+)['"]\s*\]""")
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}", re.IGNORECASE)

_BROKEN_ADVICE = "GitHub does not run a workflow it cannot parse; fix it so it can be checked"


@check("ci-present", "CI configuration exists, so every change is built and checked")
def ci_present(repo: Repository) -> Verdict:
    files = ci_files(repo)
    if not files:
        return Verdict(
            Result.FAIL,
            f"no CI configuration found ({listing(CI_SYSTEMS, 6)}): nothing builds or checks "
            "a change before it merges; add a pipeline that runs the tests and scanners",
        )
    systems: dict[str, list[str]] = {}
    for file in files:
        systems.setdefault(file.system, []).append(file.path)
    unreadable = [file.problem for file in files if file.problem and file.system != GITHUB_ACTIONS]
    return summarise(
        _broken(workflows(repo)) + [Finding(Result.WARN, problem) for problem in unreadable],
        advice="fix it so CI can run it",
        passed="CI configuration: "
        + ", ".join(f"{system} ({listing(paths, 2)})" for system, paths in systems.items()),
    )


@check(
    "dangerous-workflow",
    "No workflow runs a pull request's code with secrets, or pastes untrusted text into a script",
)
def dangerous_workflow(repo: Repository) -> Verdict:
    return _inspect_workflows(
        repo,
        lambda workflow: [*_untrusted_checkouts(workflow), *_script_injections(workflow)],
        passed=lambda parsed: (
            "no untrusted checkout or script injection in " + counted(len(parsed), "workflow")
        ),
    )


@check(
    "token-permissions",
    "Workflows declare a read-only GITHUB_TOKEN at the top and grant writes per job",
)
def token_permissions(repo: Repository) -> Verdict:
    return _inspect_workflows(
        repo,
        _permission_findings,
        passed=lambda parsed: f"{counted(len(parsed), 'workflow')}, read-only at the top",
        advice="declare `permissions: contents: read` (or `read-all`) at the top and grant "
        "each write scope only in the job that needs it",
    )


@check(
    "pinned-actions",
    "Every action and reusable workflow is pinned to a full commit SHA, not a movable tag",
)
def pinned_actions(repo: Repository) -> Verdict:
    return _inspect_workflows(
        repo,
        _unpinned_actions,
        passed=lambda parsed: (
            counted(sum(len(_references(workflow)) for workflow in parsed), "action reference")
            + ", all pinned to a commit SHA"
        ),
        advice="pin each to its full 40-character commit SHA (keep the version in a comment; "
        "Dependabot and Renovate update both), so a moved tag cannot change what runs",
    )


def _inspect_workflows(
    repo: Repository,
    inspect: Callable[[Workflow], Iterable[Finding]],
    *,
    passed: Callable[[Sequence[Workflow]], str],
    advice: str = "",
) -> Verdict:
    """Run ``inspect`` on every workflow; a workflow that cannot be parsed is a warning.

    It cannot be a pass: what cannot be read cannot be vouched for.
    """
    found = workflows(repo)
    if not found.present:
        return Verdict(Result.NOT_APPLICABLE, "no GitHub Actions workflows (.github/workflows/)")
    parsed = list(found.parsed.values())
    findings = [finding for workflow in parsed for finding in inspect(workflow)]
    return summarise(findings + _broken(found), passed=passed(parsed), advice=advice)


def _broken(found: Workflows) -> list[Finding]:
    return [Finding(Result.WARN, problem, _BROKEN_ADVICE) for problem in found.broken.values()]


def _references(workflow: Workflow) -> list[Site]:
    """The actions and reusable workflows a workflow takes from elsewhere (not ``./``)."""
    return [site for site in workflow.uses() if not site.value.startswith("./")]


def _action(uses: str) -> str:
    """``owner/repo`` of a ``uses:`` value, lower case (GitHub ignores case here)."""
    return "/".join(uses.partition("@")[0].split("/")[:2]).lower()


def _untrusted_checkouts(workflow: Workflow) -> Iterator[Finding]:
    """Steps of a privileged workflow that fetch the pull request's code.

    Checking it out is not the harm; running it is, and builds, tests and installs all run
    it. So any checkout of the pull request's code there is a finding, as in Scorecard.
    """
    privileged = sorted(workflow.triggers & PRIVILEGED_TRIGGERS)
    if not privileged:
        return
    advice = (
        f"a {privileged[0]} run has a write token and the secrets: do not check out or run "
        "the pull request's code there (run it on `pull_request`, which has neither)"
    )
    for step in (step for job in workflow.jobs for step in job.steps):
        ref = step.inputs.get("ref") if _is_action(step, "actions/checkout") else None
        if ref and _PR_CHECKOUT_REF.search(ref.value):
            yield Finding(
                Result.FAIL,
                f"{ref.where} {privileged[0]} workflow checks out the pull request's code "
                f"(ref: {ref.value})",
                advice,
            )
        if step.run and (match := _PR_CHECKOUT_SCRIPT.search(step.run.value)):
            line = workflow.line_of(step.run, match.group())
            yield Finding(
                Result.FAIL,
                f"{workflow.path}:{line} {privileged[0]} workflow fetches the pull request's "
                f"code ({match.group()})",
                advice,
            )


def _script_injections(workflow: Workflow) -> Iterator[Finding]:
    """``${{ }}`` with attacker-written text inside a script: the text becomes code."""
    for step in (step for job in workflow.jobs for step in job.steps):
        for site, sink in _scripts(step):
            for line, expression in workflow.expressions(site):
                if _UNTRUSTED.search(_INDEX.sub(r".\1", expression)):
                    yield Finding(
                        Result.FAIL,
                        f"{workflow.path}:{line} {expression} in {sink} (script injection)",
                        'pass the value through `env:` and use "$NAME" in the script, '
                        "so it stays data",
                    )


def _scripts(step: Step) -> Iterator[tuple[Site, str]]:
    if step.run:
        yield step.run, "run:"
    script = step.inputs.get("script")
    if script and _is_action(step, "actions/github-script"):
        yield script, "actions/github-script script:"


def _is_action(step: Step, action: str) -> bool:
    return step.uses is not None and _action(step.uses.value) == action


def _permission_findings(workflow: Workflow) -> Iterator[Finding]:
    top = workflow.permissions
    if top is not None and top.writes:
        yield Finding(
            Result.FAIL,
            f"{workflow.path}:{top.line} top-level permissions grant {', '.join(top.writes)}",
        )
    for job in workflow.jobs:
        if job.permissions is not None and "write-all" in job.permissions.writes:
            yield Finding(
                Result.FAIL,
                f"{workflow.path}:{job.permissions.line} job {job.name} has permissions: write-all",
                "name only the scopes the job writes (e.g. `contents: write`)",
            )
    if top is not None:
        return
    unguarded = [job for job in workflow.jobs if job.permissions is None]
    for job in unguarded:
        yield Finding(
            Result.FAIL,
            f"{workflow.path}:{job.line} job {job.name} sets no permissions and neither does "
            "the workflow, so its token has the repository default (write on repositories "
            "made before February 2023; the setting is not visible offline)",
        )
    if workflow.jobs and not unguarded:
        yield Finding(
            Result.WARN,
            f"{workflow.path}:1 has no top-level permissions (every job sets its own)",
            "add `permissions: read-all` at the top so a new job starts read-only",
        )


def _unpinned_actions(workflow: Workflow) -> Iterator[Finding]:
    """``file:line uses owner/repo@ref`` for each reference that can move."""
    for site in _references(workflow):
        uses = site.value.strip()
        if not _pinned(uses):
            owned = _action(uses).partition("/")[0] in GITHUB_OWNERS
            note = " (GitHub-owned; pin it too, as Scorecard asks)" if owned else ""
            yield Finding(Result.FAIL, f"{site.where} uses {uses}{note}")


def _pinned(uses: str) -> bool:
    """A full commit SHA for an action, a digest for a ``docker://`` image."""
    if uses.startswith("docker://"):
        return "@sha256:" in uses
    return "@" in uses and bool(_COMMIT_SHA.fullmatch(uses.rpartition("@")[2]))
