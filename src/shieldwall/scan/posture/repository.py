"""The files of one working tree, as git would commit them, read only within limits.

Posture reads a checkout offline, so "committed" is approximated by the working tree minus
the folders that are never source (dependencies, virtual environments, build output) and minus
what the ``.gitignore`` files exclude: an ignored lockfile is not a committed lockfile. The
list is the scan's (``scan.walk.tree_files``): only regular files, links not followed, so a
hostile checkout cannot make posture read outside it or block on a device.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeVar, cast

from pathspec import GitIgnoreSpec

from shieldwall.errors import InputError
from shieldwall.scan.walk import tree_files
from shieldwall.structured import LocatedDocument, load_yaml

MAX_FILE_BYTES = 1_000_000

SKIPPED_FOLDERS = frozenset(
    {".git", "node_modules", "vendor", ".venv", "venv", "third_party", "dist", "build"}
)
# Inputs to tests, not part of what is built or deployed: a package.json under
# tests/fixtures/ is a parser's test case, not a dependency manifest. Only `find` skips them;
# binary artifacts are looked for everywhere (the xz backdoor hid in test files).
TEST_DATA_FOLDERS = frozenset({"fixtures", "testdata", "test-data", "__fixtures__"})

T = TypeVar("T")


class Repository:
    """A folder to check: its file list, made once, and bounded reads of its files."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InputError.in_file(root, "not a folder (posture checks a repository checkout)")
        self.root = root
        self.files: tuple[str, ...] = tuple(sorted(tree_files(root, SKIPPED_FOLDERS)))
        self._listed = frozenset(self.files)
        self._lowered = [(path.lower(), path) for path in self.files]
        self._names = [PurePosixPath(lowered).name for lowered, _ in self._lowered]
        self._memo: dict[object, object] = {}

    def has(self, path: str) -> bool:
        return path in self._listed

    def find(self, *patterns: str) -> list[str]:
        """Files matching gitignore-style ``patterns``, ignoring case, outside test data.

        Gitignore syntax says what is meant: ``/LICENSE*`` only at the top, ``Dockerfile`` at
        any depth, ``.github/workflows/*.yml`` only directly in that folder. Case is ignored
        because ``dockerfile``, ``Security.md`` and ``license`` are all found in the wild.
        A file's own name must match a pattern's last part (a folder named ``Dockerfile`` does
        not make its contents Dockerfiles), and a pattern without a slash is decided by the
        name alone; testing names first keeps a search of a hundred thousand paths fast.
        """
        lowered = [pattern.lower() for pattern in patterns]
        anywhere = _any_name([pattern for pattern in lowered if "/" not in pattern])
        placed = [pattern for pattern in lowered if "/" in pattern]
        placed_names = _any_name([PurePosixPath(pattern).name for pattern in placed])
        spec = GitIgnoreSpec.from_lines(placed)
        return [
            path
            for name, (lowered_path, path) in zip(self._names, self._lowered, strict=True)
            if (
                anywhere.match(name) or (placed_names.match(name) and spec.match_file(lowered_path))
            )
            and TEST_DATA_FOLDERS.isdisjoint(PurePosixPath(lowered_path).parts[:-1])
        ]

    def first(self, *patterns: str) -> str | None:
        """The first file found, trying ``patterns`` in order of preference."""
        return next((path for pattern in patterns for path in self.find(pattern)), None)

    def read(self, path: str) -> str:
        """The text of a listed file; InputError (naming the file) when it cannot be used."""
        data = self._read_bytes(path, MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputError.in_file(path, f"larger than the limit of {MAX_FILE_BYTES} bytes")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError.in_file(path, "not UTF-8 text") from exc

    def read_yaml(self, path: str) -> LocatedDocument:
        """A listed YAML file, parsed safely (see shieldwall.structured)."""
        return parse_yaml(path, self.read(path))

    def head(self, path: str, size: int) -> bytes:
        """The first ``size`` bytes of a listed file (empty when it cannot be read)."""
        try:
            return self._read_bytes(path, size)
        except InputError:
            return b""

    def memo(self, compute: Callable[[Repository], T]) -> T:
        """``compute(self)``, once: several checks share the parsed workflows and CI files."""
        if compute not in self._memo:
            self._memo[compute] = compute(self)
        return cast(T, self._memo[compute])

    def _read_bytes(self, path: str, size: int) -> bytes:
        if path not in self._listed:
            raise InputError.in_file(path, "no such file")
        try:
            with (self.root / path).open("rb") as stream:
                return stream.read(size)
        except OSError as exc:
            raise InputError.in_file(path, f"cannot read: {exc.strerror}") from exc


def per_repository(compute: Callable[[Repository], T]) -> Callable[[Repository], T]:
    """Make ``compute`` run once per repository however many checks ask for it."""

    @functools.wraps(compute)
    def shared(repo: Repository) -> T:
        return repo.memo(compute)

    return shared


def _any_name(globs: list[str]) -> re.Pattern[str]:
    """One regular expression for file-name globs; with none, it matches nothing."""
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs) or "(?!)")


def parse_yaml(path: str, text: str) -> LocatedDocument:
    """Safe YAML with every value's line; InputError (file and line) for anything else."""
    return load_yaml(Path(path), text)
