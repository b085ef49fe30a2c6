"""`shieldwall posture`: offline Scorecard-style checks of a repository checkout.

Fixture repositories under tests/fixtures/posture/ are the main scenarios (good, bad, gitlab,
empty); edge cases that need a .gitignore, binaries or broken files are built in tmp_path, so
they cannot change what git commits for this repository.
"""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shieldwall.errors import InputError
from shieldwall.scan.posture import (
    CHECKS,
    CheckResult,
    Result,
    as_rows,
    check_repository,
    security_tools,
)
from tests.conftest import FIXTURES

POSTURE = FIXTURES / "posture"
PASS, FAIL, WARN, NA = Result.PASS, Result.FAIL, Result.WARN, Result.NOT_APPLICABLE
SHA = "b4ffde65f46336ab88eb53be808477a3936bae11"
DIGEST = "sha256:" + "ab" * 32


def make_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def run(root: Path) -> dict[str, CheckResult]:
    return {result.check: result for result in check_repository(root)}


def one(root: Path, name: str) -> CheckResult:
    return run(root)[name]


def workflow(body: str, name: str = "ci.yml") -> dict[str, str]:
    return {f".github/workflows/{name}": body}


# --- the registry and the output contract ------------------------------------------------


def test_every_check_scripts_rely_on_is_registered_once_with_a_one_line_description() -> None:
    names = [check.name for check in CHECKS]
    required = {
        "dangerous-workflow",
        "pinned-actions",
        "token-permissions",
        "sast",
        "dependency-scanning",
        "secrets-scanning",
        "security-policy",
        "lockfiles",
    }
    assert required <= set(names)
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names)
    assert all(check.description and "\n" not in check.description for check in CHECKS)


def test_results_come_in_registry_order() -> None:
    results = check_repository(POSTURE / "empty")
    assert [result.check for result in results] == [check.name for check in CHECKS]


def test_as_rows_is_flat_json_with_exactly_check_result_reason() -> None:
    rows = as_rows(check_repository(POSTURE / "bad"))
    assert all(set(row) == {"check", "result", "reason"} for row in rows)
    assert json.loads(json.dumps(rows)) == rows
    lockfiles = next(row for row in rows if row["check"] == "lockfiles")
    assert lockfiles["result"] == "fail"
    assert lockfiles["reason"].startswith("package.json has no lockfile")


def test_a_path_that_is_not_a_folder_is_bad_input(tmp_path: Path) -> None:
    file = make_repo(tmp_path, {"x.txt": "x"}) / "x.txt"
    with pytest.raises(InputError, match="not a folder"):
        check_repository(file)
    with pytest.raises(InputError, match="not a folder"):
        security_tools(tmp_path / "missing")


# --- the fixture repositories ------------------------------------------------------------

