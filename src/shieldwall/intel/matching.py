"""Does an advisory affect a component version? OSV's evaluation rules over univers' versions.

A ``SEMVER`` range compares as semantic versions whatever its ecosystem; an ``ECOSYSTEM``
range and the enumerated ``versions`` compare as the ecosystem's package manager does (PEP 440
for PyPI, Debian's rules for Debian and Ubuntu...). ``GIT`` ranges name commits, which a
component version is not, so they take no part. An answer is given only when it is certain:
a version or a range bound that does not parse in its scheme, or an ecosystem whose ordering
is unknown, gives no verdict rather than a guess (an enumerated version still matches exactly).

Spec: https://ossf.github.io/osv-schema/#evaluation
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from univers.versions import (
    AlpineLinuxVersion,
    ComposerVersion,
    DebianVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RpmVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

from shieldwall.intel.osv import MAX_VERSION, Affected

# How each ecosystem family orders its versions. Go needs no class of its own: univers'
# semantic versions already accept the "v" prefix Go writes and the records leave out, and a
# pseudo-version (v0.0.0-20200101-abcdef) is a pre-release of its base version, as in Go.
_SCHEMES: dict[str, type[Any]] = {
    "PyPI": PypiVersion,
    "npm": SemverVersion,
    "Go": SemverVersion,
    "crates.io": SemverVersion,
    "Hex": SemverVersion,
    "Pub": SemverVersion,
    "Maven": MavenVersion,
    "RubyGems": RubygemsVersion,
    "NuGet": NugetVersion,
    "Packagist": ComposerVersion,
    "Debian": DebianVersion,
    "Ubuntu": DebianVersion,
    "Alpine": AlpineLinuxVersion,
    "Wolfi": AlpineLinuxVersion,
    "Chainguard": AlpineLinuxVersion,
    "Red Hat": RpmVersion,
    "Rocky Linux": RpmVersion,
    "AlmaLinux": RpmVersion,
    "SUSE": RpmVersion,
    "openSUSE": RpmVersion,
    "Mageia": RpmVersion,
    "Photon OS": RpmVersion,
    "openEuler": RpmVersion,
}
_FAMILIES = {family.lower(): family for family in _SCHEMES}
_SEMVER = "SEMVER"
_CLASSES = {**_SCHEMES, _SEMVER: SemverVersion}
_PYPI_SEPARATORS = re.compile(r"[-_.]+")
_ENDS = frozenset({"fixed", "last_affected"})
# Go toolchains tag releases "go1.21.0", and SBOM tools (Syft) report the standard library so.
_GO_RELEASE_TAG = re.compile(r"^go(?=[0-9])")


def ecosystem_family(ecosystem: str) -> str:
    """The ecosystem without its release or repository ("Debian:11" -> "Debian"), spelled as
    OSV spells it when known ("pypi" -> "PyPI")."""
    family = ecosystem.partition(":")[0].strip()
    return _FAMILIES.get(family.lower(), family)


def package_name_key(ecosystem: str, name: str) -> str:
    """The name as the ecosystem's registry compares names.

    PyPI: PEP 503. crates.io: case and ``-``/``_`` do not tell crates apart. NuGet and
    Packagist: case-insensitive. npm, RubyGems, Go modules, Maven ``group:artifact``, Hex, Pub
    and the distributions: exact (npm and RubyGems still serve legacy names that differ only
    in case, such as JSONStream, as distinct packages).
    """
    name = name.strip()
    family = ecosystem_family(ecosystem)
    if family == "PyPI":
        return _PYPI_SEPARATORS.sub("-", name).lower()
    if family == "crates.io":
        return name.lower().replace("_", "-")
    if family in ("NuGet", "Packagist"):
        return name.lower()
    return name


def _release(ecosystem: str) -> str:
    """What follows the family ("11" in "Debian:11"): empty means every release."""
    return ecosystem.partition(":")[2].strip()


@dataclass(frozen=True, slots=True)
class Verdict:
    affected: bool
    fixed: str | None
    """The lowest fixed version above the given one that is itself not affected (what to
    upgrade to); None when not affected or when no fix is known."""


@dataclass(frozen=True, slots=True)
class Match:
    advisory_id: str
    fixed: str | None


@lru_cache(maxsize=1 << 18)
def _parse(scheme: str, text: str) -> Any | None:
    """The version in ``scheme`` (a family, or SEMVER) as an orderable object, or None.

    Cached: the same versions recur across records and components, and parsing costs
    several microseconds. Where univers orders its versions by their ``value`` alone (the
    attrs-generated comparison, all but the Gentoo-derived Alpine ones), the value is
    returned: the same order, five times faster to compare than through attrs' tuples.
    """
    if not text:  # univers accepts "" for some schemes and then fails to compare it
        return None
    try:
        version = _CLASSES[scheme](text)
    except Exception:  # univers' parsers raise assorted types on garbage
        return None
    return version.value if type(version).__lt__ is Version.__lt__ else version


@dataclass(frozen=True, slots=True)
class _Fix:
    """A fixed version, ordered by (scheme, version) so that versions of two schemes are
    never compared with each other."""

    scheme: str
    version: Any
    text: str


@dataclass(frozen=True, slots=True)
class _Hits:
    affected: bool
    fixes: tuple[_Fix, ...]
    """The fix of each range that affects the version."""


class _CompiledRange:
    """A range's events parsed and sorted once (introduced before fixed at equal versions),
    so that evaluating a version is a binary search."""

    __slots__ = ("bounds", "from_zero", "kinds", "limits", "scheme", "texts")

    def __init__(self, scheme: str, events: Sequence[tuple[str, str]]) -> None:
        self.scheme = scheme
        self.from_zero = False
        limits: list[Any] = []
        unlimited = False  # a limit containing "*" is infinity
        ordered: list[tuple[Any, bool, str, str]] = []
        for kind, text in events:
            if kind == "introduced" and text == "0":
                self.from_zero = True
            elif kind == "limit":
                unlimited = unlimited or "*" in text
                if not unlimited:
                    limits.append(self._bound(text))
            else:
                ordered.append((self._bound(text), kind != "introduced", kind, text))
        # None: no limit (the implicit "*"), the version only has to be below one of them.
        self.limits = None if unlimited or not limits else limits
        ordered.sort(key=lambda event: (event[0], event[1]))
        self.bounds = [event[0] for event in ordered]
        self.kinds = [event[2] for event in ordered]
        self.texts = [event[3] for event in ordered]

    def _bound(self, text: str) -> Any:
        version = _parse(self.scheme, text)
        if version is None:
            raise _Unreadable(text)
        return version

    def hit(self, version: Any) -> tuple[bool, _Fix | None]:
        """Whether ``version`` is in the range, and the range's fix if it is and has one.

        The spec's walk over the sorted events leaves the state of the last event that
        applies: introduced and fixed apply from their version, last_affected above it.
        """
        if self.limits is not None and not any(version < limit for limit in self.limits):
            return False, None
        end = bisect_right(self.bounds, version)
        last = end - 1
        while (
            last >= 0 and self.kinds[last] == "last_affected" and not (self.bounds[last] < version)
        ):
            last -= 1
        if not (self.kinds[last] == "introduced" if last >= 0 else self.from_zero):
            return False, None
        # The range ends at the next fixed or last_affected event; only a fixed one says
        # where to go.
        for i in range(last + 1, len(self.kinds)):
            if self.kinds[i] in _ENDS:
                if self.kinds[i] == "fixed":
                    return True, _Fix(self.scheme, self.bounds[i], self.texts[i])
                break
        return True, None


class _Unreadable(Exception):
    """A range bound that does not parse: the range cannot be evaluated."""


class _Compiled:
    """One Affected entry, compiled on first use (most entries of an index are never asked)."""

    __slots__ = ("_listed", "_listed_texts", "_ranges", "_scheme", "affected")

    def __init__(self, affected: Affected) -> None:
        self.affected = affected
        family = ecosystem_family(affected.ecosystem)
        self._scheme = family if family in _SCHEMES else None
        self._listed_texts: frozenset[str] = frozenset()
        self._listed: list[Any] = []
        self._ranges: list[_CompiledRange | None] | None = None

    def _compile(self) -> list[_CompiledRange | None]:
        ranges: list[_CompiledRange | None] = []
        for item in self.affected.ranges:
            if item.type not in (_SEMVER, "ECOSYSTEM"):
                continue  # GIT: commits
            scheme = _SEMVER if item.type == _SEMVER else self._scheme
            try:
                ranges.append(_CompiledRange(scheme, item.events) if scheme else None)
            except _Unreadable:
                ranges.append(None)
        self._listed_texts = frozenset(self.affected.versions)
        if self._scheme is not None:
            listed = (_parse(self._scheme, text) for text in self.affected.versions)
            # Those that do not parse still match as exact strings.
            self._listed = sorted(version for version in listed if version is not None)
        self._ranges = ranges
        return ranges

    def hits(self, text: str) -> _Hits | None:
        """Whether ``text`` is affected and the fixes of the ranges that say so; None when
        that cannot be told."""
        ranges = self._ranges if self._ranges is not None else self._compile()
        text = text.strip()
        if len(text) > MAX_VERSION:  # from a hostile SBOM: not worth a parser's time
            return None
        if self._scheme == "Go":
            text = _GO_RELEASE_TAG.sub("", text)
        unknown = not ranges and not self._listed_texts  # nothing to compare with
        affected = text in self._listed_texts
        if not affected and self._scheme is not None and self._listed:
            version = _parse(self._scheme, text)
            if version is None:
                unknown = True
            else:
                i = bisect_left(self._listed, version)
                affected = i < len(self._listed) and not version < self._listed[i]
        fixes: list[_Fix] = []
        for compiled in ranges:
            version = _parse(compiled.scheme, text) if compiled is not None else None
            if compiled is None or version is None:
                unknown = True
                continue
            inside, fix = compiled.hit(version)
            affected = affected or inside
            if fix is not None:
                fixes.append(fix)
        if not affected and unknown:
            return None
        return _Hits(affected, tuple(fixes))


def _verdict(entries: Sequence[_Compiled], version: str) -> Verdict | None:
    """One verdict over entries that describe the same package for one advisory. The fix is
    the lowest candidate that no entry says is affected: where ranges overlap, the lowest fix
    of one can still be inside another."""
    results = [entry.hits(version) for entry in entries]
    known = [result for result in results if result is not None]
    if not any(result.affected for result in known):
        return Verdict(affected=False, fixed=None) if known else None
    # Deduplicated by text: some schemes' versions (Alpine's) cannot be hashed.
    unique = {fix.text: fix for result in known for fix in result.fixes}
    candidates = sorted(unique.values(), key=lambda fix: (fix.scheme, fix.version))
    for fix in candidates:
        if not any((hits := entry.hits(fix.text)) and hits.affected for entry in entries):
            return Verdict(affected=True, fixed=fix.text)
    return Verdict(affected=True, fixed=None)


@lru_cache(maxsize=4096)
def _compiled(affected: Affected) -> _Compiled:
    return _Compiled(affected)


def evaluate(affected: Affected, version: str) -> Verdict | None:
    """Whether ``version`` of the package is affected; None when it cannot be told (the
    version does not parse in the ecosystem, or the ranges cannot be evaluated)."""
    return _verdict([_compiled(affected)], version)


class Index:
    """Advisories indexed by (ecosystem family, package name key) for fast lookups."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[tuple[str, str, _Compiled]]] = {}

    def add(self, advisory_id: str, affected: Affected) -> None:
        key = (
            ecosystem_family(affected.ecosystem),
            package_name_key(affected.ecosystem, affected.name),
        )
        entry = (advisory_id, _release(affected.ecosystem), _Compiled(affected))
        self._entries.setdefault(key, []).append(entry)

    def match(self, ecosystem: str, name: str, version: str) -> list[Match]:
        """The advisories that affect the component, one per id, sorted by id.

        A release on only one side matches every release ("Debian" finds the "Debian:11"
        and "Debian:12" records; a "Debian" record, without a release, applies to all).
        """
        key = (ecosystem_family(ecosystem), package_name_key(ecosystem, name))
        entries = self._entries.get(key)
        if not entries:
            return []
        release = _release(ecosystem)
        by_id: dict[str, list[_Compiled]] = {}
        for advisory_id, entry_release, compiled in entries:
            if not release or not entry_release or release == entry_release:
                by_id.setdefault(advisory_id, []).append(compiled)
        matches: list[Match] = []
        for advisory_id in sorted(by_id):
            verdict = _verdict(by_id[advisory_id], version)
            if verdict is not None and verdict.affected:
                matches.append(Match(advisory_id, verdict.fixed))
        return matches
