"""Container images pinned by digest: Dockerfile ``FROM`` and workflow containers.

A tag can be pushed again with different content; a digest cannot. Scorecard asks for
digests in Dockerfiles; images a workflow runs its jobs in are the same risk and are checked
too. An unpinned image is a warning, not a failure: the tag is still chosen by the team.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shieldwall.errors import InputError
from shieldwall.scan.posture.model import Finding, Result, Verdict, check, counted, summarise
from shieldwall.scan.posture.repository import Repository
from shieldwall.scan.posture.workflows import workflows

DOCKERFILES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile", "Containerfile.*")

_ARG = re.compile(r"ARG\s+(\w+)=(\S+)", re.IGNORECASE)
_FROM = re.compile(r"FROM\s+(.+)", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


@check(
    "pinned-dependencies-docker",
    "Container images (Dockerfile FROM, workflow container: and services:) are pinned by digest",
)
def pinned_images(repo: Repository) -> Verdict:
    images, unreadable = _images(repo)
    if not images and not unreadable:
        return Verdict(Result.NOT_APPLICABLE, "no Dockerfile and no workflow container images")
    return summarise(
        unreadable
        + [
            Finding(Result.WARN, f"{where} {image}")
            for where, image in images
            if not _pinned(image)
        ],
        advice="pin by digest (image:tag@sha256:…) so a re-pushed tag cannot change what is "
        "built; Dependabot and Renovate keep digests current",
        passed=f"{counted(len(images), 'container image')}, all pinned by digest",
    )


def _pinned(image: str) -> bool:
    return "@sha256:" in image


def _images(repo: Repository) -> tuple[list[tuple[str, str]], list[Finding]]:
    """``(file:line FROM, image)`` for each image, and a finding for each unreadable file."""
    images: list[tuple[str, str]] = []
    unreadable: list[Finding] = []
    for path in repo.find(*DOCKERFILES):
        try:
            text = repo.read(path)
        except InputError as exc:
            unreadable.append(Finding(Result.WARN, exc.message, "it cannot be checked"))
            continue
        images += [(f"{path}:{line} FROM", image) for line, image in base_images(text)]
    for workflow in workflows(repo).parsed.values():
        images += [
            (f"{site.where} image", site.value)
            for job in workflow.jobs
            for site in job.images
            if "${{" not in site.value  # chosen at run time: nothing to judge offline
        ]
    return images, unreadable


def base_images(text: str) -> Iterator[tuple[int, str]]:
    """``(line, image)`` of each ``FROM`` that pulls an image (not ``scratch``, not a stage).

    Global ``ARG`` defaults are substituted, so ``FROM ${BASE}`` is judged by what it pulls.
    """
    stages = {"scratch"}
    arguments: dict[str, str] = {}
    for line, instruction in _instructions(text):
        if argument := _ARG.fullmatch(instruction):
            arguments.setdefault(argument[1], argument[2].strip("\"'"))
        elif source := _FROM.fullmatch(instruction):
            words = [word for word in source[1].split() if not word.startswith("--")]
            if not words:
                continue
            image = _VARIABLE.sub(lambda match: arguments.get(match[1], match[0]), words[0])
            if image.lower() not in stages:
                yield line, image
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())


def _instructions(text: str) -> Iterator[tuple[int, str]]:
    """Dockerfile instructions with ``\\`` continuations joined, each with its first line.

    Comment lines are dropped, inside a continuation too, as Docker does.
    """
    pending: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if line.lstrip().startswith("#"):
            continue
        continued = line.rstrip().endswith("\\")
        pending.append(line.rstrip()[:-1] if continued else line)
        if not continued:
            yield start, " ".join(pending).strip()
            pending = []
    if pending:
        yield start, " ".join(pending).strip()