EXPECTED = {
    "good": dict.fromkeys((check.name for check in CHECKS), PASS),
    "bad": {
        "ci-present": PASS,
        "dangerous-workflow": FAIL,
        "token-permissions": FAIL,
        "pinned-actions": FAIL,
        "sast": FAIL,
        "dependency-scanning": FAIL,
        "secrets-scanning": FAIL,
        "iac-scanning": FAIL,
        "lockfiles": FAIL,
        "dependency-update-tool": FAIL,
        "pinned-dependencies-docker": WARN,
        "binary-artifacts": PASS,
        "security-policy": FAIL,
        "codeowners": WARN,
        "license": WARN,
        "pre-commit": WARN,
    },
    "gitlab": {
        "ci-present": PASS,
        "dangerous-workflow": NA,
        "token-permissions": NA,
        "pinned-actions": NA,
        "sast": PASS,
        "dependency-scanning": PASS,
        "secrets-scanning": PASS,
        "iac-scanning": FAIL,  # SAST-IaC is only in a comment
        "lockfiles": PASS,  # requirements.txt is fully pinned
        "dependency-update-tool": PASS,
        "pinned-dependencies-docker": NA,
        "binary-artifacts": PASS,
        "security-policy": WARN,  # no contact
        "codeowners": PASS,
        "license": WARN,
        "pre-commit": WARN,
    },
    "empty": {
        "ci-present": FAIL,
        "dangerous-workflow": NA,
        "token-permissions": NA,
        "pinned-actions": NA,
        "sast": NA,
        "dependency-scanning": NA,
        "secrets-scanning": FAIL,
        "iac-scanning": NA,
        "lockfiles": NA,
        "dependency-update-tool": NA,
        "pinned-dependencies-docker": NA,
        "binary-artifacts": PASS,
        "security-policy": FAIL,
        "codeowners": WARN,
        "license": WARN,
        "pre-commit": WARN,
    },
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_check_on_each_fixture(fixture: str) -> None:
    results = {name: result.result for name, result in run(POSTURE / fixture).items()}
    assert results == EXPECTED[fixture]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_every_reason_and_detail_is_one_line(fixture: str) -> None:
    for result in check_repository(POSTURE / fixture):
        assert result.reason
        assert all("\n" not in line for line in (result.reason, *result.details))


def test_bad_dangerous_workflow_names_each_place_and_leaves_env_alone() -> None:
    result = one(POSTURE / "bad", "dangerous-workflow")
    assert result.details == (
        ".github/workflows/pr.yml:12 pull_request_target workflow checks out the pull "
        "request's code (ref: ${{ github.event.pull_request.head.sha }})",
        ".github/workflows/triage.yml:17 ${{ github.event.issue.title }} in run: "
        "(script injection)",
        ".github/workflows/triage.yml:22 ${{ github.event.comment.body }} in "
        "actions/github-script script: (script injection)",
    )
    assert result.reason.startswith(".github/workflows/pr.yml:12 pull_request_target")
    assert "(and 2 more)" in result.reason


def test_bad_pinned_actions_lists_each_unpinned_use_and_says_who_owns_it() -> None:
    result = one(POSTURE / "bad", "pinned-actions")
    assert result.details == (
        ".github/workflows/pr.yml:10 uses actions/checkout@v4 "
        "(GitHub-owned; pin it too, as Scorecard asks)",
        ".github/workflows/triage.yml:11 uses example/labeler@main",
    )
    assert "commit SHA" in result.reason


def test_bad_token_permissions_names_write_all_and_the_unguarded_job() -> None:
    result = one(POSTURE / "bad", "token-permissions")
    assert result.details[0] == ".github/workflows/pr.yml:4 top-level permissions grant write-all"
    assert result.details[1].startswith(
        ".github/workflows/triage.yml:8 job label sets no permissions"
    )
    assert len(result.details) == 2


def test_bad_lockfiles_and_docker_name_the_files() -> None:
    results = run(POSTURE / "bad")
    assert results["lockfiles"].details == (
        "package.json has no lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, "
        "pnpm-lock.yaml and 1 more) in its folder or above",
    )
    assert results["pinned-dependencies-docker"].details == ("Dockerfile:1 FROM node:20",)


def test_good_reasons_say_what_was_found() -> None:
    results = run(POSTURE / "good")
    assert "security@example.com" in results["security-policy"].reason
    assert results["sast"].reason == "SAST runs in CI: semgrep (.github/workflows/security.yml)"
    assert "7 action references" in results["pinned-actions"].reason
    assert "3 container images" in results["pinned-dependencies-docker"].reason


def test_security_tools_by_category() -> None:
    assert security_tools(POSTURE / "good") == {
        "sast": {"semgrep"},
        "sca": {"osv-scanner"},
        "secrets": {"gitleaks"},
        "iac": {"checkov"},
    }
    assert security_tools(POSTURE / "gitlab") == {
        "sast": {"gitlab-sast"},
        "sca": {"gitlab-dependency-scanning"},
        "secrets": {"gitlab-secret-detection"},
        "iac": set(),
    }
    assert security_tools(POSTURE / "bad") == {
        "sast": set(),
        "sca": set(),
        "secrets": set(),
        "iac": set(),
    }


# --- tool detection --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("run: shieldwall scan .", {"secrets": {"shieldwall"}, "sca": {"shieldwall"}}),
        ("run: trivy fs .", {"sca": {"trivy"}}),
        ("run: trivy config infra/", {"iac": {"trivy"}}),
        (
            f"uses: aquasecurity/trivy-action@{SHA}\n        with:\n          scan-type: fs\n"
            "          scanners: vuln,misconfig",
            {"sca": {"trivy"}, "iac": {"trivy"}},
        ),
        (f"uses: github/codeql-action/analyze@{SHA}", {"sast": {"codeql"}}),
        (f"uses: github/codeql-action/init@{SHA}", {}),  # init alone produces no results
        (f"uses: trufflesecurity/trufflehog@{SHA}", {"secrets": {"trufflehog"}}),
        ("run: pip install pip-audit && pip-audit -r requirements.txt", {"sca": {"pip-audit"}}),
        ("run: npm audit --audit-level=high", {"sca": {"npm-audit"}}),
        ("run: snyk code test", {"sast": {"snyk"}}),
        (f"uses: snyk/actions/iac@{SHA}", {"iac": {"snyk"}}),
        ("run: make test  # semgrep runs nightly", {}),  # a YAML comment is not a command
    ],
)
def test_tools_are_recognised_by_action_command_and_inputs(
    tmp_path: Path, step: str, expected: dict[str, set[str]]
) -> None:
    text = f"on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - {step}\n"
    make_repo(tmp_path, workflow(text))
    assert one(tmp_path, "ci-present").result is PASS  # the workflow parsed
    found = {category: tools for category, tools in security_tools(tmp_path).items() if tools}
    assert found == expected


