"""GitHub Actions workflows, reduced to what the checks need, every value with its line.

The file is hostile and GitHub's own validation has not run on it: any part may be missing or
of the wrong type. A part that is not what GitHub accepts is skipped (GitHub would refuse the
workflow, so it never runs); only a file that cannot be read at all is reported as broken.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shieldwall.errors import InputError
from shieldwall.scan.posture.ci import GITHUB_ACTIONS, ci_files
from shieldwall.scan.posture.repository import Repository, parse_yaml, per_repository
from shieldwall.structured import Loc, LocatedDocument

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


@dataclass(frozen=True)
class Site:
    """A text value in a workflow and the line where it is written."""

    path: str
    line: int
    value: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Permissions:
    """A ``permissions:`` block: its line and what it grants beyond reading."""

    line: int
    writes: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    uses: Site | None
    run: Site | None
    inputs: dict[str, Site]  # `with:`


@dataclass(frozen=True)
class Job:
    name: str
    line: int
    permissions: Permissions | None
    uses: Site | None  # a reusable workflow
    steps: tuple[Step, ...]
    images: tuple[Site, ...]  # `container:` and `services:`


@dataclass(frozen=True)
class Workflow:
    path: str
    lines: tuple[str, ...]
    triggers: frozenset[str]
    permissions: Permissions | None
    jobs: tuple[Job, ...]

    def uses(self) -> Iterator[Site]:
        """Every action and reusable workflow the workflow runs."""
        for job in self.jobs:
            if job.uses:
                yield job.uses
            yield from (step.uses for step in job.steps if step.uses)

    def search_text(self) -> str:
        """What the workflow runs, as text to look for tool names in (comments left out)."""
        parts = [site.value for site in self.uses()]
        for job in self.jobs:
            parts.extend(site.value for site in job.images)
            for step in job.steps:
                if step.run:
                    parts.append(step.run.value)
                parts.extend(f"{name}: {site.value}" for name, site in step.inputs.items())
        return "\n".join(parts)

    def expressions(self, site: Site) -> Iterator[tuple[int, str]]:
        """Each ``${{ }}`` in a value and the line where it is written.

        The loader knows the line of a key, and a block script spans the lines after it. Each
        expression is looked up in the file's text from there on, in order, so the same
        expression written twice gets both its lines. An expression the text does not hold
        verbatim (split over lines, escaped in quotes) is placed on the key's line.
        """
        line, column = site.line - 1, 0
        for match in EXPRESSION.finditer(site.value):
            expression = match.group()
            found = self._find(expression, line, column)
            if found is None:
                yield site.line, expression
                continue
            line, column = found[0], found[1] + len(expression)
            yield line + 1, expression

    def line_of(self, site: Site, fragment: str) -> int:
        """The line of ``fragment``, a text on one line, within the value at ``site``."""
        found = self._find(fragment, site.line - 1, 0)
        return found[0] + 1 if found else site.line

    def _find(self, text: str, line: int, column: int) -> tuple[int, int] | None:
        for index in range(line, len(self.lines)):
            position = self.lines[index].find(text, column if index == line else 0)
            if position >= 0:
                return index, position
        return None


@dataclass(frozen=True)
class Workflows:
    """The repository's workflows: those parsed, and the problem with each that was not."""

    parsed: dict[str, Workflow]
    broken: dict[str, str]

    @property
    def present(self) -> bool:
        return bool(self.parsed or self.broken)


@per_repository
def workflows(repo: Repository) -> Workflows:
    parsed: dict[str, Workflow] = {}
    broken: dict[str, str] = {}
    for file in ci_files(repo):
        if file.system != GITHUB_ACTIONS:
            continue
        if file.text is None:
            broken[file.path] = file.problem
            continue
        try:
            parsed[file.path] = parse_workflow(file.path, file.text)
        except InputError as exc:
            broken[file.path] = exc.message
    return Workflows(parsed, broken)


