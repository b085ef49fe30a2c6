"""Importing a report: parse, identify, deduplicate, and keep each scan stream's findings
correct as scans repeat.

One transaction per import, so a report that fails half-way leaves the database exactly as
before. Work is done in batches: per batch one lookup of existing findings, one id
allocation, one insert, one update and one sighting upsert, whatever the batch holds; the
closing of what a complete scan no longer reports is a few set-based statements at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from packageurl import PackageURL
from sqlalchemy import (
    Row,
    Table,
    Text,
    and_,
    bindparam,
    exists,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from shieldwall.audit import service as audit
from shieldwall.clock import isoformat, utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database, allocate_ids, execute_many
from shieldwall.errors import InputError
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import CLOSABLE_STATUSES, Kind, Source, Status
from shieldwall.ids import new_uid
from shieldwall.ingest import registry
from shieldwall.ingest.identity import secret_digest, snippet_hash
from shieldwall.ingest.lifecycle import (
    ASSESSED_COLUMNS,
    SCANNER_COLUMNS,
    UPDATE_COLUMNS,
    merge,
    report_digest,
    status_change,
)
from shieldwall.ingest.models import Component, ReportImport, ScanStream, Sighting
from shieldwall.ingest.normalize import ecosystem_of, parse_purl, redact_secret
from shieldwall.ingest.parsing import DESCRIPTION_MAX
from shieldwall.ingest.pipeline import Item, Parsed, identified, parsed
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import ProgressCallback, ReportSource
from shieldwall.inventory.models import Service
from shieldwall.inventory.service import get_service
from shieldwall.risk.policy import Policy, current_policy
from shieldwall.risk.service import RISK_COLUMNS, Prioritizer
from shieldwall.text import clean

_IMPORT_LOCK = 0x5357_494D  # "SWIM": with the service id, serialises imports into a service
_FINDINGS = cast(Table, Finding.__table__)
_SIGHTINGS = cast(Table, Sighting.__table__)
_COMPONENTS = cast(Table, Component.__table__)
_LICENSES_MAX = 20
_WRITTEN = (*UPDATE_COLUMNS, *RISK_COLUMNS)
"""What a re-import may change in a finding's row."""


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    service: str
    format: str = "auto"
    branch: str = ""
    commit: str | None = None
    partial: bool = False
    actor: str = "cli"
    queued: str | None = None
    """The uid of the queued import (API uploads) this request carries out."""


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
    check_request(request)
    source = ReportSource(
        request.path,
        max_size=settings.max_report_size,
        max_depth=settings.max_json_depth,
        progress=progress,
    )
    fmt = registry.resolve(source, request.format)
    policy = current_policy(settings.policy)
    with db.write() as session:
        importer = _Importer(
            session, request, fmt.name, source.size, settings.import_batch_size, policy
        )
        with closing(parsed(source, fmt, settings.parse_process_min_size)) as items:
            importer.run(items)
        # Imported here rather than at the top: these modules import findings through this
        # one. New findings of a rule an approved exception covers arrive accepted, and
        # components are matched in the import's transaction.
        from shieldwall.exceptions.service import apply_rule_exceptions
        from shieldwall.intel.match import match_service

        apply_rule_exceptions(session, importer.service.id)
        if importer.listing:
            match_service(session, importer.service, request.branch, policy, settings)
        return importer.summary


def import_records(
    session: Session,
    request: ImportRequest,
    format_name: str,
    records: Iterable[Record],
    *,
    batch_size: int,
    policy: Policy,
) -> ImportSummary:
    """Records produced by Shieldwall itself (advisory matches), imported as a report would
    be, in the caller's transaction."""
    importer = _Importer(session, request, format_name, 0, batch_size, policy)
    importer.run(identified(records))
    return importer.summary


_COMMIT = re.compile(r"^[0-9A-Za-z._/-]{1,64}$")
_BRANCH_MAX = 255


def check_request(request: ImportRequest) -> None:
    check_request_fields(request.branch, request.commit)


def check_request_fields(branch: str, commit: str | None) -> None:
    """The branch and commit a report (or a gate run) is recorded with."""
    if commit is not None and not _COMMIT.match(commit):
        raise InputError(
            f"--commit {commit[:80]!r} is not a commit (at most 64 letters and digits)"
        )
    if len(branch) > _BRANCH_MAX or not branch.isprintable():
        raise InputError(f"--branch must be at most {_BRANCH_MAX} printable characters")


