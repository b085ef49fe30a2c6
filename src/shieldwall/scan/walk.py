"""The files a scan reads: one walk of the tree that honours ``.gitignore`` files (each in
its own folder, as git does), leaves out version-control, vendored and generated folders,
and reads each file once, so every scanner of ``shieldwall scan`` shares the pass."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "third_party",
        "third-party",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        ".gradle",
        ".idea",
        "site-packages",
    }
)
"""Folders of other people's code or of tools' state: their secrets and vulnerabilities are
found where they are maintained (dependencies are scanned from the lockfiles)."""

MAX_FILE_BYTES = 10 * 1024 * 1024
_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    relative: str
    """The path from the scanned root, with ``/`` separators (what reports show)."""
    text: str


@dataclass
class WalkStats:
    files: int = 0
    bytes: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    unreadable: int = 0


_MAX_IGNORE_BYTES = 1_000_000


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    """The folder's ``.gitignore``; an unreadable, linked or huge one counts as absent (a
    hostile checkout could link it to a device)."""
    ignore = folder / ".gitignore"
    try:
        if not ignore.is_file() or ignore.is_symlink():
            return None
        if ignore.stat().st_size > _MAX_IGNORE_BYTES:
            return None
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def tree_files(root: Path, skipped: frozenset[str] = SKIPPED_FOLDERS) -> Iterator[str]:
    """The relative POSIX paths of the regular files under ``root`` that git would commit:
    every ``.gitignore`` applies to its own folder and below, and ignored or ``skipped``
    folders are pruned, not descended into. Links are not followed and devices or pipes are
    not listed, so a hostile checkout cannot make a reader leave it or block."""
    # A stack, not recursion: a hostile checkout may nest folders past Python's stack.
    pending: list[tuple[str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [("", [])]
    while pending:
        base, specs = pending.pop()
        spec = _ignore_spec(root / base)
        if spec is not None:
            specs = [*specs, (base, spec)]
        try:
            with os.scandir(root / base) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:  # an unreadable folder: read what can be read
            continue
        folders = []
        for entry in entries:  # the entry's type is known without another system call
            path = base + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in skipped and not _ignored(specs, path + "/"):
                    folders.append((path + "/", specs))
            elif entry.is_file(follow_symlinks=False) and not _ignored(specs, path):
                yield path
        pending += reversed(folders)


def walk(root: Path, stats: WalkStats | None = None) -> Iterator[SourceFile]:
    """The text files under ``root`` (a file is walked as itself), in a stable order."""
    stats = stats if stats is not None else WalkStats()
    if root.is_file():
        source = _read(root, root.name, stats)
        if source is not None:
            yield source
        return
    for relative in tree_files(root):
        source = _read(root / relative, relative, stats)
        if source is not None:
            yield source


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], path: str) -> bool:
    """Whether a .gitignore of a folder above ``path`` (its prefix) ignores it."""
    return any(spec.match_file(path[len(prefix) :]) for prefix, spec in specs)


def _read(path: Path, relative: str, stats: WalkStats) -> SourceFile | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            stats.skipped_large += 1
            return None
        data = path.read_bytes()
    except OSError:
        stats.unreadable += 1
        return None
    if b"\0" in data[:_SNIFF]:
        stats.skipped_binary += 1
        return None
    stats.files += 1
    stats.bytes += len(data)
    return SourceFile(path, relative, data.decode("utf-8", errors="replace"))
