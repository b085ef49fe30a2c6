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


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    ignore = folder / ".gitignore"
    try:
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk(root: Path, stats: WalkStats | None = None) -> Iterator[SourceFile]:
    """The text files under ``root`` (a file is walked as itself), in a stable order."""
    stats = stats if stats is not None else WalkStats()
    if root.is_file():
        source = _read(root, root.name, stats)
        if source is not None:
            yield source
        return
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        base = here.relative_to(root).as_posix()
        base = "" if base == "." else base + "/"
        specs = [(prefix, spec) for prefix, spec in specs if base.startswith(prefix)]
        spec = _ignore_spec(here)
        if spec is not None:
            specs.append((base, spec))

        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIPPED_FOLDERS
            and not (here / d).is_symlink()
            and not _ignored(specs, f"{base}{d}/")
        )
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink() or _ignored(specs, base + name):
                continue
            source = _read(path, base + name, stats)
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
