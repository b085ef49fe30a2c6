"""`shieldwall scan` as a CI job runs it: secrets in the tree and in history, locked packages
matched offline, a baseline that survives moved lines, external tools run or reported, one
SARIF report without a raw secret, and its upload."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, fixture
from tests.integration.test_intel import CRITICAL, osv_record

# Made-up tokens in GitHub's format, with valid checksums; never live.
PAT = "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"
APP = "ghu_O1la2gf1XxbpJY1GJv1aiXZgEMKKBy2nnp21"
OLD = "ghs_Wt5G4fwrguhdfrHKpgPztqstwZiott2wAKQX"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a token in code, one in an ignored file, one in vendored code, a
    binary file, a pinned requirement, and a token that an earlier commit added and removed."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "app" / "settings.py").write_text(f'DEBUG = False\nGITHUB_TOKEN = "{PAT}"\n')
    (root / ".gitignore").write_text("local.env\n")
    (root / "local.env").write_text(f"TOKEN={APP}\n")
    (root / "node_modules" / "lib" / "index.js").write_text(f'const t = "{APP}";\n')
    (root / "logo.png").write_bytes(b"\x89PNG\0\0" + APP.encode())
    (root / "requirements.txt").write_text("requests==2.31.0\nflask>=2\n")
    git(root, "init", "-q")
    (root / "app" / "old.py").write_text(f'LEGACY = "{OLD}"\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    git(root, "rm", "-q", "app/old.py")
    git(root, "commit", "-qm", "remove the legacy token")
    return root


def report(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def run_of(document: dict[str, Any], tool: str) -> dict[str, Any]:
    [run] = [r for r in document["runs"] if r["tool"]["driver"]["name"] == tool]
    return run


def test_secrets_are_found_where_they_matter_and_never_written(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scan.sarif"
    result = cli.ok("scan", repo, "--out", out, "--tools", "none", "--history")

    text = out.read_text()
    for token in (PAT, APP, OLD):
        assert token not in text
        assert token not in result.out + result.err
    secrets = run_of(report(out), "shieldwall-secrets")["results"]
    places = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in secrets
    }
    # Not the ignored file, the vendored folder or the binary; the removed one from history.
    assert places == {("github-pat", "app/settings.py"), ("github-app-token", "app/old.py")}
    [current] = [r for r in secrets if r["ruleId"] == "github-pat"]
    assert current["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert current["message"]["text"] == "GitHub personal access token (classic) (ghp_****)"
    [historic] = [r for r in secrets if r["ruleId"] == "github-app-token"]
    assert "added in commit" in historic["message"]["text"]
    assert all(r["partialFingerprints"] for r in report(out)["runs"][0]["results"])
    assert "secrets: 2 new" in result.err


def test_a_baseline_keeps_a_moved_secret_known_and_a_new_one_new(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    cli.ok("scan", repo, "--tools", "none", "--no-dependencies", "--write-baseline", baseline)
    assert PAT not in baseline.read_text()
    settings = repo / "app" / "settings.py"
    moved = repo / "config" / "prod.py"
    moved.parent.mkdir()
    moved.write_text("\n\n\n" + settings.read_text())  # another file, another line
    settings.write_text(f'OTHER = "{APP}"\n')  # a new secret on the old line

    out = tmp_path / "scan.sarif"
    args = ("--tools", "none", "--no-dependencies", "--baseline", baseline, "--out", out)
    result = cli.ok("scan", repo, *args)

    [new] = run_of(report(out), "shieldwall-secrets")["results"]
    assert new["ruleId"] == "github-app-token"
    assert "1 in the baseline" in result.err


def test_locked_packages_are_matched_offline_and_uploaded_once_per_vulnerability(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    out = tmp_path / "scan.sarif"
    unmatched = cli.ok("scan", repo, "--tools", "none", "--no-secrets", "--out", out)
    assert "no advisories are loaded" in unmatched.err
    advisories = tmp_path / "osv"
    advisories.mkdir()
    record = osv_record("GHSA-j8r2-6x86-q33q", "CVE-2023-32681", "requests", "2.31.1", CRITICAL)
    (advisories / "GHSA-j8r2-6x86-q33q.json").write_text(json.dumps(record))
    cli.ok("intel", "load", "osv", advisories)

    cli.ok("scan", repo, "--tools", "none", "--out", out, "--service", "ledger", "--upload")

    [result] = run_of(report(out), "shieldwall-deps")["results"]
    assert result["ruleId"] == "GHSA-j8r2-6x86-q33q"
    assert "Fixed Version: 2.31.1" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert (location["artifactLocation"]["uri"], location["region"]["startLine"]) == (
        "requirements.txt",
        1,
    )
    listed = json.loads(cli.ok("findings", "list", "--service", "ledger", "--format", "json").out)
    [dependency] = [f for f in listed if f["kind"] == "dependency"]
    # The scan's result and the server's own matching of the uploaded components are one.
    assert sorted(dependency["tools"]) == ["shieldwall-deps", "shieldwall-intel"]
    assert dependency["fixed_version"] == "2.31.1"
    [secret] = [f for f in listed if f["kind"] == "secret"]
    assert secret["priority"] in ("P0", "P1")
    components = cli.ok("components", "--service", "ledger", "--format", "json").out
    assert {c["name"] for c in json.loads(components)} == {"requests"}


def test_external_tools_run_when_installed_and_are_reported_when_not(
    cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bandit"  # writes SARIF where `-o` says, as bandit does
    run = {"tool": {"driver": {"name": "Bandit", "rules": []}}, "results": []}
    fake.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done\n'
        f"printf '%s' '{json.dumps({'version': '2.1.0', 'runs': [run]})}' > \"$out\"\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    out = tmp_path / "scan.sarif"

    result = cli.ok("scan", repo, "--tools", "bandit,checkov", "--no-dependencies", "--out", out)

    names = [r["tool"]["driver"]["name"] for r in report(out)["runs"]]
    assert names == ["shieldwall-secrets", "Bandit"]
    assert "checkov is not installed: its checks did not run" in result.err


def test_bad_input_is_one_line_and_exit_2(cli: Cli, tmp_path: Path, repo: Path) -> None:
    missing = cli("scan", tmp_path / "nowhere")
    assert missing.code == 2
    assert "nowhere: does not exist" in missing.err
    bad = tmp_path / "baseline.json"
    bad.write_text("{not json")
    refused = cli("scan", repo, "--baseline", bad, "--tools", "none")
    assert refused.code == 2
    assert "baseline.json: not a JSON baseline" in refused.err
    assert cli("scan", repo, "--tools", "nmap").code == 2


def test_posture_as_scripts_read_it(sqlite_cli: Cli) -> None:
    bad = sqlite_cli("posture", fixture("posture", "bad"), "--format", "json")
    assert bad.code == 1  # a check failed
    rows = json.loads(bad.out)
    assert all(set(row) == {"check", "result", "reason"} for row in rows)
    results = {row["check"]: row["result"] for row in rows}
    assert results["dangerous-workflow"] == "fail"
    assert results["pinned-actions"] == "fail"
    good = sqlite_cli("posture", fixture("posture", "good"), "--format", "json")
    assert good.code == 0
    assert {row["result"] for row in json.loads(good.out)} <= {"pass", "not_applicable"}
    listed = sqlite_cli.ok("posture", ".", "--list", "--format", "json").out
    assert {"token-permissions", "secrets-scanning"} <= {c["check"] for c in json.loads(listed)}
