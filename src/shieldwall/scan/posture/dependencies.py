"""Dependency hygiene: lockfiles next to manifests, and a bot that keeps them current."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from shieldwall.errors import InputError
from shieldwall.scan.posture.containers import DOCKERFILES
from shieldwall.scan.posture.model import Finding, Result, Verdict, check, listing, summarise
from shieldwall.scan.posture.repository import Repository, per_repository
from shieldwall.scan.posture.workflows import workflows

DEPENDABOT = ("/.github/dependabot.yml", "/.github/dependabot.yaml")
RENOVATE = (
    "/renovate.json",
    "/renovate.json5",
    "/.renovaterc",
    "/.renovaterc.json",
    "/.renovaterc.json5",
    "/.github/renovate.json",
    "/.github/renovate.json5",
    "/.gitlab/renovate.json",
    "/.gitlab/renovate.json5",
)


@dataclass(frozen=True)
class Ecosystem:
    """A package manager: the files that declare dependencies and those that lock them."""

    name: str
    manifests: tuple[str, ...]
    lockfiles: tuple[str, ...]
    # Requirement lists that lock by themselves when every requirement is pinned (pip-tools).
    pinned_lists: tuple[str, ...] = ()
    missing: Result = Result.FAIL
    advice: str | None = None

    def lock_names(self) -> str:
        pinned = f" or a fully pinned {' '.join(self.pinned_lists)}" if self.pinned_lists else ""
        return listing(self.lockfiles, 4) + pinned


ECOSYSTEMS = (
    Ecosystem(
        "npm",
        ("package.json",),
        ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock"),
    ),
    Ecosystem(
        "Python",
        ("pyproject.toml", "setup.py", "Pipfile", "requirements*.txt", "requirements*.in"),
        (
            "uv.lock",
            "poetry.lock",
            "Pipfile.lock",
            "pdm.lock",
            "pylock*.toml",
            "requirements*.lock",
        ),
        pinned_lists=("requirements*.txt",),
    ),
    Ecosystem("Go", ("go.mod",), ("go.sum",)),
    # Cargo has recommended committing Cargo.lock for libraries too since 2023.
    Ecosystem("Cargo", ("Cargo.toml",), ("Cargo.lock",)),
    Ecosystem("Bundler", ("Gemfile", "gems.rb"), ("Gemfile.lock", "gems.locked")),
    Ecosystem("Composer", ("composer.json",), ("composer.lock",)),
    Ecosystem("Gradle", ("build.gradle", "build.gradle.kts"), ("gradle.lockfile",)),
    Ecosystem("Mix", ("mix.exs",), ("mix.lock",)),
    Ecosystem(
        "Maven",
        ("pom.xml",),
        ("lockfile.json",),
        missing=Result.WARN,
        advice="Maven has no built-in lockfile: pin exact versions (no ranges) and consider "
        "the maven-lockfile plugin",
    ),
)

_PINNED = re.compile(r"[\w.-]+(?:\[[^\]]*\])?\s*===?\s*[^\s,;*]+\s*(?:;.*)?")


@dataclass(frozen=True)
class Manifest:
    path: str
    ecosystem: Ecosystem


@per_repository
def manifests(repo: Repository) -> tuple[Manifest, ...]:
    """Manifests that declare dependencies (not a pyproject.toml holding only tool settings)."""
    return tuple(
        Manifest(path, ecosystem)
        for ecosystem in ECOSYSTEMS
        for path in repo.find(*ecosystem.manifests)
        if _declares_dependencies(repo, path)
    )


@check("lockfiles", "Every dependency manifest has a committed lockfile")
def lockfiles(repo: Repository) -> Verdict:
    found = manifests(repo)
    if not found:
        return Verdict(
            Result.NOT_APPLICABLE,
            "no dependency manifest (package.json, pyproject.toml, go.mod, Cargo.toml, …)",
        )
    locked = {ecosystem.name: _locked_folders(repo, ecosystem) for ecosystem in ECOSYSTEMS}
    findings = [
        Finding(
            manifest.ecosystem.missing,
            f"{manifest.path} has no lockfile ({manifest.ecosystem.lock_names()}) in its "
            "folder or above",
            manifest.ecosystem.advice,
        )
        for manifest in found
        if locked[manifest.ecosystem.name].isdisjoint(PurePosixPath(manifest.path).parents)
    ]
    return summarise(
        findings,
        advice="commit one, so every build installs exactly the versions that were reviewed",
        passed="every dependency manifest has a lockfile: "
        + listing(manifest.path for manifest in found),
    )


@check(
    "dependency-update-tool",
    "Dependabot or Renovate is configured, so dependency and action updates arrive as PRs",
)
def dependency_update_tool(repo: Repository) -> Verdict:
    configs = update_configs(repo)
    if configs:
        findings = [
            Finding(Result.WARN, problem)
            for path in repo.find(*DEPENDABOT)
            for problem in _dependabot_problems(repo, path)
        ]
        return summarise(
            findings,
            advice="Dependabot ignores a configuration it cannot use",
            passed=f"dependency updates are configured: {listing(configs)}",
        )
    if not (manifests(repo) or workflows(repo).present or repo.find(*DOCKERFILES)):
        return Verdict(
            Result.NOT_APPLICABLE,
            "nothing to update: no dependency manifest, workflow or Dockerfile",
        )
    return Verdict(
        Result.FAIL,
        "no Dependabot (.github/dependabot.yml) or Renovate (renovate.json) configuration: "
        "fixed versions of dependencies and actions are not proposed; add one (an "
        "organisation-wide Renovate preset is not visible offline)",
    )


def update_configs(repo: Repository) -> list[str]:
    """The Dependabot and Renovate configuration files."""
    return repo.find(*DEPENDABOT, *RENOVATE)


def _dependabot_problems(repo: Repository, path: str) -> list[str]:
    try:
        document = repo.read_yaml(path)
    except InputError as exc:
        return [exc.message]
    updates = document.data.get("updates") if isinstance(document.data, dict) else None
    if isinstance(updates, list) and updates:
        return []
    return [f"{path}:{document.line_of(('updates',)) or 1} declares no `updates:`"]


def _locked_folders(repo: Repository, ecosystem: Ecosystem) -> set[PurePosixPath]:
    """Folders holding a lockfile: it covers manifests there and below (workspaces)."""
    locks = repo.find(*ecosystem.lockfiles)
    if ecosystem.pinned_lists:
        locks += [path for path in repo.find(*ecosystem.pinned_lists) if _fully_pinned(repo, path)]
    return {PurePosixPath(path).parent for path in locks}


def _requirements(text: str) -> list[str]:
    """The requirement lines of a pip requirements file, without options and comments."""
    logical = re.sub(r"\\\r?\n", " ", text)
    lines = (
        re.sub(r"(?:^|\s)#.*", "", line).split(" -")[0].strip() for line in logical.splitlines()
    )
    return [line for line in lines if line and not line.startswith("-")]


def _fully_pinned(repo: Repository, path: str) -> bool:
    try:
        requirements = _requirements(repo.read(path))
    except InputError:
        return False
    return bool(requirements) and all(
        _PINNED.fullmatch(line) or " @ " in line for line in requirements
    )


def _pyproject_declares(text: str) -> bool:
    data = tomllib.loads(text)
    project = _table(data, "project")
    poetry = _table(data, "tool", "poetry")
    dynamic = project.get("dynamic")
    return bool(
        project.get("dependencies")
        or project.get("optional-dependencies")
        or (isinstance(dynamic, list) and "dependencies" in dynamic)
        or data.get("dependency-groups")
        or set(_table(poetry, "dependencies")) - {"python"}
        or poetry.get("group")
        or poetry.get("dev-dependencies")
    )


def _package_json_declares(text: str) -> bool:
    data = json.loads(text)
    fields = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
    return isinstance(data, dict) and any(data.get(field) for field in fields)


_DECLARES: dict[str, Callable[[str], bool]] = {
    "pyproject.toml": _pyproject_declares,
    "package.json": _package_json_declares,
    "go.mod": lambda text: re.search(r"^\s*require\b", text, re.MULTILINE) is not None,
    "requirements*.txt": lambda text: bool(_requirements(text)),
    "requirements*.in": lambda text: bool(_requirements(text)),
}


def _declares_dependencies(repo: Repository, path: str) -> bool:
    """Whether a manifest declares any dependency; one that cannot be read is assumed to."""
    name = PurePosixPath(path).name.lower()
    declares = next(
        (test for pattern, test in _DECLARES.items() if fnmatch.fnmatchcase(name, pattern)),
        None,
    )
    if declares is None:
        return True
    try:
        return declares(repo.read(path))
    except (InputError, ValueError, RecursionError):  # TOML and JSON errors are ValueErrors
        return True


def _table(data: Any, *keys: str) -> dict[str, Any]:
    """``data[key][key]…`` when every level is a table, else empty: the file is hostile."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}
