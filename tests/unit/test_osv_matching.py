"""OSV records read from files, folders and zips, and components matched against them."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from shieldwall.errors import InputError
from shieldwall.intel.matching import (
    Index,
    Match,
    Verdict,
    ecosystem_family,
    evaluate,
    package_name_key,
)
from shieldwall.intel.osv import Affected, Range, iter_advisories, parse_advisory

Event = tuple[str, str]


def ranged(
    ecosystem: str,
    *events: Event,
    range_type: str = "ECOSYSTEM",
    versions: tuple[str, ...] = (),
    name: str = "pkg",
) -> Affected:
    """A package with one range (none when no events are given)."""
    ranges = (Range(range_type, events),) if events else ()
    return Affected(ecosystem, name, None, ranges, versions)


def record(vuln_id: str = "OSV-1", **fields: Any) -> dict[str, Any]:
    return {"id": vuln_id, "affected": [], **fields}


# --- evaluating versions ----------------------------------------------------------------------

DJANGO_BRANCHES = Affected(
    "PyPI",
    "django",
    "pkg:pypi/django",
    (
        Range(
            "ECOSYSTEM",
            (
                ("introduced", "0"),
                ("fixed", "2.2.25"),
                ("introduced", "3.0"),
                ("fixed", "3.1.14"),
                ("introduced", "3.2"),
                ("fixed", "3.2.10"),
            ),
        ),
    ),
    (),
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.11", Verdict(True, "2.2.25")),
        ("2.2.24", Verdict(True, "2.2.25")),
        ("2.2.25", Verdict(False, None)),
        ("2.2.26", Verdict(False, None)),  # between branches: a fixed 2.2 release
        ("3.0", Verdict(True, "3.1.14")),
        ("3.1.13", Verdict(True, "3.1.14")),
        ("3.1.14", Verdict(False, None)),
        ("3.2rc1", Verdict(False, None)),  # PEP 440: a pre-release sorts before 3.2
        ("3.2.9", Verdict(True, "3.2.10")),
        ("3.2.10", Verdict(False, None)),
        ("4.0", Verdict(False, None)),
        ("v3.2.1", Verdict(True, "3.2.10")),  # PEP 440 allows the "v"
        ("3.2.9.0", Verdict(True, "3.2.10")),
    ],
)
def test_pypi_branches_each_give_their_own_fix(version: str, expected: Verdict) -> None:
    assert evaluate(DJANGO_BRANCHES, version) == expected


def test_events_written_out_of_order_are_sorted_by_version() -> None:
    shuffled = ranged("PyPI", ("fixed", "2.0"), ("introduced", "1.0"), ("fixed", "1.5"))
    assert evaluate(shuffled, "1.2") == Verdict(True, "1.5")
    assert evaluate(shuffled, "1.7") == Verdict(False, None)


def test_separate_ranges_of_one_package_are_each_evaluated() -> None:
    two = Affected(
        "PyPI",
        "pkg",
        None,
        (
            Range("ECOSYSTEM", (("introduced", "1.0"), ("fixed", "1.1"))),
            Range("ECOSYSTEM", (("introduced", "2.0"), ("fixed", "2.1"))),
        ),
        (),
    )
    assert evaluate(two, "1.0.5") == Verdict(True, "1.1")
    assert evaluate(two, "2.0.5") == Verdict(True, "2.1")
    assert evaluate(two, "1.5") == Verdict(False, None)


def test_the_fix_offered_is_not_itself_inside_an_overlapping_range() -> None:
    overlapping = Affected(
        "PyPI",
        "pkg",
        None,
        (
            Range("ECOSYSTEM", (("introduced", "0"), ("fixed", "3.0"))),
            Range("ECOSYSTEM", (("introduced", "2.0"), ("fixed", "2.5"))),
        ),
        (),
    )
    assert evaluate(overlapping, "2.2") == Verdict(True, "3.0")


def test_introduced_and_fixed_at_one_version_affect_nothing() -> None:
    empty = ranged("PyPI", ("introduced", "1.0"), ("fixed", "1.0"))
    assert evaluate(empty, "1.0") == Verdict(False, None)


def test_last_affected_is_inclusive_and_offers_no_fix() -> None:
    up_to = ranged("npm", ("introduced", "1.0.0"), ("last_affected", "1.4.0"), range_type="SEMVER")
    assert evaluate(up_to, "1.4.0") == Verdict(True, None)
    assert evaluate(up_to, "1.0.0") == Verdict(True, None)
    assert evaluate(up_to, "1.4.1") == Verdict(False, None)
    assert evaluate(up_to, "0.9.9") == Verdict(False, None)


def test_limit_bounds_the_range_and_star_means_no_limit() -> None:
    limited = ranged("npm", ("introduced", "1.0.0"), ("limit", "2.0.0"), range_type="SEMVER")
    assert evaluate(limited, "1.9.9") == Verdict(True, None)
    assert evaluate(limited, "2.0.0") == Verdict(False, None)
    assert evaluate(limited, "3.0.0") == Verdict(False, None)
    unlimited = ranged("npm", ("introduced", "1.0.0"), ("limit", "*"), range_type="SEMVER")
    assert evaluate(unlimited, "9.0.0") == Verdict(True, None)


def test_enumerated_versions_match_exactly_and_under_the_ecosystem_order() -> None:
    listed = ranged("PyPI", versions=("1.0", "1.1", "0.7.10p1"))
    assert evaluate(listed, "1.1") == Verdict(True, None)
    assert evaluate(listed, "1.0.0") == Verdict(True, None)  # PEP 440: 1.0 == 1.0.0
    assert evaluate(listed, "0.7.10p1") == Verdict(True, None)  # not PEP 440, listed as is
    assert evaluate(listed, "1.2") == Verdict(False, None)


def test_a_listed_version_outside_the_ranges_is_affected() -> None:
    both = Affected(
        "PyPI",
        "pkg",
        None,
        (Range("ECOSYSTEM", (("introduced", "2.0"), ("fixed", "2.1"))),),
        ("1.5",),
    )
    assert evaluate(both, "1.5") == Verdict(True, None)
    assert evaluate(both, "2.0.1") == Verdict(True, "2.1")
    assert evaluate(both, "1.6") == Verdict(False, None)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0.0-rc.1", Verdict(False, None)),  # a pre-release precedes its release
        ("1.0.0", Verdict(True, "1.2.3")),
        ("1.2.3-rc.1", Verdict(True, "1.2.3")),
        ("1.2.3", Verdict(False, None)),
        ("1.2.3+build.5", Verdict(False, None)),
    ],
)
def test_npm_prereleases_order_before_their_release(version: str, expected: Verdict) -> None:
    npm = ranged("npm", ("introduced", "1.0.0"), ("fixed", "1.2.3"), range_type="SEMVER")
    assert evaluate(npm, version) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v0.3.9", Verdict(True, "0.4.0")),
        ("0.3.9", Verdict(True, "0.4.0")),
        ("v0.4.0", Verdict(False, None)),
        # A pseudo-version is a pre-release of the version it is based on.
        ("v0.0.0-20200101000000-abcdef123456", Verdict(True, "0.4.0")),
        ("v0.4.1-0.20210101000000-abcdef123456", Verdict(False, None)),
        ("v0.3.10-0.20210101000000-abcdef123456", Verdict(True, "0.4.0")),
    ],
)
def test_go_versions_with_v_prefix_and_pseudo_versions(version: str, expected: Verdict) -> None:
    go = ranged("Go", ("introduced", "0"), ("fixed", "0.4.0"), range_type="SEMVER")
    assert evaluate(go, version) == expected


def test_go_standard_library_release_tags_compare_as_versions() -> None:
    stdlib = ranged(
        "Go", ("introduced", "0"), ("fixed", "1.4.3"), range_type="SEMVER", name="stdlib"
    )
    assert evaluate(stdlib, "go1.4.2") == Verdict(True, "1.4.3")
    assert evaluate(stdlib, "go1.4.3") == Verdict(False, None)


def test_go_record_bounds_with_a_v_prefix_compare_too() -> None:
    go = ranged("Go", ("introduced", "v1.2.0"), ("fixed", "v1.3.0"), range_type="SEMVER")
    assert evaluate(go, "1.2.5") == Verdict(True, "v1.3.0")
    assert evaluate(go, "v1.3.0") == Verdict(False, None)


@pytest.mark.parametrize(
    ("ecosystem", "introduced", "fixed", "inside", "outside"),
    [
        ("crates.io", "0.10.2", "0.21.3", "0.21.2", "0.21.3"),
        ("Maven", "2.9.0", "2.9.10.8", "2.9.10.7", "2.10.0"),
        ("Maven", "1.0", "1.2", "1.2-SNAPSHOT", "1.2.1"),
        ("RubyGems", "5.0.0", "5.0.0.1", "5.0.0", "5.0.0.1"),
        ("RubyGems", "1.0", "2.0", "2.0.0.pre", "2.0.0"),
        ("NuGet", "1.0.0", "1.0.1", "1.0.1-beta", "1.0.1"),
        ("Packagist", "1.0.0", "1.2.0", "v1.1.9", "v1.2.0"),
        ("Hex", "0.1.0", "0.5.2", "0.5.1", "0.5.2"),
        ("Pub", "1.0.0", "1.3.0", "1.2.9", "1.3.0"),
        # Debian: the epoch outranks everything after it; a tilde sorts before anything.
        ("Debian:11", "0", "1:2.0-1", "3.0-1", "1:2.0-1"),
        ("Debian:11", "0", "2.0-1", "2.0~rc1-1", "2.0-1"),
        ("Ubuntu:22.04:LTS", "0", "1.2-3ubuntu0.1", "1.2-3", "1.2-3ubuntu0.1"),
        ("Alpine:v3.16", "0", "1.2.3-r1", "1.2.3-r0", "1.2.3-r1"),
        ("Red Hat:enterprise_linux:8", "0", "1:1.0-1.el8", "2.0-1.el8", "1:1.0-1.el8"),
    ],
)
def test_each_ecosystem_orders_versions_its_own_way(
    ecosystem: str, introduced: str, fixed: str, inside: str, outside: str
) -> None:
    package = ranged(ecosystem, ("introduced", introduced), ("fixed", fixed))
    assert evaluate(package, inside) == Verdict(True, fixed)
    assert evaluate(package, outside) == Verdict(False, None)


def test_unknown_ecosystems_match_enumerated_versions_only() -> None:
    hackage = ranged(
        "Hackage", ("introduced", "1.0"), ("fixed", "1.3"), versions=("1.0", "1.1", "1.2")
    )
    assert evaluate(hackage, "1.1") == Verdict(True, None)
    # Inside the range by any reasonable guess, but its ordering is unknown: no verdict.
    assert evaluate(hackage, "1.2.5") is None
    listed_only = ranged("Hackage", versions=("1.0",))
    assert evaluate(listed_only, "1.0.0") == Verdict(False, None)  # exact strings only


def test_semver_ranges_need_no_known_ecosystem() -> None:
    swift = ranged("SwiftURL", ("introduced", "1.0.0"), ("fixed", "1.4.0"), range_type="SEMVER")
    assert evaluate(swift, "1.3.0") == Verdict(True, "1.4.0")


@pytest.mark.parametrize("version", ["not a version", "", "   ", "1.0-foo-bar_baz!", "1." * 200])
def test_a_version_that_does_not_parse_gets_no_verdict(version: str) -> None:
    assert evaluate(DJANGO_BRANCHES, version) is None


def test_a_bound_that_does_not_parse_leaves_the_range_unjudged() -> None:
    # Real: PYSEC-2019-125 (steam) is "fixed" in "2019-09-12", which is not PEP 440.
    dated = ranged("PyPI", ("introduced", "0"), ("fixed", "2019-09-12"), versions=("1.0",))
    assert evaluate(dated, "1.0") == Verdict(True, None)
    assert evaluate(dated, "1.5") is None


def test_git_ranges_take_no_part() -> None:
    commits = Range("GIT", (("introduced", "0"), ("fixed", "b42dd4badf803bb9fb71ac34cd9cb0c2")))
    assert evaluate(Affected("PyPI", "pkg", None, (commits,), ()), "1.0") is None
    listed = Affected("PyPI", "pkg", None, (commits,), ("4.0", "4.1"))
    assert evaluate(listed, "4.1") == Verdict(True, None)
    assert evaluate(listed, "4.3") == Verdict(False, None)


semver_parts = st.tuples(*[st.integers(0, 20)] * 3)


@given(semver_parts, semver_parts, semver_parts)
def test_semver_affected_iff_introduced_le_version_lt_fixed(
    a: tuple[int, int, int], b: tuple[int, int, int], v: tuple[int, int, int]
) -> None:
    introduced, fixed = min(a, b), max(a, b)

    def text(parts: tuple[int, int, int]) -> str:
        return ".".join(map(str, parts))

    package = ranged(
        "crates.io", ("introduced", text(introduced)), ("fixed", text(fixed)), range_type="SEMVER"
    )
    inside = introduced <= v < fixed
    assert evaluate(package, text(v)) == Verdict(inside, text(fixed) if inside else None)


pep440 = st.builds(
    lambda release, pre: ".".join(map(str, release)) + pre,
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "b2", "rc1", ".post1", ".dev3"]),
)


@given(pep440, pep440, pep440)
def test_pypi_affected_iff_introduced_le_version_lt_fixed(a: str, b: str, v: str) -> None:
    introduced, fixed = sorted((a, b), key=Version)
    package = ranged("PyPI", ("introduced", introduced), ("fixed", fixed))
    # OSV: introduced "0" precedes every version, pre-releases of 0 ("0a1") included.
    after_introduced = introduced == "0" or Version(introduced) <= Version(v)
    inside = after_introduced and Version(v) < Version(fixed)
    verdict = evaluate(package, v)
    assert verdict is not None
    assert verdict.affected is inside


@given(
    st.sampled_from(["PyPI", "npm", "Go", "Maven", "NuGet", "RubyGems", "Debian:12", "Alpine:v3"]),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_any_text_gives_a_verdict_or_none_never_an_error(
    ecosystem: str, bound: str, version: str
) -> None:
    package = ranged(ecosystem, ("introduced", "0"), ("fixed", bound), versions=(bound,))
    verdict = evaluate(package, version)
    assert verdict is None or isinstance(verdict, Verdict)


# --- names and the index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ecosystem", "name", "key"),
    [
        ("PyPI", "Zope.Interface", "zope-interface"),
        ("PyPI", "typing__extensions", "typing-extensions"),
        ("crates.io", "Serde_JSON", "serde-json"),
        ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
        ("Packagist", "Symfony/HTTP-Kernel", "symfony/http-kernel"),
        ("npm", "JSONStream", "JSONStream"),
        ("RubyGems", "RedCloth", "RedCloth"),
        ("Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"),
        (
            "Maven",
            "com.fasterxml.jackson.core:jackson-databind",
            "com.fasterxml.jackson.core:jackson-databind",
        ),
        ("Debian:11", " openssl ", "openssl"),
    ],
)
def test_package_names_compare_as_their_registry_compares_them(
    ecosystem: str, name: str, key: str
) -> None:
    assert package_name_key(ecosystem, name) == key


@pytest.mark.parametrize(
    ("ecosystem", "family"),
    [
        ("Debian:11", "Debian"),
        ("Ubuntu:Pro:18.04:LTS", "Ubuntu"),
        ("Maven:https://maven.google.com", "Maven"),
        ("pypi", "PyPI"),
        ("CRATES.IO", "crates.io"),
        ("PyPI", "PyPI"),
        ("Hackage", "Hackage"),
    ],
)
def test_ecosystem_family(ecosystem: str, family: str) -> None:
    assert ecosystem_family(ecosystem) == family


def test_index_matches_one_per_advisory_sorted_with_the_applicable_fix() -> None:
    index = Index()
    index.add("PYSEC-2", DJANGO_BRANCHES)
    index.add("GHSA-1", Affected("PyPI", "Django", None, (), ("3.1.5",)))
    # The same advisory naming the package twice: still one match.
    index.add("PYSEC-2", Affected("PyPI", "django", None, (), ("3.1.5",)))
    index.add("PYSEC-3", ranged("PyPI", ("introduced", "4.0"), ("fixed", "4.1"), name="django"))
    assert index.match("PyPI", "Django", "3.1.5") == [
        Match("GHSA-1", None),
        Match("PYSEC-2", "3.1.14"),
    ]
    assert index.match("pypi", "DJANGO", "3.1.14") == []
    assert index.match("PyPI", "flask", "3.1.5") == []
    assert index.match("npm", "django", "3.1.5") == []
    assert index.match("PyPI", "django", "not-a-version") == []


def test_index_fix_is_the_lowest_that_every_matched_entry_clears() -> None:
    index = Index()
    index.add("DSA-1", ranged("Debian:11", ("introduced", "0"), ("fixed", "2.0-1+deb11u1")))
    index.add("DSA-1", ranged("Debian:12", ("introduced", "0"), ("fixed", "2.0-3")))
    assert index.match("Debian:11", "pkg", "2.0-1") == [Match("DSA-1", "2.0-1+deb11u1")]
    assert index.match("Debian:12", "pkg", "2.0-1") == [Match("DSA-1", "2.0-3")]
    assert index.match("Debian:12", "pkg", "2.0-1+deb11u1") == [Match("DSA-1", "2.0-3")]
    # Without a release the component may be on either: only 2.0-3 clears both.
    assert index.match("Debian", "pkg", "2.0-1") == [Match("DSA-1", "2.0-3")]
    assert index.match("Debian:10", "pkg", "2.0-1") == []


def test_index_record_without_a_release_applies_to_every_release() -> None:
    index = Index()
    index.add("DEB-1", ranged("Debian", ("introduced", "0"), ("fixed", "1.5-1")))
    assert index.match("Debian:12", "pkg", "1.4-1") == [Match("DEB-1", "1.5-1")]


# --- reading records ----------------------------------------------------------------------------


def test_parse_a_full_record() -> None:
    advisory = parse_advisory(
        {
            "schema_version": "1.6.0",
            "id": " GHSA-xxxx-yyyy-zzzz\n",
            "aliases": ["CVE-2024-1"],
            "related": ["CVE-2024-2"],
            "summary": "XSS in\x1b[31m pkg",
            "details": "d" * 30_000,
            "published": "2024-01-02T03:04:05Z",
            "modified": "2024-01-02T05:04:05.123456789+02:00",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "pkg", "purl": "pkg:npm/pkg"},
                    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
                    "ranges": [
                        {"type": "semver", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}
                    ],
                    "versions": ["1.0.0"],
                    "ecosystem_specific": {"anything": [1, 2]},
                },
                {"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]},
            ],
            "references": [{"type": "EXPLOIT", "url": "https://example.com/poc"}],
            "database_specific": {"cwe_ids": ["CWE-79", "cwe-79", "not one", 7]},
            "unknown_field": {"deep": True},
        },
        "ghsa.json",
    )
    assert advisory.id == "GHSA-xxxx-yyyy-zzzz"
    assert advisory.aliases == ("CVE-2024-1",)
    assert advisory.summary == "XSS in[31m pkg"
    assert advisory.details == "d" * 19_999 + "…"
    assert advisory.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert advisory.modified == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert advisory.withdrawn is None
    # Severity given per package (the schema allows either place) is the record's.
    assert advisory.severity == (("CVSS_V3", "CVSS:3.1/AV:N"),)
    assert advisory.affected == (
        Affected(
            "npm",
            "pkg",
            "pkg:npm/pkg",
            (Range("SEMVER", (("introduced", "0"), ("fixed", "1.0.1"))),),
            ("1.0.0",),
        ),
    )
    assert advisory.references == (("EXPLOIT", "https://example.com/poc"),)
    assert advisory.cwe_ids == ("CWE-79",)


def test_go_zero_time_means_unknown_and_yaml_times_are_utc() -> None:
    go = parse_advisory(record(modified="0001-01-01T00:00:00Z"), "go.json")
    assert go.modified is None
    yaml_naive = parse_advisory(record(published=datetime(2021, 8, 31, 18, 15)), "p.yaml")
    assert yaml_naive.published == datetime(2021, 8, 31, 18, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (["not", "a", "record"], "not an OSV record"),
        ({"summary": "no id"}, "no `id`"),
        ({"id": 12}, "id must be text"),
        ({"id": "   "}, "no `id`"),
        ({"id": "X" * 201}, "id is longer than 200"),
        (record(aliases="CVE-1"), "aliases must be a list"),
        (record(affected=[{"package": {"ecosystem": "PyPI"}}]), "affected[0].package needs"),
        (record(affected=["pkg"]), "affected[0] must be an object"),
        (
            record(affected=[{"package": {"ecosystem": "PyPI", "name": "p"}, "ranges": [{}]}]),
            "affected[0].ranges[0] has no `type`",
        ),
        (
            record(
                affected=[
                    {
                        "package": {"ecosystem": "PyPI", "name": "p"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": 1.2}]}],
                    }
                ]
            ),
            "affected[0].ranges[0].events[0].fixed must be text",
        ),
        (record(published="yesterday"), "published is not an RFC 3339 time"),
        (record(modified=12345), "modified must be an RFC 3339 time"),
        (record(references=[{"type": "WEB", "url": "https://x/" + "a" * 3000}]), "url is longer"),
    ],
)
def test_parse_rejects_what_is_not_an_osv_record(document: object, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_advisory(document, "feed/bad.json")
    assert caught.value.message.startswith("feed/bad.json: ")
    assert problem in caught.value.message
    assert "\n" not in caught.value.message


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "affected",
                    "package",
                    "ecosystem",
                    "name",
                    "ranges",
                    "type",
                    "events",
                    "introduced",
                    "fixed",
                    "versions",
                    "aliases",
                    "severity",
                    "references",
                    "published",
                    "database_specific",
                    "cwe_ids",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


@given(json_values)
def test_parse_any_document_gives_an_advisory_or_an_input_error(document: object) -> None:
    error: InputError | None = None
    try:
        assert parse_advisory(document, "fuzz.json").id
    except InputError as exc:
        error = exc
    assert error is None or error.message.startswith("fuzz.json: ")


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_iter_a_folder_recursively_in_order_skipping_hidden_and_other_files(
    tmp_path: Path,
) -> None:
    write(tmp_path / "b" / "PYSEC-2.yaml", "id: PYSEC-2\nmodified: 2021-10-11T01:16:41Z\n")
    write(tmp_path / "a.json", json.dumps(record("GO-1")))
    write(tmp_path / "b" / "c" / "RUSTSEC-3.yml", "id: RUSTSEC-3\n")
    write(tmp_path / ".git" / "HEAD.json", "not read")
    write(tmp_path / ".hidden.json", "not read")
    write(tmp_path / "README.md", "not read")
    ids = [advisory.id for advisory in iter_advisories(tmp_path)]
    assert ids == ["GO-1", "PYSEC-2", "RUSTSEC-3"]


def test_iter_a_single_file(tmp_path: Path) -> None:
    path = write(tmp_path / "GO-1.json", json.dumps(record("GO-1")))
    assert [advisory.id for advisory in iter_advisories(path)] == ["GO-1"]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.json", "{not json", "not valid JSON"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("bad.yaml", "id: [unclosed", "not valid YAML"),
        ("tag.yaml", "id: !!python/object/apply:os.system ['true']", "not valid YAML"),
        ("deep.yaml", "[" * 5_000 + "]" * 5_000, "nested too deeply"),
        ("other.json", '{"name": "a package.json, not a record"}', "no `id`"),
        ("date.yaml", "id: X\npublished: 2020-13-45\n", "not valid YAML"),
        ("number.json", '{"id": "X", "n": ' + "9" * 5_000 + "}", "not valid JSON"),
        ("latin1.yaml", b"id: caf\xe9\n", "not UTF-8 text"),
        ("notes.txt", "id: X", "expected a .json, .yaml, .yml or .zip"),
    ],
)
def test_iter_names_the_file_that_is_not_a_record(
    tmp_path: Path, name: str, content: str | bytes, problem: str
) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(InputError) as caught:
        list(iter_advisories(path))
    assert caught.value.message.startswith(f"{path}: ")
    assert problem in caught.value.message


def test_iter_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        list(iter_advisories(tmp_path / "nowhere"))


def test_iter_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.json", json.dumps(record(details="x" * 5_000)))
    with pytest.raises(InputError, match="above the limit of 1000"):
        list(iter_advisories(path, max_file_size=1_000))


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_iter_an_osv_zip_in_member_order(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "all.zip",
        {
            "GHSA-b.json": json.dumps(record("GHSA-b")),
            "GHSA-a.json": json.dumps(record("GHSA-a")),
            "../../escape/GHSA-c.json": json.dumps(record("GHSA-c")),
            "__MACOSX/._GHSA-a.json": "resource fork",
            "LICENSE": "not a record",
        },
    )
    ids = [advisory.id for advisory in iter_advisories(archive)]
    assert ids == ["GHSA-c", "GHSA-a", "GHSA-b"]
    assert not (tmp_path.parent / "escape").exists()  # nothing is written anywhere


def test_iter_zip_refuses_a_member_over_the_size_limit_before_reading_it(tmp_path: Path) -> None:
    # 10 MB of zeros compress to about 10 KB: the limit applies to the uncompressed size.
    archive = make_zip(
        tmp_path / "all.zip",
        {"OK-1.json": json.dumps(record("OK-1")), "BOMB.json": " " * 10_000_000},
    )
    assert archive.stat().st_size < 100_000
    with pytest.raises(InputError) as caught:
        list(iter_advisories(archive, max_file_size=1_000_000))
    assert caught.value.message.startswith(f"{archive}:BOMB.json: ")
    assert "above the limit of 1000000" in caught.value.message


def test_iter_zip_names_the_member_that_is_not_a_record(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "all.zip",
        {"GHSA-a.json": json.dumps(record("GHSA-a")), "GHSA-b.json": '{"schema_version": "1"}'},
    )
    read: list[str] = []
    with pytest.raises(InputError) as caught:
        read.extend(advisory.id for advisory in iter_advisories(archive))
    assert read == ["GHSA-a"]
    assert caught.value.message == f"{archive}:GHSA-b.json: not an OSV record: no `id`"


def test_iter_a_file_named_zip_that_is_not_one(tmp_path: Path) -> None:
    path = write(tmp_path / "all.zip", "plain text")
    with pytest.raises(InputError, match="not a readable zip archive"):
        list(iter_advisories(path))