def test_commented_out_scanners_do_not_count(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            **workflow("""
                on: push
                jobs:
                  scan:
                    runs-on: ubuntu-latest
                    steps:
                      # - run: semgrep ci
                      - run: make test
                """),
            "Jenkinsfile": "// sh 'gitleaks detect'\npipeline { stages { stage('t') { steps { sh 'make' } } } }\n",
            "bitbucket-pipelines.yml": "pipelines:\n  default:\n    - step:\n        script:\n          - osv-scanner -r .\n",
        },
    )
    assert security_tools(tmp_path) == {
        "sast": set(),
        "sca": {"osv-scanner"},
        "secrets": set(),
        "iac": set(),
    }


def test_a_pre_commit_hook_alone_is_a_warning_and_counts_once_ci_runs_pre_commit(
    tmp_path: Path,
) -> None:
    hooks = """
        repos:
          - repo: https://github.com/Yelp/detect-secrets
            rev: v1.5.0
            hooks:
              - id: detect-secrets
        """
    make_repo(tmp_path, {".pre-commit-config.yaml": hooks, **workflow("on: push\njobs: {}\n")})
    local = run(tmp_path)
    assert local["secrets-scanning"].result is WARN
    assert "detect-secrets (.pre-commit-config.yaml) runs only as a local pre-commit hook" in (
        local["secrets-scanning"].reason
    )
    assert local["pre-commit"].result is PASS
    assert security_tools(tmp_path)["secrets"] == set()

    make_repo(
        tmp_path,
        workflow(f"""
            on: push
            jobs:
              hooks:
                runs-on: ubuntu-latest
                steps:
                  - uses: pre-commit/action@{SHA}
            """),
    )
    assert one(tmp_path, "secrets-scanning").result is PASS
    assert security_tools(tmp_path)["secrets"] == {"detect-secrets"}


def test_dependabot_without_a_vulnerability_scan_is_a_warning(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            "go.mod": "module example.com/x\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n",
            "go.sum": "golang.org/x/text v0.14.0 h1:abc=\n",
            ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: gomod\n    directory: /\n",
        },
    )
    results = run(tmp_path)
    assert results["dependency-scanning"].result is WARN
    assert (
        "proposes updates, but nothing in CI says which dependencies have known vulnerabilities"
        in (results["dependency-scanning"].reason)
    )
    assert results["dependency-update-tool"].result is PASS
    assert results["lockfiles"].result is PASS


# --- GitHub Actions: dangerous workflows ------------------------------------------------


