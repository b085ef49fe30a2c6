"""The real OSV records in ../shared/data/osv (Go, crates.io, PyPI): every one parses, and each
record's own events and versions are judged as OSV's evaluation rules say they must be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shieldwall.intel.matching import Index, Match, Verdict, evaluate
from shieldwall.intel.osv import Advisory, Affected, Range, iter_advisories
from tests.conftest import shared_data

pytestmark = pytest.mark.shared_data

FOLDERS = {"go": ("Go", 4291), "crates.io": ("crates.io", 1206), "pypi": ("PyPI", 2661)}
# Records whose ECOSYSTEM range has a bound that is not a PEP 440 version ("fixed" in
# "0.2.0-n653" and "2019-09-12"): such a range cannot be evaluated and gives no verdict.
UNREADABLE_BOUNDS = {"PYSEC-2021-371", "PYSEC-2019-125"}


@pytest.fixture(scope="module")
def advisories() -> dict[str, list[Advisory]]:
    return {folder: list(iter_advisories(shared_data("osv", folder))) for folder in FOLDERS}


@pytest.fixture(scope="module")
def index(advisories: dict[str, list[Advisory]]) -> Index:
    built = Index()
    for advisory in _all(advisories):
        for entry in advisory.affected:
            built.add(advisory.id, entry)
    return built


def _all(advisories: dict[str, list[Advisory]]) -> Iterator[Advisory]:
    for folder in FOLDERS:
        yield from advisories[folder]


def _ranges(entry: Affected) -> list[Range]:
    return [item for item in entry.ranges if item.type != "GIT"]


def _same_package(advisory: Advisory, entry: Affected) -> list[Affected]:
    """The record's entries for the package (Go records may name a module twice)."""
    return [e for e in advisory.affected if e.ecosystem == entry.ecosystem and e.name == entry.name]


def _alone(entry: Affected, item: Range) -> Affected:
    """The package with only this range: what the range on its own says."""
    return Affected(entry.ecosystem, entry.name, entry.purl, (item,), ())


def test_every_record_parses(advisories: dict[str, list[Advisory]]) -> None:
    for folder, (ecosystem, count) in FOLDERS.items():
        records = advisories[folder]
        assert len(records) == count
        assert len({advisory.id for advisory in records}) == count
        assert {e.ecosystem for advisory in records for e in advisory.affected} == {ecosystem}
    # golang/vulndb's source tree leaves `modified` at Go's zero time: unknown, not year 1.
    assert all(advisory.modified is None for advisory in advisories["go"])
    assert all(advisory.modified is not None for advisory in advisories["crates.io"])


def test_each_range_affects_its_introduced_versions_and_not_its_fixed_ones(
    advisories: dict[str, list[Advisory]],
) -> None:
    unjudged: set[str] = set()
    checked = 0
    for advisory in _all(advisories):
        for entry in advisory.affected:
            for item in _ranges(entry):
                alone = _alone(entry, item)
                fixes = {version for kind, version in item.events if kind == "fixed"}
                for kind, version in item.events:
                    verdict = evaluate(alone, version)
                    if verdict is None:
                        unjudged.add(advisory.id)
                        continue
                    checked += 1
                    where = f"{advisory.id} {entry.name} {kind} {version}"
                    if kind == "fixed":
                        assert verdict == Verdict(False, None), where
                    elif kind == "last_affected":
                        assert verdict.affected, where
                    elif kind == "introduced" and version != "0" and version not in fixes:
                        # (Introduced and fixed at one version is an empty range.)
                        assert verdict.affected, where
                        # The fix offered is one of the range's and clears it.
                        assert verdict.fixed is None or verdict.fixed in fixes, where
    assert unjudged == UNREADABLE_BOUNDS
    assert checked > 25_000


def test_the_package_is_affected_by_its_listed_versions_and_the_union_of_its_ranges(
    advisories: dict[str, list[Advisory]],
) -> None:
    listed = 0
    for advisory in _all(advisories):
        for entry in advisory.affected:
            for version in entry.versions:
                listed += 1
                verdict = evaluate(entry, version)
                assert verdict is not None, f"{advisory.id} {version}"
                assert verdict.affected, f"{advisory.id} {version}"
            # A range's fixed version is affected only if listed or inside another range.
            ranges = _ranges(entry)
            for item in ranges:
                for kind, version in item.events:
                    if kind != "fixed" or advisory.id in UNREADABLE_BOUNDS:
                        continue
                    others = (evaluate(_alone(entry, other), version) for other in ranges)
                    expected = version in entry.versions or any(
                        verdict is not None and verdict.affected for verdict in others
                    )
                    verdict = evaluate(entry, version)
                    assert verdict is not None, f"{advisory.id} {version}"
                    assert verdict.affected is expected, f"{advisory.id} {version}"
    assert listed > 50_000