def parse_workflow(path: str, text: str) -> Workflow:
    """Raises InputError (file and line) for text that is not a YAML mapping."""
    document = parse_yaml(path, text)
    if not isinstance(document.data, dict):
        raise InputError.in_file(path, "not a workflow: the top level is not a mapping", 1)
    return _Reader(path, document).workflow(text)


class _Reader:
    """Builds the typed view of one parsed workflow, taking lines from the located document."""

    def __init__(self, path: str, document: LocatedDocument) -> None:
        self.path = path
        self.document = document

    def workflow(self, text: str) -> Workflow:
        data: dict[str, Any] = self.document.data
        jobs = data.get("jobs")
        return Workflow(
            self.path,
            tuple(text.splitlines()),
            _triggers(data),
            self.permissions(data, ()),
            tuple(
                self.job(name, job)
                for name, job in (jobs.items() if isinstance(jobs, dict) else ())
                if isinstance(job, dict)
            ),
        )

    def job(self, name: str, job: dict[str, Any]) -> Job:
        loc = ("jobs", name)
        steps = job.get("steps")
        return Job(
            name,
            self.line(loc),
            self.permissions(job, loc),
            self.site(job.get("uses"), (*loc, "uses")),
            tuple(
                self.step(step, (*loc, "steps", index))
                for index, step in enumerate(steps if isinstance(steps, list) else ())
                if isinstance(step, dict)
            ),
            tuple(self.images(job, loc)),
        )

    def step(self, step: dict[str, Any], loc: Loc) -> Step:
        given = step.get("with")
        inputs = {
            str(name): site
            for name, value in (given.items() if isinstance(given, dict) else ())
            if (site := self.site(value, (*loc, "with", name)))
        }
        return Step(
            self.site(step.get("uses"), (*loc, "uses")),
            self.site(step.get("run"), (*loc, "run")),
            inputs,
        )

    def images(self, job: dict[str, Any], loc: Loc) -> Iterator[Site]:
        """The job's ``container:`` and ``services:`` images."""
        services = job.get("services")
        candidates = [((*loc, "container"), job.get("container"))] + [
            ((*loc, "services", name), service)
            for name, service in (services.items() if isinstance(services, dict) else ())
        ]
        for where, value in candidates:
            if site := self.image(value, where):
                yield site

    def image(self, value: object, loc: Loc) -> Site | None:
        """``image`` or ``{image: image, …}``."""
        if isinstance(value, dict):
            return self.site(value.get("image"), (*loc, "image"))
        return self.site(value, loc)

    def permissions(self, owner: dict[str, Any], loc: Loc) -> Permissions | None:
        if "permissions" not in owner:
            return None
        return Permissions(self.line((*loc, "permissions")), _writes(owner["permissions"]))

    def site(self, value: object, loc: Loc) -> Site | None:
        return Site(self.path, self.line(loc), value) if isinstance(value, str) else None

    def line(self, loc: Loc) -> int:
        return self.document.line_of(loc) or 1


def _triggers(data: dict[str, Any]) -> frozenset[str]:
    # YAML 1.1 reads the key `on` as the boolean true, which the loader names "True".
    value = data.get("on", data.get("True"))
    if isinstance(value, dict):
        value = list(value)
    elif isinstance(value, str):
        value = [value]
    names = value if isinstance(value, list) else []
    return frozenset(str(name).lower() for name in names)


def _writes(value: object) -> tuple[str, ...]:
    """What a permissions value grants beyond reading: ``write-all``, ``contents: write``, …

    Anything GitHub would not read as read-only (an unknown word, a list) is reported as
    written, so a typo never passes as safe.
    """
    if value == "read-all":
        return ()
    if isinstance(value, dict):
        return tuple(
            f"{scope}: {level}" for scope, level in value.items() if level not in ("read", "none")
        )
    return (str(value),)