def test_injection_lines_are_exact_for_repeats_brackets_and_one_line_scripts(
    tmp_path: Path,
) -> None:
    make_repo(
        tmp_path,
        workflow("""
            on:
              pull_request:
            permissions: {}
            jobs:
              a:
                if: ${{ github.event.pull_request.title != '' }}
                runs-on: ubuntu-latest
                steps:
                  - run: echo ${{ github.head_ref }}
                  - run: |
                      echo start
                      echo "${{ github.event.pull_request.body }}"
                      echo "${{ github.event.pull_request.body }}" again
                      echo ${{ github.event['pull_request']['head']['ref'] }}
                      echo ${{ github.event.pull_request.number }}
                  - run: >
                      git commit -m "${{ github.event.head_commit.message }}"
            """),
    )
    result = one(tmp_path, "dangerous-workflow")
    assert result.result is FAIL
    lines = [detail.split(" ", 1)[0] for detail in result.details]
    assert lines == [
        ".github/workflows/ci.yml:9",
        ".github/workflows/ci.yml:12",
        ".github/workflows/ci.yml:13",
        ".github/workflows/ci.yml:14",
        ".github/workflows/ci.yml:17",
    ]


def test_untrusted_values_passed_through_env_are_safe(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        workflow("""
            on: issues
            permissions: read-all
            jobs:
              a:
                runs-on: ubuntu-latest
                env:
                  TITLE: ${{ github.event.issue.title }}
                steps:
                  - run: echo "$TITLE" "${{ github.event.issue.number }}"
            """),
    )
    result = one(tmp_path, "dangerous-workflow")
    assert result.result is PASS
    assert result.reason == "no untrusted checkout or script injection in 1 workflow"


@pytest.mark.parametrize(
    "trigger",
    ["pull_request_target", "[pull_request_target, push]", "{workflow_run: {workflows: [ci]}}"],
)
def test_a_privileged_trigger_that_fetches_the_pull_request_by_script_fails(
    tmp_path: Path, trigger: str
) -> None:
    make_repo(
        tmp_path,
        workflow(f"""
            on: {trigger}
            permissions: read-all
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      set -e
                      gh pr checkout 12
            """),
    )
    result = one(tmp_path, "dangerous-workflow")
    assert result.result is FAIL
    assert re.match(
        r"\.github/workflows/ci\.yml:\d+ (pull_request_target|workflow_run) workflow fetches",
        result.reason,
    )
    line = int(result.details[0].split(":")[1].split()[0])
    text = (tmp_path / ".github/workflows/ci.yml").read_text().splitlines()
    assert "gh pr checkout" in text[line - 1]


def test_checking_out_the_head_on_pull_request_is_not_privileged(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        workflow(f"""
            "on": pull_request
            permissions: read-all
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@{SHA}
                    with:
                      ref: ${{{{ github.event.pull_request.head.sha }}}}
            """),
    )
    assert one(tmp_path, "dangerous-workflow").result is PASS


# --- GitHub Actions: pinning and permissions ---------------------------------------------


def test_pinning_rules_for_docker_local_short_sha_and_reusable_workflows(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        workflow(f"""
            on: push
            permissions: read-all
            jobs:
              reuse:
                uses: example/workflows/.github/workflows/build.yml@v1
              a:
                runs-on: ubuntu-latest
                steps:
                  - uses: ./.github/actions/local
                  - uses: docker://alpine@{DIGEST}
                  - uses: docker://alpine:3.20
                  - uses: example/action@b4ffde6
                  - uses: example/action@{SHA}
            """),
    )
    result = one(tmp_path, "pinned-actions")
    assert result.result is FAIL
    assert result.details == (
        ".github/workflows/ci.yml:5 uses example/workflows/.github/workflows/build.yml@v1",
        ".github/workflows/ci.yml:11 uses docker://alpine:3.20",
        ".github/workflows/ci.yml:12 uses example/action@b4ffde6",
    )