def test_the_index_finds_each_record_at_its_introduced_versions(
    advisories: dict[str, list[Advisory]], index: Index
) -> None:
    """Every 7th record, as a component at each introduced version, must match it (with the
    "v" go.mod writes for Go), and the fix offered must clear every entry of the record."""
    checked = 0
    for advisory in list(_all(advisories))[::7]:
        for entry in advisory.affected:
            same_package = _same_package(advisory, entry)
            for item in _ranges(entry):
                for kind, version in item.events:
                    verdict = evaluate(_alone(entry, item), version)
                    if kind != "introduced" or verdict is None or not verdict.affected:
                        continue
                    component = f"v{version}" if entry.ecosystem == "Go" else version
                    matches = index.match(entry.ecosystem, entry.name, component)
                    found = {match.advisory_id: match for match in matches}
                    assert advisory.id in found, f"{advisory.id} {entry.name} {component}"
                    checked += 1
                    fix = found[advisory.id].fixed
                    if fix is not None:
                        for other in same_package:
                            after = evaluate(other, fix)
                            assert after is None or not after.affected, f"{advisory.id} {fix}"
    assert checked > 1_000


def test_the_index_does_not_match_a_version_every_entry_clears(
    advisories: dict[str, list[Advisory]], index: Index
) -> None:
    checked = 0
    for advisory in list(_all(advisories))[::7]:
        for entry in advisory.affected:
            for item in _ranges(entry):
                for kind, version in item.events:
                    if kind != "fixed":
                        continue
                    verdicts = [evaluate(e, version) for e in _same_package(advisory, entry)]
                    if not all(v is not None and not v.affected for v in verdicts):
                        continue
                    ids = [m.advisory_id for m in index.match(entry.ecosystem, entry.name, version)]
                    assert advisory.id not in ids, f"{advisory.id} {entry.name} {version}"
                    checked += 1
    assert checked > 1_000


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "expected"),
    [
        # PYSEC-2019-217 (fixed 2.10.1) and PYSEC-2021-66 (fixed 2.11.3) of five Jinja2 records.
        (
            "PyPI",
            "Jinja2",
            "2.10",
            [Match("PYSEC-2019-217", "2.10.1"), Match("PYSEC-2021-66", "2.11.3")],
        ),
        ("PyPI", "jinja2", "2.10.1", [Match("PYSEC-2021-66", "2.11.3")]),
        ("PyPI", "jinja2", "2.11.3", []),
        # PYSEC-2023-74 (requests, CVE-2023-32681): introduced 2.3.0, fixed 2.31.0.
        ("PyPI", "requests", "2.30.0", [Match("PYSEC-2023-74", "2.31.0")]),
        ("PyPI", "requests", "2.31.0", []),
        # GO-2020-0012 (golang.org/x/crypto): fixed in a pseudo-version.
        (
            "Go",
            "golang.org/x/crypto",
            "v0.0.0-20200219234226-1ad67e1f0ef4",
            [Match("GO-2020-0012", "0.0.0-20200220183623-bac4c82f6975")],
        ),
        # GO-2021-0159 (stdlib, net/http): fixed in Go 1.4.3.
        ("Go", "stdlib", "go1.4.2", [Match("GO-2021-0159", "1.4.3")]),
    ],
)
def test_known_records(
    index: Index, ecosystem: str, name: str, version: str, expected: list[Match]
) -> None:
    found = index.match(ecosystem, name, version)
    if ecosystem == "Go":  # a Go module has many records: only the one named is asserted
        assert [m for m in found if m.advisory_id in {e.advisory_id for e in expected}] == expected
    else:
        assert found == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # RUSTSEC-2020-0071 (time): below 0.2.0 and from 0.2.7 to 0.2.23, plus only the
        # pre-releases of 0.2.1 to 0.2.6 (introduced "0.2.1-0", fixed "0.2.1"...).
        ("0.1.45", Verdict(True, "0.2.0")),
        ("0.2.0", Verdict(False, None)),
        ("0.2.1-beta.1", Verdict(True, "0.2.1")),
        ("0.2.1", Verdict(False, None)),
        ("0.2.6", Verdict(False, None)),
        ("0.2.7", Verdict(True, "0.2.23")),
        ("0.2.22", Verdict(True, "0.2.23")),
        ("0.2.23", Verdict(False, None)),
        ("0.3.0", Verdict(False, None)),
    ],
)
def test_rustsec_time_prerelease_ranges(
    advisories: dict[str, list[Advisory]], version: str, expected: Verdict
) -> None:
    (advisory,) = [a for a in advisories["crates.io"] if a.id == "RUSTSEC-2020-0071"]
    (entry,) = advisory.affected
    assert entry.name == "time"
    assert evaluate(entry, version) == expected
