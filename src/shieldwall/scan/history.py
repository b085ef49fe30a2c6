"""Secrets in git history (``shieldwall scan --history``): the lines each commit added,
scanned as they were written. A secret removed from the code is still in every clone until
it is rotated, so history matters as much as the tree."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from shieldwall.errors import InputError
from shieldwall.scan.secrets.engine import SecretMatch, SecretScanner
from shieldwall.scan.walk import SKIPPED_FOLDERS

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_COMMIT = "commit:"


@dataclass
class _Hunk:
    path: str
    lines: list[tuple[int, str]]


def scan_history(root: Path, scanner: SecretScanner) -> Iterator[SecretMatch]:
    """Every secret an earlier commit added (the newest commit first), with its commit."""
    git = shutil.which("git")
    if git is None:
        raise InputError("--history needs git, which is not on PATH")
    try:
        log = subprocess.Popen(  # noqa: S603 - git with our arguments, no shell
            [
                git,
                "-C",
                str(root),
                "log",
                "--all",
                "--no-color",
                "--no-merges",
                "-p",
                "-U0",
                "--no-ext-diff",
                f"--format={_COMMIT}%H",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise InputError.in_file(root, f"--history needs git: {exc.strerror}") from None
    assert log.stdout is not None
    commit = ""
    for hunk_commit, hunk in _hunks(line.decode("utf-8", "replace") for line in log.stdout):
        commit = hunk_commit
        if SKIPPED_FOLDERS.intersection(hunk.path.split("/")[:-1]):
            continue  # vendored code, as in the tree
        text = "\n".join(added for _, added in hunk.lines)
        for match in scanner.scan(text, hunk.path):
            number = hunk.lines[match.line - 1][0]
            end = number + match.end_line - match.line
            yield replace(match, line=number, end_line=end, commit=commit)
    if log.wait() != 0:
        problem = log.stderr.read().decode("utf-8", "replace").strip() if log.stderr else ""
        if not commit:
            raise InputError.in_file(root, f"not a git repository ({problem[:200]})")


def _hunks(lines: Iterator[str]) -> Iterator[tuple[str, _Hunk]]:
    commit, path = "", ""
    hunk: _Hunk | None = None
    number = 0
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith(_COMMIT):
            if hunk and hunk.lines:
                yield commit, hunk
            commit, hunk = line[len(_COMMIT) :], None
        elif line.startswith("+++ "):
            if hunk and hunk.lines:
                yield commit, hunk
            hunk = None
            target = line[4:]
            path = target[2:] if target.startswith("b/") else ""
        elif line.startswith("@@"):
            if hunk and hunk.lines:
                yield commit, hunk
            found = _HUNK.match(line)
            number = int(found.group(1)) if found else 0
            hunk = _Hunk(path, []) if path else None
        elif hunk is not None and line.startswith("+"):
            hunk.lines.append((number, line[1:]))
            number += 1
    if hunk and hunk.lines:
        yield commit, hunk