@pytest.mark.parametrize(
    ("permissions", "jobs_permissions", "expected", "fragment"),
    [
        ("permissions: read-all", "", PASS, "read-only"),
        ("permissions: {}", "", PASS, "read-only"),
        ("permissions:\n  contents: read\n  pull-requests: none", "", PASS, "read-only"),
        (
            "permissions:\n  contents: write",
            "",
            FAIL,
            "ci.yml:1 top-level permissions grant contents: write",
        ),
        (
            "permissions: read-all",
            "    permissions: write-all\n",
            FAIL,
            "job a has permissions: write-all",
        ),
        ("", "    permissions:\n      contents: write\n", WARN, "has no top-level permissions"),
        ("", "", FAIL, "job a sets no permissions"),
    ],
)
def test_token_permissions(
    tmp_path: Path, permissions: str, jobs_permissions: str, expected: Result, fragment: str
) -> None:
    text = f"{permissions}\non: push\njobs:\n  a:\n{jobs_permissions}    runs-on: ubuntu-latest\n"
    make_repo(tmp_path, workflow(text))
    result = one(tmp_path, "token-permissions")
    assert result.result is expected
    assert fragment in result.reason


# --- hostile and broken input ------------------------------------------------------------


def test_a_malformed_workflow_is_reported_with_its_line_and_the_others_still_checked(
    tmp_path: Path,
) -> None:
    make_repo(
        tmp_path,
        {
            **workflow(
                """
                on: push
                jobs:
                  scan: [unclosed
                    steps:
                      - run: gitleaks detect
                """,
                "broken.yml",
            ),
            **workflow(
                "on: push\npermissions: read-all\njobs:\n  a:\n    steps:\n      - uses: example/a@v1\n"
            ),
        },
    )
    results = run(tmp_path)
    broken = re.compile(r"\.github/workflows/broken\.yml:4: not valid YAML")
    for name in ("ci-present", "dangerous-workflow", "token-permissions"):
        assert results[name].result is WARN, name
        assert broken.match(results[name].reason), results[name].reason
    pinned = results["pinned-actions"]
    assert pinned.result is FAIL  # the readable workflow's unpinned action
    assert pinned.details[0] == ".github/workflows/ci.yml:6 uses example/a@v1"
    assert broken.match(pinned.details[1])
    # the text of the broken file is still searched for scanners
    assert results["secrets-scanning"].result is PASS


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper than"),
        ("on: push\njobs: !!python/object:os.system {}\n", "unsupported value"),
        ("- on: push\n", "not a workflow"),
        ("on: push\non: pull_request\n", "duplicate key"),
        (b"on: push\njobs: {}\n# \xff\xfe\n", "not UTF-8"),
        ("# " + "x" * 1_000_001 + "\n", "larger than the limit"),
    ],
)
def test_hostile_workflows_give_a_warning_not_an_exception(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    make_repo(tmp_path, {".github/workflows/ci.yml": content})
    result = one(tmp_path, "token-permissions")
    assert result.result is WARN
    assert result.reason.startswith(".github/workflows/ci.yml")
    assert problem in result.reason


def test_file_names_cannot_add_lines_or_terminal_controls(tmp_path: Path) -> None:
    make_repo(tmp_path, {"tools/evil\x1b[2J\nname.jar": b"PK\x03\x04"})
    result = one(tmp_path, "binary-artifacts")
    assert result.result is FAIL
    assert all("\n" not in line and "\x1b" not in line for line in (result.reason, *result.details))


def test_broken_dependabot_and_pre_commit_configs_name_the_line(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            "package.json": '{"dependencies": {"a": "1"}}',
            "package-lock.json": "{}",
            ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: npm\n   directory: /\n",
            ".pre-commit-config.yaml": "repos:\n  - repo: x\n  hooks: [\n",
        },
    )
    results = run(tmp_path)
    assert results["dependency-update-tool"].result is WARN
    assert results["dependency-update-tool"].reason.startswith(
        ".github/dependabot.yml:4: not valid YAML"
    )
    assert results["pre-commit"].result is WARN
    assert results["pre-commit"].reason.startswith(".pre-commit-config.yaml:3: not valid YAML")


# --- the file tree: .gitignore, skipped folders, binaries --------------------------------


