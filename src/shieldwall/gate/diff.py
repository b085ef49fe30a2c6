"""Which lines a change touched: ``git diff`` from where the branch left ``--base-ref`` to
the working tree, so that the diff-aware gate counts only findings on those lines.

The comparison starts at the merge base, as a pull request's diff does: commits that
landed on the base branch since the branch was cut are not the change's doing.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from shieldwall.errors import InputError

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_TIMEOUT = 300
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b"}


@dataclass
class ChangedLines:
    """Lines added or changed, per path relative to the repository root."""

    base: str
    lines: dict[str, set[int]] = field(default_factory=dict)
    root: str = ""
    """The repository's absolute path, stripped from absolute paths in reports."""

    def touches(self, path: str | None, line: int | None) -> bool:
        """Whether a finding at ``path``/``line`` is in the change. A finding with no
        path (a package, an image) is counted: the change cannot be ruled out."""
        if not path:
            return True
        changed = self.lines.get(self._relative(path))
        if changed is None:
            return False
        return line is None or line in changed

    def _relative(self, path: str) -> str:
        """A report's path as the diff names it: no ``file://``, repository root or ``./``."""
        path = path.removeprefix("file://")
        if self.root and path.startswith(self.root + "/"):
            path = path[len(self.root) + 1 :]
        while path.startswith("./"):
            path = path[2:]
        return path

    def as_json(self) -> dict[str, list[int]]:
        return {path: sorted(lines) for path, lines in self.lines.items()}

    @classmethod
    def from_json(cls, base: str, value: object) -> ChangedLines:
        if not isinstance(value, dict) or not all(
            isinstance(path, str)
            and isinstance(lines, list)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in lines)
            for path, lines in value.items()
        ):
            raise InputError("changed lines must map paths to lists of line numbers")
        return cls(base, {path: set(lines) for path, lines in value.items()})


def changed_lines(repository: Path, base_ref: str) -> ChangedLines:
    if base_ref.startswith("-") or not base_ref.strip():
        raise InputError(f"--base-ref {base_ref[:80]!r} is not a git reference")
    root = _git(repository, "rev-parse", "--show-toplevel").decode().strip()
    merge_base = _git(repository, "merge-base", base_ref, "HEAD").decode().strip()
    patch = _git(
        repository,
        "-c",
        "core.quotePath=true",
        "diff",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        merge_base,
        "--",
    )
    return ChangedLines(base_ref, parse_patch(patch), root)


def parse_patch(patch: bytes) -> dict[str, set[int]]:
    """Added lines per new path, from a unified diff with no context lines."""
    found: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in patch.split(b"\n"):
        if line.startswith(b"+++ "):
            target = line[4:]
            current = None if target == b"/dev/null" else found.setdefault(_path(target), set())
        elif current is not None and line.startswith(b"@@"):
            hunk = _HUNK.match(line)
            if hunk:
                start, count = int(hunk[1]), int(hunk[2] if hunk[2] is not None else 1)
                current.update(range(start, start + count))
    return found


def _path(target: bytes) -> str:
    """``b/src/app.py`` or, for names git quotes, ``"b/caf\\303\\251.py"``."""
    if target.startswith(b'"') and target.endswith(b'"'):
        target = _unquote(target[1:-1])
    text = target.decode("utf-8", "replace")
    return text[2:] if text.startswith("b/") else text


def _unquote(quoted: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(quoted):
        if quoted[i : i + 1] == b"\\" and i + 1 < len(quoted):
            octal = quoted[i + 1 : i + 4]
            if re.fullmatch(rb"[0-7]{3}", octal):
                out.append(int(octal, 8))
                i += 4
                continue
            out += _ESCAPES.get(quoted[i + 1 : i + 2], quoted[i + 1 : i + 2])
            i += 2
        else:
            out += quoted[i : i + 1]
            i += 1
    return bytes(out)


def _git(repository: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - git with our own arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=repository,
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("--base-ref needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} took longer than {_TIMEOUT} s") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise InputError(f"--base-ref: git failed: {problem[0][:200]}")
    return done.stdout
