"""The intelligence store through the CLI: loads (idempotent, KEV removals), matching
components into findings that open and close, bundles, sync, the SLA report and policy."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import Cli, fixture

ORG = fixture("inventory", "org.yaml")


def osv_record(vuln_id: str, cve: str, package: str, fixed: str, vector: str) -> dict[str, object]:
    return {
        "id": vuln_id,
        "aliases": [cve],
        "modified": "2026-01-01T00:00:00Z",
        "summary": f"{package} is vulnerable",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        "references": [{"type": "WEB", "url": f"https://example.com/{vuln_id}"}],
    }


CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def sbom(path: Path, components: dict[str, str]) -> Path:
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [
                    {
                        "type": "library",
                        "name": name,
                        "version": version,
                        "purl": f"pkg:pypi/{name}@{version}",
                    }
                    for name, version in components.items()
                ],
            }
        )
    )
    return path


def kev(path: Path, cves: list[str]) -> Path:
    entries = [
        {
            "cveID": cve,
            "vendorProject": "Example",
            "product": "example",
            "vulnerabilityName": "Example flaw",
            "dateAdded": "2024-03-02",
            "shortDescription": "",
            "requiredAction": "Patch.",
            "dueDate": "2024-03-23",
            "knownRansomwareCampaignUse": "Unknown",
            "notes": "",
        }
        for cve in cves
    ]
    path.write_text(
        json.dumps(
            {
                "title": "KEV",
                "catalogVersion": "2026.11.20",
                "dateReleased": "2026-11-20T12:00:00.000Z",
                "count": len(entries),
                "vulnerabilities": entries,
            }
        )
    )
    return path


def epss(path: Path, rows: dict[str, float]) -> Path:
    text = "#model_version:v2025.03.14,score_date:2026-11-20T00:00:00Z\ncve,epss,percentile\n"
    text += "".join(f"{cve},{score},{score}\n" for cve, score in rows.items())
    path.write_bytes(gzip.compress(text.encode()))
    return path


@pytest.fixture
def store(cli: Cli, tmp_path: Path) -> Cli:
    cli.ok("inventory", "import", ORG)
    advisories = tmp_path / "osv"
    advisories.mkdir()
    for record in (
        osv_record("PYSEC-2026-1", "CVE-2026-1001", "requests", "2.32.0", CRITICAL),
        osv_record("GHSA-aaaa-bbbb-cccc", "CVE-2026-1002", "Django", "4.2.10", CRITICAL),
    ):
        (advisories / f"{record['id']}.json").write_text(json.dumps(record))
    cli.ok("intel", "load", "osv", advisories)
    return cli


def queue(cli: Cli, service: str) -> list[dict[str, object]]:
    out = cli.ok("findings", "list", "--service", service, "--format", "json").out
    return json.loads(out)  # type: ignore[no-any-return]


def test_components_become_findings_with_the_fix_and_close_when_upgraded(
    store: Cli, tmp_path: Path
) -> None:
    report = sbom(tmp_path / "sbom.json", {"requests": "2.31.0", "django": "4.2.1", "six": "1.0"})
    store.ok("import", report, "--service", "ledger")
    found = {f["component_name"]: f for f in queue(store, "ledger")}
    assert set(found) == {"requests", "django"}
    assert found["requests"]["fixed_version"] == "2.32.0"
    assert "CVE-2026-1001" in found["requests"]["vulnerability_ids"]
    assert found["django"]["priority"] is not None

    store.ok(
        "import", sbom(report, {"requests": "2.32.0", "django": "4.2.1"}), "--service", "ledger"
    )
    assert {f["component_name"] for f in queue(store, "ledger")} == {"django"}


def test_intel_match_finds_components_stored_before_the_advisory(cli: Cli, tmp_path: Path) -> None:
    cli.ok("inventory", "import", ORG)
    cli.ok("import", sbom(tmp_path / "s.json", {"requests": "2.0.0"}), "--service", "ledger")
    assert queue(cli, "ledger") == []
    folder = tmp_path / "osv"
    folder.mkdir()
    record = osv_record("PYSEC-2026-9", "CVE-2026-9009", "requests", "2.1.0", CRITICAL)
    (folder / "r.json").write_text(json.dumps(record))
    cli.ok("intel", "load", "osv", folder)
    [finding] = queue(cli, "ledger")
    assert finding["rule_id"] == "PYSEC-2026-9"


def test_kev_and_epss_raise_the_priority_and_a_removal_lowers_it_again(
    store: Cli, tmp_path: Path
) -> None:
    store.ok("import", sbom(tmp_path / "s.json", {"requests": "2.31.0"}), "--service", "ledger")
    [before] = queue(store, "ledger")
    assert before["kev"] is False

    store.ok("intel", "load", "kev", kev(tmp_path / "kev.json", ["CVE-2026-1001"]))
    store.ok("intel", "load", "epss", epss(tmp_path / "epss.csv.gz", {"CVE-2026-1001": 0.9}))
    [listed] = queue(store, "ledger")
    assert listed["kev"] is True
    assert listed["epss"] == 0.9
    assert int(str(listed["priority"])[1]) < int(str(before["priority"])[1])
    explained = json.loads(store.ok("findings", "explain", listed["id"], "--format", "json").out)
    assert any("in KEV since 2024-03-02" in f["text"] for f in explained["factors"])

    again = store.ok("intel", "load", "kev", kev(tmp_path / "kev.json", []))
    assert "1 removed" in again.err
    [after] = queue(store, "ledger")
    assert after["kev"] is False


def test_loading_the_same_records_again_changes_nothing(store: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    result = store.ok("intel", "load", "osv", folder)
    assert "0 new, 0 changed, 2 unchanged" in result.err


def test_a_bundle_moves_the_store_to_another_installation(
    store: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ok("intel", "load", "kev", kev(tmp_path / "kev.json", ["CVE-2026-1002"]))
    store.ok("intel", "load", "epss", epss(tmp_path / "e.csv.gz", {"CVE-2026-1002": 0.5}))
    bundle = tmp_path / "intel.zip"
    store.ok("intel", "export-bundle", bundle)

    monkeypatch.setenv("SHIELDWALL_DATABASE_URL", f"sqlite:///{tmp_path / 'airgap.db'}")
    store.ok("inventory", "import", ORG)
    imported = store.ok("intel", "import-bundle", bundle)
    assert "osv: 2 records (2 new" in imported.err
    assert "kev: 1 records (1 new" in imported.err
    status = {r["feed"]: r for r in json.loads(store.ok("intel", "status", "-f", "json").out)}
    assert status["kev"]["records"] == 1
    assert status["epss"]["records"] == 1
    store.ok("import", sbom(tmp_path / "s.json", {"django": "4.0"}), "--service", "ledger")
    [finding] = queue(store, "ledger")
    assert finding["kev"] is True


def test_a_damaged_bundle_is_refused_and_loads_nothing(store: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    result = store("intel", "import-bundle", bad)
    assert result.code == 2
    assert "bad.zip" in result.err


class _Feeds(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feeds_server(tmp_path: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_sync_downloads_and_loads_each_feed(
    store: Cli, tmp_path: Path, feeds_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _Feeds.files = {
        "/kev.json": kev(tmp_path / "k.json", ["CVE-2026-1001"]).read_bytes(),
        "/epss.csv.gz": epss(tmp_path / "e.gz", {"CVE-2026-1001": 0.3}).read_bytes(),
    }
    monkeypatch.setenv("SHIELDWALL_INTEL_KEV_URL", f"{feeds_server}/kev.json")
    monkeypatch.setenv("SHIELDWALL_INTEL_EPSS_URL", f"{feeds_server}/epss.csv.gz")
    monkeypatch.setenv("SHIELDWALL_INTEL_OSV_URL", f"{feeds_server}/{{ecosystem}}/all.zip")
    result = store("intel", "sync", "--ecosystem", "PyPI")
    assert "downloads from the network" in result.err
    assert "kev: 1 records" in result.err
    assert "osv:PyPI" in result.err  # reported, not fatal
    assert "HTTP 404" in result.err
    assert result.code == 2
    status = {r["feed"] for r in json.loads(store.ok("intel", "status", "-f", "json").out)}
    assert {"kev", "epss"} <= status


def test_sync_without_network_says_so(store: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEV", "EPSS", "OSV"):
        monkeypatch.setenv(f"SHIELDWALL_INTEL_{name}_URL", "http://127.0.0.1:9/feed")
    result = store("intel", "sync", "--ecosystem", "PyPI")
    assert result.code == 2
    assert "cannot reach 127.0.0.1 (no network?)" in result.err
    assert "import-bundle" in result.err


def test_a_policy_file_changes_thresholds_and_reprioritises(
    store: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ok("import", sbom(tmp_path / "s.json", {"requests": "2.31.0"}), "--service", "ledger")
    [before] = queue(store, "ledger")
    policy = tmp_path / "policy.yaml"
    policy.write_text("sla:\n  days: {P0: 1, P1: 2, P2: 3, P3: 4, P4: 5}\n")
    monkeypatch.setenv("SHIELDWALL_POLICY", str(policy))
    shown = store.ok("policy", "show").out
    assert "P4: 5" in shown
    assert "epss_poc_threshold: 0.1" in shown
    [after] = queue(store, "ledger")
    assert after["priority"] == before["priority"]
    assert str(after["sla_due"]) < str(before["sla_due"])


def test_a_bad_policy_file_names_the_file_and_line(
    store: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("exploitation:\n  epss_poc_threshold: 7\n")
    monkeypatch.setenv("SHIELDWALL_POLICY", str(policy))
    result = store("findings", "list")
    assert result.code == 2
    assert f"{policy}:2" in result.err


def test_sla_report_counts_open_findings_per_team_and_priority(store: Cli, tmp_path: Path) -> None:
    store.ok("import", sbom(tmp_path / "s.json", {"requests": "2.31.0"}), "--service", "ledger")
    rows = json.loads(store.ok("sla", "report", "--format", "json").out)
    assert sum(r["open"] for r in rows if r["team"] == "platform") == 1
    assert all(r["breached"] == 0 for r in rows)
