"""Importing a report: parse, identify, deduplicate, and keep each scan stream's findings
correct as scans repeat.

One transaction per import, so a report that fails half-way leaves the database exactly as
before. Work is done in batches: per batch one lookup of existing findings, one id
allocation, one insert, one update and one sighting upsert, whatever the batch holds; the
closing of what a complete scan no longer reports is a few set-based statements at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from shieldwall.audit import service as audit
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database, allocate_ids
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, ASSESSED_STATUSES, Source, Status
from shieldwall.ids import new_uid
from shieldwall.ingest import registry
from shieldwall.ingest.identity import IdentityAssigner, secret_digest, snippet_hash
from shieldwall.ingest.models import Component, ReportImport, ScanStream, Sighting
from shieldwall.ingest.normalize import (
    ecosystem_of,
    parse_purl,
    redact_secret,
)
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from shieldwall.ingest.source import ProgressCallback, ReportSource
from shieldwall.inventory.service import get_service

_IMPORT_LOCK = 0x5357_494D  # "SWIM": with the service id, serialises imports into a service
_FINDINGS = cast(Table, Finding.__table__)
_SIGHTINGS = cast(Table, Sighting.__table__)
_COMPONENTS = cast(Table, Component.__table__)

# Columns a re-import may change; ``_ASSESSED`` are the ones whose change counts as "updated"
# (a line move or a reworded description is tracked silently).
_MUTABLE = (
    "kind",
    "rule_id",
    "title",
    "description",
    "severity",
    "tool_severity",
    "cwe_ids",
    "vulnerability_ids",
    "references",
    "path",
    "line",
    "end_line",
    "snippet_hash",
    "component_purl",
    "component_name",
    "component_version",
    "ecosystem",
    "fixed_version",
    "secret_hash",
    "secret_preview",
    "tools",
    "status",
    "status_source",
    "status_reason",
    "status_by",
    "status_at",
    "fixed_at",
    "reopen_count",
)
_ASSESSED = (
    "title",
    "severity",
    "cwe_ids",
    "vulnerability_ids",
    "fixed_version",
    "component_version",
    "tools",
    "status",
)
_COMPARED = tuple(c for c in _MUTABLE if c not in ("status_at", "status_reason", "status_by"))


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    service: str
    format: str = "auto"
    branch: str = ""
    commit: str | None = None
    partial: bool = False
    actor: str = "cli"


@dataclass
class ImportSummary:
    id: str
    service: str
    format: str
    tools: list[str] = field(default_factory=list)
    partial: bool = False
    created: int = 0
    unchanged: int = 0
    updated: int = 0
    closed: int = 0
    reopened: int = 0
    components: int = 0

    @property
    def total(self) -> int:
        """Distinct findings in the report."""
        return self.created + self.unchanged + self.updated + self.reopened

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "updated": self.updated,
            "closed": self.closed,
            "reopened": self.reopened,
            "total": self.total,
        }


def import_report(
    db: Database,
    request: ImportRequest,
    settings: Settings,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    source = ReportSource(
        request.path,
        max_size=settings.max_report_size,
        max_depth=settings.max_json_depth,
        progress=progress,
    )
    fmt = registry.resolve(source, request.format)
    with db.write() as session:
        importer = _Importer(session, request, fmt.name, source, settings.import_batch_size)
        importer.run(fmt.parse(source))
        return importer.summary


@dataclass
class _Pending:
    """One finding of the current batch: its column values and the streams that saw it."""

    values: dict[str, Any]
    streams: set[int]


class _Importer:
    def __init__(
        self,
        session: Session,
        request: ImportRequest,
        format_name: str,
        source: ReportSource,
        batch_size: int,
    ) -> None:
        self.session = session
        self.request = request
        self.batch_size = batch_size
        self.now = utcnow()
        self.service = get_service(session, request.service)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:a, :b)"),
                {"a": _IMPORT_LOCK, "b": self.service.id},
            )
        self.record = ReportImport(
            uid=new_uid(),
            service_id=self.service.id,
            format=format_name,
            filename=request.path.name[:255],
            size_bytes=source.size,
            branch=request.branch,
            commit=request.commit,
            partial=request.partial,
            state="running",
            actor=request.actor,
            tools=[],
            started_at=self.now,
        )
        session.add(self.record)
        session.flush()
        self.summary = ImportSummary(
            self.record.uid, self.service.name, format_name, partial=request.partial
        )
        self.streams: dict[str, int] = {}
        self.identity = IdentityAssigner()
        self.seen: set[int] = set()  # findings already handled in this import (later batches)
        self.current_tool = format_name

    # --- the pipeline ---------------------------------------------------------------------

    def run(self, records: Iterable[object]) -> None:
        findings: list[RawFinding] = []
        components: list[RawComponent] = []
        component_streams: list[int] = []
        for record in records:
            if isinstance(record, RawFinding):
                self._stream(record.tool)
                findings.append(record)
                if len(findings) >= self.batch_size:
                    self._findings(findings)
                    findings.clear()
            elif isinstance(record, RawComponent):
                components.append(record)
                component_streams.append(self._stream(self.current_tool))
                if len(components) >= self.batch_size:
                    self._components(components, component_streams)
                    components.clear()
                    component_streams.clear()
            elif isinstance(record, ToolRun):
                self.current_tool = record.tool
                self._stream(record.tool)
        self._findings(findings)
        self._components(components, component_streams)
        self._finish()

    def _stream(self, tool: str) -> int:
        stream_id = self.streams.get(tool)
        if stream_id is not None:
            return stream_id
        stream = self.session.scalars(
            select(ScanStream).where(
                ScanStream.service_id == self.service.id,
                ScanStream.tool == tool,
                ScanStream.branch == self.request.branch,
            )
        ).one_or_none()
        if stream is None:
            stream = ScanStream(service_id=self.service.id, tool=tool, branch=self.request.branch)
            self.session.add(stream)
            self.session.flush()
        self.streams[tool] = stream.id
        return stream.id

    # --- findings ---------------------------------------------------------------------------

    def _findings(self, raws: Sequence[RawFinding]) -> None:
        if not raws:
            return
        batch: dict[str, _Pending] = {}
        for raw in raws:
            fingerprint = self.identity.fingerprint(raw)
            stream_id = self.streams[raw.tool]
            pending = batch.get(fingerprint)
            if pending is None:
                batch[fingerprint] = _Pending(finding_values(raw), {stream_id})
            else:
                _merge(pending.values, finding_values(raw))
                pending.streams.add(stream_id)
        existing = {
            row.fingerprint: row._asdict()
            for row in self.session.execute(
                select(
                    _FINDINGS.c.id,
                    _FINDINGS.c.fingerprint,
                    _FINDINGS.c.severity_source,
                    *(_FINDINGS.c[c] for c in _MUTABLE),
                ).where(
                    _FINDINGS.c.service_id == self.service.id,
                    _FINDINGS.c.fingerprint.in_(list(batch)),
                )
            )
        }
        new_ids = iter(
            allocate_ids(self.session, "findings", sum(1 for fp in batch if fp not in existing))
        )
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        sightings: list[dict[str, Any]] = []
        for fingerprint, pending in batch.items():
            row = existing.get(fingerprint)
            if row is None:
                finding_id = next(new_ids)
                inserts.append(self._new_row(finding_id, fingerprint, pending.values))
                self.summary.created += 1
            else:
                finding_id = row["id"]
                changed = self._reconcile(row, pending.values, again=finding_id in self.seen)
                if changed is not None:
                    updates.append(changed)
            self.seen.add(finding_id)
            sightings.extend(
                {
                    "finding_id": finding_id,
                    "stream_id": stream_id,
                    "first_import_id": self.record.id,
                    "last_import_id": self.record.id,
                    "present": True,
                }
                for stream_id in pending.streams
            )
        if inserts:
            self.session.execute(insert(_FINDINGS), inserts)
        if updates:
            self.session.execute(
                update(_FINDINGS)
                .where(_FINDINGS.c.id == bindparam("_id"))
                .values({column: bindparam(column) for column in _MUTABLE}),
                updates,
            )
        upsert = _upsert(self.session, _SIGHTINGS)
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=["finding_id", "stream_id"],
                set_={"last_import_id": upsert.excluded.last_import_id, "present": True},
            ),
            sightings,
        )

    def _new_row(self, finding_id: int, fingerprint: str, values: dict[str, Any]) -> dict[str, Any]:
        status = values.pop("_status") or Status.OPEN
        reason = values.pop("_status_reason")
        return {
            **values,
            "id": finding_id,
            "uid": new_uid(),
            "service_id": self.service.id,
            "fingerprint": fingerprint,
            "severity_source": Source.SCANNER.value,
            "status": status.value,
            "status_source": Source.SCANNER.value,
            "status_reason": reason,
            "status_by": None,
            "status_at": self.now,
            "first_seen": self.now,
            "last_seen": self.now,
            "fixed_at": None,
            "reopen_count": 0,
        }

    def _reconcile(
        self, row: dict[str, Any], incoming: dict[str, Any], *, again: bool
    ) -> dict[str, Any] | None:
        """The row's new values (None when nothing changes), and the summary counted.

        ``again`` means this import already handled the finding in an earlier batch (another
        run of the same report found it too): only the tools are merged, nothing counted.
        """
        scanner_status: Status | None = incoming.pop("_status")
        scanner_reason = incoming.pop("_status_reason")
        new = dict(row)
        if again:
            new["tools"] = sorted(set(row["tools"]) | set(incoming["tools"]))
        else:
            for column, value in incoming.items():
                new[column] = value
            new["tools"] = sorted(set(row["tools"]) | set(incoming["tools"]))
            if row["severity_source"] != Source.SCANNER:
                new["severity"] = row["severity"]  # a person's (or VEX's) assessment stands
            reopened = self._apply_status(row, new, scanner_status, scanner_reason)
            if reopened:
                self.summary.reopened += 1
            elif any(new[c] != row[c] for c in _ASSESSED):
                self.summary.updated += 1
            else:
                self.summary.unchanged += 1
        if all(new[c] == row[c] for c in _COMPARED):
            return None
        return {"_id": row["id"], **{c: new[c] for c in _MUTABLE}}

    def _apply_status(
        self,
        row: dict[str, Any],
        new: dict[str, Any],
        scanner_status: Status | None,
        reason: str | None,
    ) -> bool:
        """Lifecycle on re-import; True when the finding is reopened (a regression)."""
        if row["status_source"] != Source.SCANNER and row["status"] in ASSESSED_STATUSES:
            return False  # a person's (or VEX's) false_positive / not_affected stands
        if scanner_status is not None:
            target, why = scanner_status, reason
        elif row["status"] == Status.FIXED:
            target, why = Status.REOPENED, f"reported again by {', '.join(new['tools'])}"
        elif row["status"] in ACTIVE_STATUSES:
            return False
        else:
            target, why = Status.OPEN, "no longer suppressed by the tool"
        if row["status"] == target:
            return False
        new.update(
            status=target.value,
            status_source=Source.SCANNER.value,
            status_reason=why,
            status_by=None,
            status_at=self.now,
        )
        if target is Status.REOPENED:
            new.update(fixed_at=None, reopen_count=row["reopen_count"] + 1)
            return True
        return False

    # --- components ------------------------------------------------------------------------

    def _components(self, raws: Sequence[RawComponent], stream_ids: Sequence[int]) -> None:
        if not raws:
            return
        rows: dict[tuple[int, str], dict[str, Any]] = {}
        for raw, stream_id in zip(raws, stream_ids, strict=True):
            values = component_values(raw)
            rows.setdefault(
                (stream_id, values["key"]),
                {
                    **values,
                    "service_id": self.service.id,
                    "stream_id": stream_id,
                    "first_seen": self.now,
                    "last_seen": self.now,
                    "last_import_id": self.record.id,
                },
            )
        self.summary.components += len(rows)
        upsert = _upsert(self.session, _COMPONENTS)
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=["stream_id", "key"],
                set_={
                    "last_seen": upsert.excluded.last_seen,
                    "last_import_id": upsert.excluded.last_import_id,
                    "licenses": upsert.excluded.licenses,
                },
            ),
            list(rows.values()),
        )

    # --- closing and bookkeeping -------------------------------------------------------------

    def _finish(self) -> None:
        imp = self.record.id
        stream_ids = list(self.streams.values())
        if not self.request.partial:
            for tool, stream_id in self.streams.items():
                self.summary.closed += self._close_missing(tool, stream_id)
            if stream_ids:
                self.session.execute(
                    _COMPONENTS.delete().where(
                        _COMPONENTS.c.stream_id.in_(stream_ids), _COMPONENTS.c.last_import_id != imp
                    )
                )
        if stream_ids:
            seen_now = select(_SIGHTINGS.c.finding_id).where(
                _SIGHTINGS.c.stream_id.in_(stream_ids), _SIGHTINGS.c.last_import_id == imp
            )
            self.session.execute(
                update(_FINDINGS).where(_FINDINGS.c.id.in_(seen_now)).values(last_seen=self.now)
            )
            stream_values: dict[str, Any] = {"last_import_id": imp, "last_import_at": self.now}
            if not self.request.partial:
                stream_values["last_complete_at"] = self.now
            self.session.execute(
                update(ScanStream).where(ScanStream.id.in_(stream_ids)).values(stream_values)
            )
        self.summary.tools = sorted(self.streams)
        record = self.record
        record.tools = self.summary.tools
        record.state = "done"
        record.finished_at = utcnow()
        for name, value in self.summary.counts().items():
            setattr(record, name, value)
        record.components = self.summary.components
        audit.record(
            self.session,
            actor=self.request.actor,
            action="import.completed",
            entity_type="import",
            entity_id=record.uid,
            after={
                "service": self.service.name,
                "file": record.filename,
                "format": record.format,
                "branch": record.branch,
                "commit": record.commit,
                "partial": record.partial,
                "tools": record.tools,
                **self.summary.counts(),
                "components": record.components,
            },
        )

    def _close_missing(self, tool: str, stream_id: int) -> int:
        """A complete scan closes what its stream reported before and not now, unless
        another stream still reports it."""
        imp = self.record.id
        self.session.execute(
            update(_SIGHTINGS)
            .where(
                _SIGHTINGS.c.stream_id == stream_id,
                _SIGHTINGS.c.last_import_id != imp,
                _SIGHTINGS.c.present.is_(True),
            )
            .values(present=False)
        )
        other = aliased(Sighting)
        gone = select(_SIGHTINGS.c.finding_id).where(
            _SIGHTINGS.c.stream_id == stream_id, _SIGHTINGS.c.present.is_(False)
        )
        result = self.session.execute(
            update(_FINDINGS)
            .where(
                _FINDINGS.c.id.in_(gone),
                _FINDINGS.c.status.in_([s.value for s in ACTIVE_STATUSES]),
                ~exists().where(and_(other.finding_id == _FINDINGS.c.id, other.present.is_(True))),
            )
            .values(
                status=Status.FIXED.value,
                status_source=Source.SCANNER.value,
                status_reason=f"no longer reported by {tool}",
                status_by=None,
                status_at=self.now,
                fixed_at=self.now,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def finding_values(raw: RawFinding) -> dict[str, Any]:
    """A parsed finding as column values (no raw secret, no raw snippet)."""
    title, description = raw.title, raw.description
    digest = secret_digest(raw) if raw.secret or raw.secret_sha1 else None
    preview = None
    if raw.secret:
        preview = redact_secret(raw.secret)
        if len(raw.secret) >= 4:
            title = title.replace(raw.secret, preview)
            description = description.replace(raw.secret, preview) if description else None
    component = raw.component
    purl = parse_purl(component.purl) if component else None
    return {
        "kind": raw.kind.value,
        "rule_id": raw.rule_id,
        "title": title,
        "description": description,
        "severity": raw.severity.value,
        "tool_severity": raw.tool_severity[:100] if raw.tool_severity else None,
        "cwe_ids": list(raw.cwe_ids),
        "vulnerability_ids": list(raw.vulnerability_ids),
        "references": list(raw.references),
        "path": raw.path,
        "line": raw.line,
        "end_line": raw.end_line,
        "snippet_hash": None if raw.kind.value == "secret" else snippet_hash(raw.snippet),
        "component_purl": component.purl if component else None,
        "component_name": component.name if component else None,
        "component_version": component.version if component else None,
        "ecosystem": ecosystem_of(purl, component.ecosystem) if component else None,
        "fixed_version": raw.fixed_version,
        "secret_hash": digest,
        "secret_preview": preview,
        "tools": [raw.tool],
        "_status": raw.status,
        "_status_reason": raw.status_reason,
    }


def _merge(values: dict[str, Any], other: dict[str, Any]) -> None:
    """Two reports of one finding in one batch: the first wins, lists are united."""
    for column in ("tools", "cwe_ids", "vulnerability_ids", "references"):
        merged = list(values[column])
        merged.extend(v for v in other[column] if v not in merged)
        values[column] = sorted(merged) if column == "tools" else merged


def component_values(raw: RawComponent) -> dict[str, Any]:
    purl = parse_purl(raw.purl)
    identity = raw.purl or f"{raw.ecosystem or ''}:{raw.name}@{raw.version or ''}"
    return {
        "key": hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32],
        "purl": raw.purl,
        "name": raw.name,
        "version": raw.version,
        "ecosystem": ecosystem_of(purl, raw.ecosystem),
        "licenses": list(raw.licenses),
    }


def _upsert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