def test_gitignored_and_dependency_folders_are_not_part_of_the_repository(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            ".gitignore": "package-lock.json\nout/\n*.log\n",
            "package.json": '{"dependencies": {"left-pad": "1.3.0"}}',
            "package-lock.json": "{}",
            "out/tool.exe": b"MZ\x90\x00\x03\x00\x00\x00",
            "node_modules/left-pad/package.json": '{"dependencies": {"x": "1"}}',
            "node_modules/left-pad/native.node.so": b"\x7fELF\x02\x01",
            "build/lib.so": b"\x7fELF\x02\x01",
        },
    )
    results = run(tmp_path)
    assert results["lockfiles"].result is FAIL  # the ignored lockfile is not committed
    assert results["lockfiles"].details == (
        "package.json has no lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, "
        "pnpm-lock.yaml and 1 more) in its folder or above",
    )
    assert results["binary-artifacts"].result is PASS


def test_binaries_are_found_by_extension_and_by_content(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            "bin/helper": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56,
            "lib/app.jar": b"PK\x03\x04",
            "tests/fixtures/payload.txt": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
            "docs/mz.txt": "MZ is how a DOS executable starts.\n",
            "gradle/wrapper/gradle-wrapper.jar": b"PK\x03\x04",
        },
    )
    result = one(tmp_path, "binary-artifacts")
    assert result.result is FAIL
    assert result.details == (
        "bin/helper (ELF executable)",
        "gradle/wrapper/gradle-wrapper.jar (.jar file)",
        "lib/app.jar (.jar file)",
        "tests/fixtures/payload.txt (Windows executable)",
    )


def test_the_gradle_wrapper_alone_is_a_warning(tmp_path: Path) -> None:
    make_repo(tmp_path, {"gradle/wrapper/gradle-wrapper.jar": b"PK\x03\x04"})
    result = one(tmp_path, "binary-artifacts")
    assert result.result is WARN
    assert "wrapper-validation" in result.reason


def test_symbolic_links_are_not_followed(tmp_path: Path) -> None:
    outside = make_repo(
        tmp_path / "outside", {"SECURITY.md": "Report to security@example.com " * 5}
    )
    repo = make_repo(tmp_path / "repo", {"README.md": "hi"})
    (repo / "SECURITY.md").symlink_to(outside / "SECURITY.md")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    assert one(repo, "security-policy").result is FAIL


# --- lockfiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, NA),
        ({"go.mod": "module example.com/x\n\ngo 1.22\n"}, NA),
        ({"requirements.txt": "requests>=2\n"}, FAIL),
        ({"requirements.txt": "requests==2.32.3\nidna==3.10 ; python_version >= '3.8'\n"}, PASS),
        (
            {"pyproject.toml": "[project]\ndependencies = ['a']\n", "requirements.lock": "a==1\n"},
            PASS,
        ),
        ({"pyproject.toml": "[project\nbroken", "poetry.lock": ""}, PASS),
        (
            {"pyproject.toml": "[project\nbroken"},
            FAIL,
        ),  # unreadable manifests are assumed to declare
        ({"pom.xml": "<project/>"}, WARN),
        (
            {
                "package.json": '{"workspaces": ["packages/*"]}',
                "packages/a/package.json": '{"dependencies": {"x": "1"}}',
                "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
            },
            PASS,
        ),
        (
            {
                "Cargo.toml": "[workspace]\nmembers = ['a']\n",
                "a/Cargo.toml": "[package]\nname = 'a'\n",
                "a/Cargo.lock": "",
            },
            FAIL,  # a lockfile below does not lock the workspace above
        ),
        ({"tests/fixtures/app/package.json": '{"dependencies": {"x": "1"}}'}, NA),
    ],
)
def test_lockfiles(tmp_path: Path, files: dict[str, str | bytes], expected: Result) -> None:
    make_repo(tmp_path, files)
    assert one(tmp_path, "lockfiles").result is expected


# --- Dockerfiles -------------------------------------------------------------------------


