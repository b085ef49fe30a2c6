"""A snapshot of the intelligence store in one file, for installations without network.

The bundle is a zip holding each feed in its publisher's own format, so that importing it
is loading those files with the ordinary loaders (and a person can inspect it):

- ``manifest.json``: format, version, when it was made, the feeds it holds;
- ``osv.zip``: one OSV JSON record per advisory;
- ``kev.json``: the KEV catalog in CISA's format;
- ``epss.csv.gz``: the EPSS scores in FIRST's daily CSV format.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.atomic import atomic_file
from shieldwall.clock import isoformat, utcnow
from shieldwall.errors import InputError
from shieldwall.intel import store
from shieldwall.intel.models import Advisory, AdvisoryPackage, EpssScore, IntelFeed, KevEntry

FORMAT = "shieldwall-intel-bundle"
VERSION = 1
_MEMBERS = ("manifest.json", "osv.zip", "kev.json", "epss.csv.gz")
MAX_MEMBER_SIZE = 4 * 1024**3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def export_bundle(session: Session, path: Path) -> dict[str, int]:
    """Write the bundle next to ``path`` and move it into place when complete."""
    counts: dict[str, int] = {}
    with (
        atomic_file(path, binary=True) as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle,
    ):
        counts["osv"] = _write_osv(session, bundle)
        kev = list(session.scalars(select(KevEntry).order_by(KevEntry.cve_id)))
        bundle.writestr("kev.json", json.dumps(_kev_document(session, kev), indent=1))
        counts["kev"] = len(kev)
        counts["epss"] = _write_epss(session, bundle)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": isoformat(utcnow()),
            "records": counts,
        }
        bundle.writestr("manifest.json", json.dumps(manifest, indent=1))
    return counts


def _write_osv(session: Session, bundle: zipfile.ZipFile) -> int:
    packages: dict[int, list[AdvisoryPackage]] = {}
    for package in session.scalars(select(AdvisoryPackage).order_by(AdvisoryPackage.id)):
        packages.setdefault(package.advisory_id, []).append(package)
    inner = io.BytesIO()
    count = 0
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as osv:
        for advisory in session.scalars(select(Advisory).order_by(Advisory.vuln_id)):
            record = _osv_record(advisory, packages.get(advisory.id, []))
            osv.writestr(f"{_SAFE_NAME.sub('_', advisory.vuln_id)}.json", json.dumps(record))
            count += 1
    bundle.writestr("osv.zip", inner.getvalue(), compress_type=zipfile.ZIP_STORED)
    return count


def _osv_record(advisory: Advisory, packages: list[AdvisoryPackage]) -> dict[str, Any]:
    """The stored advisory as an OSV record (references that point at an exploit keep the
    EVIDENCE type that marks them)."""
    exploits = set(advisory.exploit_references)
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": advisory.vuln_id,
        "aliases": advisory.aliases,
        "modified": isoformat(advisory.modified or advisory.loaded_at),
        "affected": [
            {
                "package": {
                    "ecosystem": p.ecosystem,
                    "name": p.name,
                    **({"purl": p.purl} if p.purl else {}),
                },
                "ranges": [
                    {"type": r["type"], "events": [{k: v} for k, v in r["events"]]}  # type: ignore[attr-defined]
                    for r in p.ranges
                ],
                "versions": p.versions,
            }
            for p in packages
        ],
        "references": [
            {"type": "EVIDENCE" if url in exploits else "WEB", "url": url}
            for url in dict.fromkeys([*advisory.references, *advisory.exploit_references])
        ],
        "database_specific": {"cwe_ids": advisory.cwe_ids},
    }
    for key, value in (
        ("summary", advisory.summary),
        ("details", advisory.details),
        ("published", advisory.published and isoformat(advisory.published)),
        ("withdrawn", advisory.withdrawn and isoformat(advisory.withdrawn)),
    ):
        if value:
            record[key] = value
    if advisory.cvss_vector:
        kind = (
            "CVSS_V4"
            if advisory.cvss_vector.startswith("CVSS:4")
            else ("CVSS_V3" if advisory.cvss_vector.startswith("CVSS:3") else "CVSS_V2")
        )
        record["severity"] = [{"type": kind, "score": advisory.cvss_vector}]
    return record


def _kev_document(session: Session, entries: list[KevEntry]) -> dict[str, Any]:
    feed = session.get(IntelFeed, "kev")
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities (Shieldwall bundle)",
        "catalogVersion": feed.version if feed else None,
        "dateReleased": isoformat(feed.loaded_at) if feed else isoformat(utcnow()),
        "count": len(entries),
        "vulnerabilities": [
            {
                "cveID": e.cve_id,
                "vendorProject": e.vendor,
                "product": e.product,
                "vulnerabilityName": e.name,
                "dateAdded": e.date_added.isoformat(),
                "dueDate": e.due_date.isoformat() if e.due_date else None,
                "knownRansomwareCampaignUse": "Known" if e.ransomware else "Unknown",
                "notes": e.notes or "",
            }
            for e in entries
        ],
    }


def _write_epss(session: Session, bundle: zipfile.ZipFile) -> int:
    feed = session.get(IntelFeed, "epss")
    header = "#model_version:{},score_date:{}T00:00:00Z\n".format(
        (feed.version if feed else None) or "unknown",
        feed.data_date.isoformat() if feed and feed.data_date else utcnow().date().isoformat(),
    )
    count = 0
    with bundle.open("epss.csv.gz", "w") as member, gzip.open(member, "wt", newline="") as out:
        out.write(header + "cve,epss,percentile\n")
        for row in session.execute(
            select(EpssScore.cve_id, EpssScore.score, EpssScore.percentile).order_by(
                EpssScore.cve_id
            )
        ):
            out.write(f"{row.cve_id},{row.score:.5f},{row.percentile:.5f}\n")
            count += 1
    return count


def import_bundle(session: Session, path: Path) -> list[store.LoadResult]:
    """Load every feed of the bundle in the caller's transaction."""
    try:
        bundle = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise InputError.in_file(path, "no such file") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError.in_file(path, "not a Shieldwall intelligence bundle (not a zip)") from exc
    with bundle, tempfile.TemporaryDirectory(prefix="shieldwall-bundle-") as folder:
        names = {info.filename: info for info in bundle.infolist()}
        missing = [m for m in _MEMBERS if m not in names]
        if missing:
            raise InputError.in_file(path, f"not a Shieldwall intelligence bundle: no {missing[0]}")
        for name in _MEMBERS:
            _extract(bundle, names[name], Path(folder) / name, path)
        manifest = _manifest(Path(folder) / "manifest.json", path)
        origin = f"bundle {path.name} ({manifest.get('created', 'undated')})"
        return [
            store.load_osv(session, Path(folder) / "osv.zip", origin=origin),
            store.load_kev(session, Path(folder) / "kev.json", origin=origin),
            store.load_epss(session, Path(folder) / "epss.csv.gz", origin=origin),
        ]


def _extract(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, path: Path) -> None:
    """Copy one member out, stopping at the size limit whatever the header claims."""
    if info.file_size > MAX_MEMBER_SIZE:
        raise InputError.in_file(path, f"{info.filename} is larger than {MAX_MEMBER_SIZE} bytes")
    written = 0
    with bundle.open(info) as source, target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > MAX_MEMBER_SIZE:
                raise InputError.in_file(
                    path, f"{info.filename} is larger than {MAX_MEMBER_SIZE} bytes"
                )
            out.write(chunk)


def _manifest(member: Path, path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(member.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.in_file(path, "manifest.json is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError.in_file(path, "not a Shieldwall intelligence bundle (manifest format)")
    if manifest.get("version") != VERSION:
        raise InputError.in_file(
            path, f"bundle version {manifest.get('version')!r} is not supported (expected 1)"
        )
    return manifest
