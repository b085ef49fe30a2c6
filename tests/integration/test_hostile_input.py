"""Every input is hostile: each bad report gets a one-line error naming the file, exit 2, and
nothing is written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.builders import code_result, sarif
from tests.conftest import Cli, fixture


@pytest.fixture
def org(sqlite_cli: Cli) -> Cli:
    sqlite_cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    return sqlite_cli


def refused(cli: Cli, path: Path, *args: str) -> str:
    result = cli("import", path, "--service", "ledger", *args)
    assert result.code == 2, result
    assert result.err.startswith(f"error: {path}: "), result.err
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    assert json.loads(cli.ok("findings", "list", "--status", "all", "--format", "json").out) == []
    return result.err


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_empty_and_blank_files(org: Cli, tmp_path: Path) -> None:
    for name, content in (
        ("empty.json", b""),
        ("blank.json", b" \n\t\n"),
        ("null.json", b"null\n"),
    ):
        assert "empty report: a scanner that writes nothing has usually failed" in refused(
            org, write(tmp_path, name, content)
        )
    # Named as a tool that does write nothing when it finds nothing, it is a clean scan.
    assert "empty report" in refused(org, write(tmp_path, "e.sarif", b""), "--format", "sarif")


def test_a_clean_scan_of_a_tool_that_writes_nothing(org: Cli, tmp_path: Path) -> None:
    secrets = fixture("reports", "trufflehog", "v3.jsonl")
    org.ok("import", secrets, "--service", "ledger", "--format", "trufflehog")
    assert json.loads(org.ok("findings", "list", "--format", "json").out)
    clean = write(tmp_path, "clean.jsonl", b"")
    result = json.loads(
        org.ok("import", clean, "--service", "ledger", "--format", "trufflehog", "--json").out
    )
    assert result["closed"] > 0
    assert json.loads(org.ok("findings", "list", "--format", "json").out) == []


def test_truncated_json(org: Cli, tmp_path: Path) -> None:
    text = fixture("reports", "sarif", "codeql.sarif").read_bytes()
    assert "truncated JSON" in refused(org, write(tmp_path, "cut.sarif", text[: len(text) // 2]))


def test_deeply_nested_json_bomb(org: Cli, tmp_path: Path) -> None:
    bomb = b'{"version": "2.1.0", "runs": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}"
    assert "nested deeper than" in refused(org, write(tmp_path, "bomb.sarif", bomb))
    # The same bomb hidden inside one result, after the head.
    results = [code_result("r", f"f{i}.py", 1, "x" * 200) for i in range(6000)]
    document = json.dumps(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": results}]}
    )
    hidden = document.replace(
        '"message": {"text": "problem"}', '"message": ' + "[" * 5000 + "]" * 5000, 1
    )
    hidden = hidden[: len(hidden) // 2] + hidden[len(hidden) // 2 :].replace(
        '"message": {"text": "problem"}', '"message": ' + "[" * 5000 + "]" * 5000, 1
    )
    assert "nested deeper than" in refused(org, write(tmp_path, "hidden.sarif", hidden.encode()))


def test_deeply_nested_yaml_inventory(org: Cli, tmp_path: Path) -> None:
    bomb = write(tmp_path, "org.yaml", b"teams: " + b"[" * 50_000 + b"]" * 50_000)
    result = org("inventory", "import", bomb)
    assert result.code == 2
    assert result.err == f"error: {bomb}:1: nested deeper than 50 levels\n"


def test_xml_where_json_is_expected(org: Cli, tmp_path: Path) -> None:
    xml = write(tmp_path, "report.xml", b'<?xml version="1.0"?><report><issue/></report>')
    assert "expected JSON for sarif, found XML" in refused(org, xml, "--format", "sarif")
    assert "format not recognised (XML)" in refused(org, xml)


def test_xml_entity_expansion_is_refused(org: Cli, tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    )
    assert "forbidden" in refused(org, write(tmp_path, "laughs.xml", laughs))


def test_binary_and_unknown_documents(org: Cli, tmp_path: Path) -> None:
    assert "format not recognised (neither JSON nor XML)" in refused(
        org, write(tmp_path, "photo.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    )
    assert "format not recognised (JSON)" in refused(
        org, write(tmp_path, "other.json", b'{"hello": "world"}')
    )
    assert "not valid JSON" in refused(
        org, write(tmp_path, "latin1.sarif", b'{"version": "2.1.0", "runs": [\xff]}')
    )


def test_a_file_above_the_size_limit(org: Cli, tmp_path: Path) -> None:
    huge = tmp_path / "huge.sarif"
    with huge.open("wb") as handle:  # sparse: 2 GB of nothing, no disk used
        handle.truncate(2 * 1024**3 + 1)
    assert "above the limit of" in refused(org, huge)


def test_a_gzip_bomb_stops_at_the_limit(
    org: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIELDWALL_MAX_REPORT_SIZE", str(1024 * 1024))
    padding = b" " * (8 * 1024 * 1024)
    bomb = write(
        tmp_path,
        "bomb.sarif.gz",
        gzip.compress(b'{"version": "2.1.0", "runs": [' + padding + b"]}"),
    )
    assert bomb.stat().st_size < 64 * 1024
    assert "once decompressed" in refused(org, bomb)


def test_gzipped_reports_import(org: Cli, tmp_path: Path) -> None:
    report = sarif(tmp_path / "r.sarif", "bandit", [code_result("r", "a.py", 1, "a()")])
    packed = write(tmp_path, "r.sarif.gz", gzip.compress(report.read_bytes()))
    assert json.loads(org.ok("import", packed, "--service", "ledger", "--json").out)["created"] == 1


def test_a_result_pointing_outside_the_repository(org: Cli, tmp_path: Path) -> None:
    report = sarif(
        tmp_path / "r.sarif", "semgrep", [code_result("r", "../../etc/passwd", 1, "root:x:0:0")]
    )
    org.ok("import", report, "--service", "ledger")
    (row,) = json.loads(org.ok("findings", "list", "--format", "json").out)
    assert row["path"] == "etc/passwd"


def test_terminal_escapes_in_reports_do_not_reach_the_terminal(org: Cli, tmp_path: Path) -> None:
    report = sarif(
        tmp_path / "r.sarif",
        "semgrep",
        [code_result("r", "a.py", 1, "x", message="\x1b[2J\x1b]0;pwned\x07[bold red]hi[/]")],
    )
    org.ok("import", report, "--service", "ledger")
    table = org.ok("findings", "list").out
    assert "\x1b" not in table
    assert "[bold red]hi[/]" in table


def test_missing_file_and_folder(org: Cli, tmp_path: Path) -> None:
    assert "no such file" in org("import", tmp_path / "nope.json", "--service", "ledger").err
    assert "not a regular file" in org("import", tmp_path, "--service", "ledger").err


def test_commit_and_branch_are_checked(org: Cli, tmp_path: Path) -> None:
    report = sarif(tmp_path / "r.sarif", "bandit", [])
    result = org("import", report, "--service", "ledger", "--commit", "x" * 100)
    assert result.code == 2
    assert "is not a commit" in result.err
    result = org("import", report, "--service", "ledger", "--branch", "b" * 300)
    assert result.code == 2
    assert "--branch must be at most 255" in result.err


def test_a_bom_listing_one_component_a_hundred_thousand_times(org: Cli, tmp_path: Path) -> None:
    """The benchmark runs 10^6 (make bench); here enough to show duplicates collapse."""
    entry = json.dumps(
        {
            "type": "library",
            "name": "left-pad",
            "version": "1.3.0",
            "purl": "pkg:npm/left-pad@1.3.0",
            "bom-ref": "pkg:npm/left-pad@1.3.0",
        }
    )
    bom = tmp_path / "bom.json"
    with bom.open("w") as handle:
        handle.write('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [')
        handle.write(",".join([entry] * 100_000))
        handle.write("]}")
    org.ok("import", bom, "--service", "web")
    listed = json.loads(org.ok("components", "--service", "web", "--format", "json").out)
    assert [(c["name"], c["version"]) for c in listed] == [("left-pad", "1.3.0")]
