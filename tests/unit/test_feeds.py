"""The KEV catalog and EPSS scores, read from real and hostile files."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.intel.feeds import EpssHeader, EpssScore, parse_kev, read_epss
from tests.conftest import shared_data

EPSS_COMMENT = "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z"
EPSS_COLUMNS = "cve,epss,percentile"


def kev_catalog() -> Path:
    return shared_data("kev", "known_exploited_vulnerabilities.json")


# --- KEV ---------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_the_real_catalog_is_read_whole() -> None:
    catalog = parse_kev(kev_catalog())

    assert catalog.version == "2025.08.25"
    assert catalog.released == datetime(2025, 8, 25, 17, 4, 19, 979600, tzinfo=UTC)
    assert len(catalog.entries) == 1404
    assert len({entry.cve_id for entry in catalog.entries}) == 1404
    assert sum(entry.ransomware for entry in catalog.entries) == 293


@pytest.mark.shared_data
def test_log4shell_in_the_real_catalog() -> None:
    entries = {entry.cve_id: entry for entry in parse_kev(kev_catalog()).entries}

    log4shell = entries["CVE-2021-44228"]
    assert (log4shell.vendor, log4shell.product) == ("Apache", "Log4j2")
    assert log4shell.name == "Apache Log4j2 Remote Code Execution Vulnerability"
    assert log4shell.date_added == date(2021, 12, 10)
    assert log4shell.due_date == date(2021, 12, 24)
    assert log4shell.ransomware is True
    assert log4shell.notes == "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"
    # Git's link-following flaw: no ransomware use known.
    assert entries["CVE-2025-48384"].ransomware is False


@pytest.mark.shared_data
def test_entries_carried_over_from_older_directives_keep_a_due_date_before_their_addition() -> None:
    """The first catalog (2021-11-03) took in deadlines that had already passed: real data,
    not an error."""
    entries = {entry.cve_id: entry for entry in parse_kev(kev_catalog()).entries}

    zerologon = entries["CVE-2020-1472"]
    assert zerologon.date_added == date(2021, 11, 3)
    assert zerologon.due_date == date(2020, 9, 21)


def _kev_file(tmp_path: Path, vulnerabilities: object, **document: object) -> Path:
    path = tmp_path / "kev.json"
    path.write_text(
        json.dumps({"catalogVersion": "1", **document, "vulnerabilities": vulnerabilities})
    )
    return path


def _kev_entry(**fields: object) -> dict[str, object]:
    return {
        "cveID": "CVE-2024-3400",
        "vendorProject": "Palo Alto Networks",
        "product": "PAN-OS",
        "vulnerabilityName": "Palo Alto Networks PAN-OS Command Injection Vulnerability",
        "dateAdded": "2024-04-12",
        "dueDate": "2024-04-19",
        "knownRansomwareCampaignUse": "Unknown",
        "notes": "",
        **fields,
    }


def test_a_minimal_catalog_with_messy_text(tmp_path: Path) -> None:
    path = _kev_file(
        tmp_path,
        [_kev_entry(vendorProject=" SimpleHelp ", notes="x\n" * 2000, dueDate=None)],
        dateReleased="2025-08-25T17:04:19Z",
    )

    (entry,) = parse_kev(path).entries

    assert entry.vendor == "SimpleHelp"
    assert entry.due_date is None
    assert entry.notes is not None
    assert "\n" not in entry.notes
    assert len(entry.notes) == 2000


def test_an_empty_note_is_no_note(tmp_path: Path) -> None:
    (entry,) = parse_kev(_kev_file(tmp_path, [_kev_entry(notes="  ")])).entries

    assert entry.notes is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"vulnerabilities": [', "kev.json:1: not valid JSON"),
        ("[]", "kev.json: not a KEV catalog: no 'vulnerabilities' list"),
        ('{"vulnerabilities": {}}', "kev.json: not a KEV catalog: no 'vulnerabilities' list"),
        ("[" * 100_000, "kev.json: not valid JSON: nested too deeply"),
    ],
)
def test_what_is_not_a_catalog(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "kev.json"
    path.write_text(content)

    with pytest.raises(InputError) as caught:
        parse_kev(path)

    assert caught.value.message.startswith(f"{tmp_path}/{problem}")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            _kev_entry(dateAdded="12/04/2024"),
            "vulnerabilities[0] (CVE-2024-3400): dateAdded '12/04/2024' is not a date (YYYY-MM-DD)",
        ),
        (
            _kev_entry(dueDate="2024-02-30"),
            "vulnerabilities[0] (CVE-2024-3400): dueDate '2024-02-30' is not a date (YYYY-MM-DD)",
        ),
        (_kev_entry(dateAdded=None), "vulnerabilities[0] (CVE-2024-3400): no dateAdded"),
        (_kev_entry(cveID="CVE-24-1"), "vulnerabilities[0]: cveID 'CVE-24-1' is not a CVE id"),
        (_kev_entry(cveID=None), "vulnerabilities[0]: cveID None is not a CVE id"),
        ("CVE-2024-3400", "vulnerabilities[0] is not an object"),
    ],
)
def test_a_bad_entry_is_named(tmp_path: Path, entry: object, problem: str) -> None:
    path = _kev_file(tmp_path, [entry])

    with pytest.raises(InputError) as caught:
        parse_kev(path)

    assert caught.value.message == f"{path}: {problem}"


def test_a_bad_release_time(tmp_path: Path) -> None:
    path = _kev_file(tmp_path, [], dateReleased="yesterday")

    with pytest.raises(InputError, match=r"kev\.json: dateReleased 'yesterday' is not a date"):
        parse_kev(path)


def test_a_catalog_that_disagrees_with_itself(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="says it has 2 entries but lists 1"):
        parse_kev(_kev_file(tmp_path, [_kev_entry()], count=2))
    with pytest.raises(InputError, match="CVE-2024-3400 is listed twice"):
        parse_kev(_kev_file(tmp_path, [_kev_entry(), _kev_entry(cveID="cve-2024-3400")]))


def test_the_catalog_size_is_capped(tmp_path: Path) -> None:
    path = _kev_file(tmp_path, [_kev_entry()] * 50)

    with pytest.raises(InputError, match="above the limit of 1000"):
        parse_kev(path, max_size=1000)


def test_a_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        parse_kev(tmp_path / "kev.json")


# --- EPSS --------------------------------------------------------------------------------------


def _epss_file(tmp_path: Path, text: str, *, compressed: bool = False, name: str = "epss") -> Path:
    data = text.encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compressed else data)
    return path


def _read_all(path: Path, **caps: int) -> list[EpssScore]:
    _, scores = read_epss(path, **caps)
    return list(scores)


EPSS_TEXT = f"""{EPSS_COMMENT}
{EPSS_COLUMNS}
CVE-1999-0001,0.01167,0.78303
CVE-2021-44228,0.94358,0.99959
"""
EPSS_SCORES = [
    EpssScore("CVE-1999-0001", 0.01167, 0.78303),
    EpssScore("CVE-2021-44228", 0.94358, 0.99959),
]


@pytest.mark.parametrize("compressed", [False, True])
def test_epss_plain_or_gzip_whatever_the_name(tmp_path: Path, compressed: bool) -> None:
    # The name says the opposite of the content: the magic bytes decide.
    name = "epss.csv" if compressed else "epss.csv.gz"
    header, scores = read_epss(_epss_file(tmp_path, EPSS_TEXT, compressed=compressed, name=name))

    assert header == EpssHeader(model_version="v2025.03.14", score_date=date(2025, 8, 25))
    assert list(scores) == EPSS_SCORES


def test_epss_with_bom_crlf_and_no_comment_line(tmp_path: Path) -> None:
    text = "\ufeff" + EPSS_TEXT.split("\n", 1)[1].replace("\n", "\r\n") + "\r\n"

    header, scores = read_epss(_epss_file(tmp_path, text))

    assert header == EpssHeader(model_version=None, score_date=None)
    assert list(scores) == EPSS_SCORES


def test_epss_bom_before_the_comment_line(tmp_path: Path) -> None:
    header, scores = read_epss(_epss_file(tmp_path, "\ufeff" + EPSS_TEXT, compressed=True))

    assert header.score_date == date(2025, 8, 25)
    assert len(list(scores)) == 2


def test_epss_header_is_read_before_the_scores(tmp_path: Path) -> None:
    """A caller can look at the score date and not read on; a bad row is only found when the
    scores are read."""
    path = _epss_file(tmp_path, EPSS_TEXT + "CVE-2024-0001,1.5,0.5\n")

    header, scores = read_epss(path)
    assert header.model_version == "v2025.03.14"

    with pytest.raises(InputError) as caught:
        list(scores)
    assert caught.value.message == (
        f"{path}:5: CVE-2024-0001: epss '1.5' is not a number from 0 to 1"
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("CVE-2024-0001,0.5,-0.1", "CVE-2024-0001: percentile '-0.1' is not a number from 0 to 1"),
        ("CVE-2024-0001,nan,0.5", "CVE-2024-0001: epss 'nan' is not a number from 0 to 1"),
        ("CVE-2024-0001,high,0.5", "CVE-2024-0001: epss 'high' is not a number from 0 to 1"),
        ("GHSA-xxxx-yyyy-zzzz,0.5,0.5", "'GHSA-xxxx-yyyy-zzzz' is not a CVE id"),
        ("CVE-2024-0001,0.5", "expected 3 values (cve,epss,percentile), found 2"),
        ("CVE-2024-0001,0.5,0.5,1", "expected 3 values (cve,epss,percentile), found 4"),
    ],
)
def test_a_bad_epss_row_names_file_and_line(tmp_path: Path, row: str, problem: str) -> None:
    path = _epss_file(tmp_path, f"{EPSS_TEXT}\n{row}\n", compressed=True)
    _, scores = read_epss(path)

    with pytest.raises(InputError) as caught:
        list(scores)

    assert caught.value.message == f"{path}:6: {problem}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", ":1: not an EPSS CSV: expected the header 'cve,epss,percentile'"),
        ('{"cve": 1}\n', ":1: not an EPSS CSV: expected the header 'cve,epss,percentile'"),
        (EPSS_COMMENT + "\n", ":2: not an EPSS CSV: expected the header 'cve,epss,percentile'"),
        ("cve,score\nCVE-2024-0001,0.5\n", ":1: not an EPSS CSV"),
        (
            "#model_version:v1,score_date:someday\n" + EPSS_COLUMNS,
            ":1: score_date 'someday' is not a date",
        ),
    ],
)
def test_what_is_not_an_epss_file(tmp_path: Path, text: str, problem: str) -> None:
    path = _epss_file(tmp_path, text)

    with pytest.raises(InputError) as caught:
        read_epss(path)

    assert caught.value.message.startswith(f"{path}{problem}")


def test_binary_that_is_not_gzip_nor_text(tmp_path: Path) -> None:
    path = tmp_path / "epss"
    path.write_bytes(b"\xff\xfe\x00garbage\n")

    with pytest.raises(InputError, match=r"epss:1: not UTF-8 text"):
        read_epss(path)


def test_damaged_gzip(tmp_path: Path) -> None:
    data = gzip.compress((EPSS_TEXT * 1000).encode())
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputError, match=r"epss\.csv\.gz: cannot decompress"):
        _read_all(path)


def test_a_gzip_bomb_stops_at_the_size_cap(tmp_path: Path) -> None:
    rows = "CVE-2024-0001,0.5,0.5\n" * 200_000  # 4.4 MB that compress to a few KB
    path = _epss_file(tmp_path, f"{EPSS_COLUMNS}\n{rows}", compressed=True)
    assert path.stat().st_size < 50_000

    with pytest.raises(InputError, match="more than 1000000 bytes once decompressed"):
        _read_all(path, max_size=1_000_000)


def test_an_endless_line_stops_at_the_line_cap(tmp_path: Path) -> None:
    path = _epss_file(
        tmp_path, f"{EPSS_COLUMNS}\nCVE-2024-0001,0.{'5' * 100_000},0.5\n", compressed=True
    )

    with pytest.raises(InputError) as caught:
        _read_all(path, max_line=4096)

    assert caught.value.message == f"{path}:2: line longer than 4096 bytes"


def test_a_missing_epss_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_epss(tmp_path / "epss.csv.gz")
