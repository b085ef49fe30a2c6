"""Where CI configuration lives, per CI system, and its text.

Only GitHub Actions workflows are parsed (they are YAML with a fixed shape, and the Actions
checks need their structure). The others are read as text for tool names: GitLab CI uses
custom tags such as ``!reference`` that a safe YAML loader rejects, and a Jenkinsfile is Groovy.
"""

from __future__ import annotations

from dataclasses import dataclass

from shieldwall.errors import InputError
from shieldwall.scan.posture.repository import Repository, per_repository

GITHUB_ACTIONS = "GitHub Actions"

# Gitignore-style patterns (see Repository.find); a leading slash means the top folder.
CI_SYSTEMS: dict[str, tuple[str, ...]] = {
    GITHUB_ACTIONS: ("/.github/workflows/*.yml", "/.github/workflows/*.yaml"),
    "GitLab CI": ("*.gitlab-ci.yml", "/.gitlab/ci/*.yml"),  # any depth: `include: local:`
    "CircleCI": ("/.circleci/config.yml", "/.circleci/config.yaml"),
    "Azure Pipelines": (
        "/azure-pipelines.yml",
        "/azure-pipelines.yaml",
        "/.azure-pipelines/*.yml",
        "/.azure-pipelines/*.yaml",
    ),
    "Jenkins": ("Jenkinsfile", "Jenkinsfile.*", "*.jenkinsfile"),
    "Bitbucket Pipelines": ("/bitbucket-pipelines.yml",),
    "Travis CI": ("/.travis.yml",),
    "Drone": ("/.drone.yml",),
    "Buildkite": ("/.buildkite/*.yml", "/.buildkite/*.yaml"),
}


@dataclass(frozen=True)
class CiFile:
    """A CI configuration file: its text, or why it could not be read."""

    system: str
    path: str
    text: str | None
    problem: str = ""


@per_repository
def ci_files(repo: Repository) -> tuple[CiFile, ...]:
    """Every CI configuration file, in the order of CI_SYSTEMS and then by path."""
    found: list[CiFile] = []
    for system, patterns in CI_SYSTEMS.items():
        for path in repo.find(*patterns):
            try:
                found.append(CiFile(system, path, repo.read(path)))
            except InputError as exc:
                found.append(CiFile(system, path, None, exc.message))
    return tuple(found)


def without_comments(text: str) -> str:
    """Text minus whole-line comments (YAML ``#``, Groovy ``//``).

    A commented-out ``# - run: semgrep`` is the common way to switch a scanner off, so it
    must not count. Comments after code on the same line are kept: cutting at ``#`` would
    also cut shell text such as ``echo "#1"``, and losing a real command is the worse error.
    """
    return "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(("#", "//"))
    )