def test_dockerfile_images_with_args_stages_scratch_and_continuations(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            "docker/app.Dockerfile": f"""
                ARG BASE=python:3.12-slim@{DIGEST}
                ARG UNKNOWN
                FROM ${{BASE}} AS build
                FROM \\
                  --platform=linux/amd64 \\
                  golang:1.22 AS tools
                FROM build
                FROM scratch
                # FROM ubuntu:latest
                FROM $UNKNOWN
                """,
            ".github/workflows/ci.yml": """
                on: push
                permissions: read-all
                jobs:
                  a:
                    container: ${{ matrix.image }}
                    services:
                      db:
                        image: postgres:16
                    steps: []
                """,
        },
    )
    result = one(tmp_path, "pinned-dependencies-docker")
    assert result.result is WARN
    assert result.details == (
        "docker/app.Dockerfile:4 FROM golang:1.22",
        "docker/app.Dockerfile:10 FROM $UNKNOWN",
        ".github/workflows/ci.yml:8 image postgres:16",
    )


# --- policy, owners, licence -------------------------------------------------------------


def test_security_policy_needs_a_contact_and_some_text(tmp_path: Path) -> None:
    make_repo(tmp_path, {".github/SECURITY.md": "Mail security@example.com\n"})
    short = one(tmp_path, "security-policy")
    assert short.result is WARN
    assert short.reason.startswith(".github/SECURITY.md is too short to be a policy (2 words)")
    make_repo(
        tmp_path,
        {
            ".github/SECURITY.md": "Report vulnerabilities via https://example.com/report and expect an answer within five days.\n"
        },
    )
    assert one(tmp_path, "security-policy").result is PASS


def test_codeowners_must_cover_the_workflows(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            "CODEOWNERS": "*  @example/team\n/.github/  # no owners: unowned\n",
            **workflow("on: push\npermissions: read-all\njobs: {}\n"),
        },
    )
    result = one(tmp_path, "codeowners")
    assert result.result is WARN
    assert result.reason.startswith(".github/workflows/ci.yml has no owner in CODEOWNERS")


def test_an_empty_licence_is_a_warning(tmp_path: Path) -> None:
    make_repo(tmp_path, {"LICENSE.md": ""})
    result = one(tmp_path, "license")
    assert result.result is WARN
    assert result.reason.startswith("LICENSE.md is empty")


# --- no input breaks a check -------------------------------------------------------------

CONFIG_FILES = (
    ".github/workflows/ci.yml",
    ".github/dependabot.yml",
    ".pre-commit-config.yaml",
    ".gitlab-ci.yml",
    ".gitignore",
    "CODEOWNERS",
    "SECURITY.md",
    "Dockerfile",
    "package.json",
    "pyproject.toml",
    "requirements.txt",
    "go.mod",
)


@settings(max_examples=60, deadline=None)
@given(
    contents=st.dictionaries(
        st.sampled_from(CONFIG_FILES),
        st.one_of(
            st.binary(max_size=200),
            st.text(max_size=200),
            st.sampled_from(
                [
                    "[" * 3000,
                    '{"dependencies": ' * 3000,
                    "a = " + "[" * 3000,
                    "on: [\n",
                    "jobs: {a: {steps: [{uses: 5, run: [1], with: x}], permissions: [write]}}\n",
                    "project = 5\n[tool]\npoetry = 'x'\n",
                    "FROM\nFROM --platform=x\nARG\n",
                    "updates: 7\n",
                ]
            ),
        ),
    )
)
def test_no_file_content_raises_and_every_reason_is_one_line(
    contents: dict[str, str | bytes],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        results = check_repository(make_repo(Path(folder), contents))
    assert [result.check for result in results] == [check.name for check in CHECKS]
    for result in results:
        assert all("\n" not in line for line in (result.reason, *result.details))


def test_details_are_capped_and_say_how_many_were_left_out(tmp_path: Path) -> None:
    steps = "".join(f"      - uses: example/action{number}@v1\n" for number in range(250))
    make_repo(
        tmp_path, workflow(f"on: push\npermissions: read-all\njobs:\n  a:\n    steps:\n{steps}")
    )
    result = one(tmp_path, "pinned-actions")
    assert len(result.details) == 201
    assert result.details[-1] == "… and 50 more"
    assert result.reason.startswith(
        ".github/workflows/ci.yml:6 uses example/action0@v1 (and 249 more)"
    )