class _Pending:
    """One finding of the current batch: the results that report it, the streams that saw
    it, and (built only when it is new or changed) its column values. ``seal`` works out
    its tools and digest once every result of the batch has joined."""

    __slots__ = ("_values", "digest", "results", "streams", "tools")

    def __init__(self, result: Parsed, stream_id: int) -> None:
        self.results = [result]
        self.streams = {stream_id}
        self.tools: list[str] = []
        self.digest = ""
        self._values: dict[str, Any] | None = None

    def seal(self) -> None:
        results = self.results
        if len(results) == 1:
            self.tools, self.digest = [results[0].tool], results[0].digest
        else:
            self.tools = sorted({result.tool for result in results})
            self.digest = report_digest([result.digest for result in results])

    @property
    def values(self) -> dict[str, Any]:
        if self._values is None:
            values = finding_values(self.results[0].record)
            for other in self.results[1:]:
                _merge_same_report(values, other.record)
            values["tools"] = self.tools
            values["scan_digest"] = self.digest
            self._values = values
        return self._values


class _Importer:
    def __init__(
        self,
        session: Session,
        request: ImportRequest,
        format_name: str,
        size: int,
        batch_size: int,
        policy: Policy,
    ) -> None:
        self.session = session
        self.request = request
        self.batch_size = batch_size
        self.now = utcnow()
        self.service = get_service(session, request.service)
        self.prioritizer = Prioritizer(session, policy, self.now)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:a, :b)"),
                {"a": _IMPORT_LOCK, "b": self.service.id},
            )
        if request.queued is None:
            self.record = ReportImport(
                uid=new_uid(),
                service_id=self.service.id,
                filename=request.path.name[:255],
                branch=request.branch,
                commit=request.commit,
                partial=request.partial,
                actor=request.actor,
                tools=[],
            )
            session.add(self.record)
        else:
            self.record = session.scalars(
                select(ReportImport).where(ReportImport.uid == request.queued)
            ).one()
        self.record.format = format_name
        self.record.size_bytes = size
        self.record.state = "running"
        self.record.started_at = self.now
        session.flush()
        self.summary = ImportSummary(
            self.record.uid, self.service.name, format_name, partial=request.partial
        )
        self.streams: dict[str, int] = {}
        self.scanning: set[str] = set()  # tools whose runs looked for problems
        self.listing: set[int] = set()  # streams that brought components
        self.seen_prefixes: set[int] = set()  # of this import's earlier batches: _candidates
        self.current_tool = format_name

    # --- the pipeline ---------------------------------------------------------------------

    def run(self, items: Iterable[Item]) -> None:
        findings: list[Parsed] = []
        components: list[RawComponent] = []
        component_streams: list[int] = []
        for item in items:
            if type(item) is Parsed:
                self._stream(item.tool)
                self.scanning.add(item.tool)
                findings.append(item)
                if len(findings) >= self.batch_size:
                    self._findings(findings)
                    findings.clear()
            elif isinstance(item, RawComponent):
                components.append(item)
                component_streams.append(self._stream(self.current_tool))
                self.listing.add(component_streams[-1])
                if len(components) >= self.batch_size:
                    self._components(components, component_streams)
                    components.clear()
                    component_streams.clear()
            elif isinstance(item, ToolRun):
                self.current_tool = item.tool
                self._stream(item.tool)
                if not item.inventory_only:
                    self.scanning.add(item.tool)
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

    def _findings(self, results: Sequence[Parsed]) -> None:
        if not results:
            return
        batch: dict[str, _Pending] = {}
        for result in results:
            stream_id = self.streams[result.tool]
            pending = batch.get(result.fingerprint)
            if pending is None:
                batch[result.fingerprint] = _Pending(result, stream_id)
            else:
                pending.results.append(result)
                pending.streams.add(stream_id)
        existing, handled = self._candidates(list(batch))
        new_ids = iter(allocate_ids(self.session, "findings", len(batch) - len(existing)))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        tool_updates: list[dict[str, Any]] = []
        to_read: dict[int, _Pending] = {}
        sightings: list[dict[str, Any]] = []
        for fingerprint, pending in batch.items():
            pending.seal()
            row = existing.get(fingerprint)
            if row is None:
                finding_id = next(new_ids)
                inserts.append(self._new_row(finding_id, fingerprint, pending.values))
                self.summary.created += 1
            elif fingerprint in handled:
                # Already handled by this import (another run in the report, an earlier
                # batch): only another tool may join; nothing is counted twice.
                finding_id = row.id
                known = json.loads(row.tools)
                tools = sorted({*known, *pending.tools})
                if tools != known:
                    tool_updates.append({"_id": finding_id, "tools": tools})
            else:
                finding_id = row.id
                # Whether the status changes; _reconcile works out the change itself.
                change = status_change(
                    row.status, row.status_source, pending.results[0].status, None, pending.tools
                )
                if (
                    change is None
                    and row.tools == _json_list(tuple(pending.tools))
                    and row.scan_digest == pending.digest
                ):
                    self.summary.unchanged += 1
                else:
                    to_read[finding_id] = pending
            sightings.extend(
                {"finding_id": finding_id, "stream_id": stream_id} for stream_id in pending.streams
            )
        if to_read:
            updates = self._reconcile(to_read)
        self.prioritizer.stamp_new(inserts, self.service.id)
        execute_many(self.session, self._insert, inserts)
        for rows, columns in ((updates, _WRITTEN), (tool_updates, ("tools",))):
            if rows:
                self.session.execute(
                    update(_FINDINGS)
                    .where(_FINDINGS.c.id == bindparam("_id"))
                    .values({column: bindparam(column) for column in columns}),
                    rows,
                )
        upsert = _upsert(self.session, _SIGHTINGS).values(
            first_import_id=self.record.id,
            last_import_id=self.record.id,
            last_seen=self.now,
            present=True,
        )
        execute_many(
            self.session,
            upsert.on_conflict_do_update(
                index_elements=["finding_id", "stream_id"],
                set_={
                    "last_import_id": upsert.excluded.last_import_id,
                    "last_seen": upsert.excluded.last_seen,
                    "present": True,
                },
            ),
            sightings,
        )

    def _candidates(self, fingerprints: list[str]) -> tuple[dict[str, Row[Any]], set[str]]:
        """The existing findings of the batch (only what decides whether they changed), and
        which of them this import has already handled (another run in the report, an
        earlier batch).

        The handled ones are remembered as 64-bit fingerprint prefixes, about 70 bytes per
        finding of the report, and a prefix seen again is confirmed in the sightings, so a
        collision cannot make a finding count as handled.
        """
        query = select(
            _FINDINGS.c.id,
            _FINDINGS.c.fingerprint,
            _FINDINGS.c.status,
            _FINDINGS.c.status_source,
            # As JSON text: parsing it for every row would cost more than the lookup. A
            # different spelling of the same list only sends the finding to _reconcile.
            _FINDINGS.c.tools.cast(Text).label("tools"),
            _FINDINGS.c.scan_digest,
        ).where(
            _FINDINGS.c.service_id == self.service.id, _FINDINGS.c.fingerprint.in_(fingerprints)
        )
        existing = {row.fingerprint: row for row in self.session.execute(query).all()}
        prefixes = {fingerprint: int(fingerprint[:16], 16) for fingerprint in fingerprints}
        seen = self.seen_prefixes
        again = {
            row.id: fingerprint
            for fingerprint, row in existing.items()
            if prefixes[fingerprint] in seen
        }
        handled: set[str] = set()
        if again:
            confirmed = select(_SIGHTINGS.c.finding_id).where(
                _SIGHTINGS.c.finding_id.in_(list(again)),
                _SIGHTINGS.c.last_import_id == self.record.id,
            )
            handled = {again[finding_id] for finding_id in self.session.scalars(confirmed)}
        seen.update(prefixes.values())
        return existing, handled

    def _reconcile(self, pending: dict[int, _Pending]) -> list[dict[str, Any]]:
        """Read the findings whose report differs and work out their new values; count them."""
        query = select(
            _FINDINGS.c.id,
            _FINDINGS.c.severity_source,
            _FINDINGS.c.first_seen,
            *(_FINDINGS.c[c] for c in _WRITTEN),
        ).where(_FINDINGS.c.id.in_(list(pending)))
        news: list[dict[str, Any]] = []
        rows = [r._asdict() for r in self.session.execute(query)]
        for row in rows:
            incoming = pending[row["id"]].values
            tools = sorted({*row["tools"], *incoming["tools"]})
            new = {
                **row,
                **merge(row, incoming, shared=bool(set(row["tools"]) - set(incoming["tools"]))),
                "tools": tools,
                "scan_digest": incoming["scan_digest"],
            }
            change = status_change(
                row["status"],
                row["status_source"],
                incoming["_status"],
                incoming["_status_reason"],
                tools,
            )
            if change is None:
                if any(new[c] != row[c] for c in ASSESSED_COLUMNS):
                    self.summary.updated += 1
                else:
                    self.summary.unchanged += 1
            else:
                new.update(
                    status=change.status.value,
                    status_source=Source.SCANNER.value,
                    status_reason=change.reason,
                    status_by=None,
                    status_at=self.now,
                )
                if change.reopened:
                    # A regression starts a new SLA clock.
                    new.update(fixed_at=None, reopen_count=row["reopen_count"] + 1, _restart=True)
                    self.summary.reopened += 1
                else:
                    self.summary.updated += 1
            news.append(new)
        self.prioritizer.restamp(news, self.service.id)
        return [
            {"_id": row["id"], **{c: new[c] for c in _WRITTEN}}
            for row, new in zip(rows, news, strict=True)
            if any(new[c] != row[c] for c in _WRITTEN)
        ]

    def _new_row(self, finding_id: int, fingerprint: str, values: dict[str, Any]) -> dict[str, Any]:
        """What differs between the new findings of an import (``_insert`` adds the rest)."""
        status = values["_status"] or Status.OPEN
        return {
            **{c: values[c] for c in (*SCANNER_COLUMNS, "tools", "scan_digest")},
            "id": finding_id,
            "uid": new_uid(),
            "fingerprint": fingerprint,
            "status": status.value,
            "status_reason": values["_status_reason"],
        }

    @property
    def _insert(self) -> Any:
        """The insert for new findings: what is the same for all of them is bound once in
        the statement instead of converted once per row."""
        return insert(_FINDINGS).values(
            service_id=self.service.id,
            severity_source=Source.SCANNER.value,
            status_source=Source.SCANNER.value,
            status_by=None,
            status_at=self.now,
            first_seen=self.now,
            fixed_at=None,
            reopen_count=0,
        )

    # --- components ------------------------------------------------------------------------

    def _components(self, raws: Sequence[RawComponent], stream_ids: Sequence[int]) -> None:
        if not raws:
            return
        rows: dict[tuple[int, str], dict[str, Any]] = {}
        for raw, stream_id in zip(raws, stream_ids, strict=True):
            values = component_values(raw)
            rows.setdefault((stream_id, values["key"]), {**values, "stream_id": stream_id})
        self.summary.components += len(rows)
        upsert = _upsert(self.session, _COMPONENTS).values(
            service_id=self.service.id,
            first_seen=self.now,
            last_seen=self.now,
            last_import_id=self.record.id,
        )
        execute_many(
            self.session,
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
            for tool in sorted(self.scanning):
                self.summary.closed += self._close_missing(tool, self.streams[tool])
            if self.listing:
                # Only a report that lists components replaces them: a vulnerability scan
                # that names none leaves the SBOM's inventory alone.
                self.session.execute(
                    _COMPONENTS.delete().where(
                        _COMPONENTS.c.stream_id.in_(sorted(self.listing)),
                        _COMPONENTS.c.last_import_id != imp,
                    )
                )
        if stream_ids:
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
                _FINDINGS.c.status.in_(sorted(s.value for s in CLOSABLE_STATUSES)),
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


@lru_cache(maxsize=256)
def _json_list(values: tuple[str, ...]) -> str:
    """A list as the database's JSON text gives it back (both engines write ``", "``)."""
    return json.dumps(list(values))


def finding_values(raw: RawFinding) -> dict[str, Any]:
    """A parsed finding as column values: no raw secret, no raw snippet, no control
    characters (PostgreSQL refuses NUL), every string within its column."""
    title, description = raw.title, raw.description
    digest = secret_digest(raw) if raw.secret or raw.secret_sha1 else None
    preview = None
    if raw.secret:
        preview = redact_secret(raw.secret)
        if len(raw.secret) >= 4:
            title = title.replace(raw.secret, preview)
            description = description.replace(raw.secret, preview) if description else None
    component = raw.component
    purl = _purl(component.purl) if component else None
    values: dict[str, Any] = {
        "kind": raw.kind.value,
        "rule_id": _fit(raw.rule_id, "rule_id") or "unknown",
        "title": _fit(title, "title") or raw.rule_id,
        "description": clean(description, DESCRIPTION_MAX) if description else None,
        "severity": raw.severity.value,
        "severity_rank": raw.severity.rank,
        "tool_severity": _fit(raw.tool_severity, "tool_severity"),
        "cwe_ids": list(raw.cwe_ids),
        "vulnerability_ids": list(raw.vulnerability_ids),
        "references": list(raw.references),
        "path": _fit(raw.path, "path"),
        "line": raw.line,
        "end_line": raw.end_line,
        "snippet_hash": None if raw.kind is Kind.SECRET else snippet_hash(raw.snippet),
        "component_purl": component.purl if component and purl else None,
        "component_name": _fit(component.name, "component_name") if component else None,
        "component_version": _fit_exact(component.version, "component_version")
        if component
        else None,
        "ecosystem": _fit_exact(ecosystem_of(purl, component.ecosystem), "ecosystem")
        if component
        else None,
        "fixed_version": _fit_exact(raw.fixed_version, "fixed_version"),
        "secret_hash": digest,
        "secret_preview": preview,
        "tools": [raw.tool],
        "_status": raw.status,
        "_status_reason": clean(raw.status_reason, DESCRIPTION_MAX) if raw.status_reason else None,
    }
    return values


_LIMITS = {
    column.name: length
    for table in (_FINDINGS, _COMPONENTS)
    for column in table.columns
    if (length := getattr(column.type, "length", None))
}


def _fit(value: str | None, column: str) -> str | None:
    """Text for a column: control characters removed, cut to the column's length."""
    return clean(value, _LIMITS[column]) if value else None


def _fit_exact(value: str | None, column: str) -> str | None:
    """An identifier for a column (a version, an ecosystem): one that does not fit is
    dropped, because a cut one would be wrong."""
    if not value or len(value) > _LIMITS[column]:
        return None
    return clean(value) or None


def _purl(value: str | None) -> PackageURL | None:
    if not value or len(value) > _LIMITS["purl"]:
        return None
    return parse_purl(value)


def _merge_same_report(values: dict[str, Any], other: RawFinding) -> None:
    """Two results of one report that are one finding: the first wins, lists are united."""
    for column in ("cwe_ids", "vulnerability_ids", "references"):
        merged = list(values[column])
        merged.extend(v for v in getattr(other, column) if v not in merged)
        values[column] = merged


def component_values(raw: RawComponent) -> dict[str, Any]:
    purl = _purl(raw.purl)
    identity = raw.purl if purl else f"{raw.ecosystem or ''}:{raw.name}@{raw.version or ''}"
    return {
        "key": hashlib.sha256(str(identity).encode("utf-8")).hexdigest()[:32],
        "purl": raw.purl if purl else None,
        "name": _fit(raw.name, "name") or "(unnamed)",
        "version": _fit_exact(raw.version, "version"),
        "ecosystem": _fit_exact(ecosystem_of(purl, raw.ecosystem), "ecosystem"),
        "licenses": [lic for lic in (_fit(x, "name") for x in raw.licenses[:_LICENSES_MAX]) if lic],
    }


def _upsert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def list_components(session: Session, service: str | None = None) -> list[dict[str, Any]]:
    """The components each service's reports list (SBOMs, scanners' package lists)."""
    query = (
        select(Service.name, ScanStream.tool, ScanStream.branch, Component)
        .join(Component, Component.service_id == Service.id)
        .join(ScanStream, ScanStream.id == Component.stream_id)
        .order_by(Service.name, Component.name, Component.version, ScanStream.tool)
    )
    if service is not None:
        query = query.where(Service.id == get_service(session, service).id)
    return [
        {
            "service": service_name,
            "name": component.name,
            "version": component.version,
            "ecosystem": component.ecosystem,
            "purl": component.purl,
            "licenses": component.licenses,
            "tool": tool,
            "branch": branch,
            "first_seen": isoformat(component.first_seen),
            "last_seen": isoformat(component.last_seen),
        }
        for service_name, tool, branch, component in session.execute(query)
    ]
