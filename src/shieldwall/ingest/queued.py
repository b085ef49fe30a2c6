"""Imports through the API: the upload is stored with a queued import, and a background job
(``shieldwall.jobs``) carries it out with the same ``import_report`` as the command line.

The report waits in the database (``UploadChunk``) rather than on the receiving host's disk,
so that a worker on any host can take the job; the chunks go when the import has an outcome.
States: ``queued`` → ``running`` → ``done`` | ``failed`` (with the one-line reason).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session

from shieldwall.audit import service as audit
from shieldwall.auth.policy import Principal
from shieldwall.clock import isoformat, utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError, NotFoundError, ShieldwallError
from shieldwall.ids import new_uid
from shieldwall.ingest.models import ReportImport, UploadChunk
from shieldwall.ingest.service import ImportRequest, check_request, import_report
from shieldwall.inventory.models import Service
from shieldwall.text import clean

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
INTERNAL_FAILURE = "internal error while importing (a bug; the server log has the details)"


@dataclass(frozen=True)
class Upload:
    """What an API client sent besides the file."""

    filename: str
    service: str
    branch: str = ""
    commit: str | None = None
    partial: bool = False


def queue_import(
    session: Session, caller: Principal, upload: Upload, content: BinaryIO
) -> ReportImport:
    """Store the report as a queued import of one of the caller's services.

    A service of another team is reported missing, like one that does not exist."""
    service = session.scalars(
        select(Service).where(Service.name == upload.service, caller.team_filter(Service.team_id))
    ).one_or_none()
    if service is None:
        raise NotFoundError(f"service {upload.service!r} is not in the inventory")
    filename = clean(Path(upload.filename).name, 255)
    if filename in ("", ".", ".."):
        filename = "report"
    check_request(
        ImportRequest(
            path=Path(filename), service=service.name, branch=upload.branch, commit=upload.commit
        )
    )
    record = ReportImport(
        uid=new_uid(),
        service_id=service.id,
        format=None,
        filename=filename,
        size_bytes=0,
        branch=upload.branch,
        commit=upload.commit,
        partial=upload.partial,
        state=QUEUED,
        actor=caller.actor,
        tools=[],
        queued_at=utcnow(),
        started_at=utcnow(),
    )
    session.add(record)
    session.flush()
    size = 0
    seq = 0
    while chunk := content.read(CHUNK_SIZE):
        session.execute(insert(UploadChunk).values(import_id=record.id, seq=seq, data=chunk))
        size += len(chunk)
        seq += 1
    if size == 0:
        raise InputError(f"{filename}: the uploaded file is empty")
    record.size_bytes = size
    audit.record(
        session,
        actor=caller.actor,
        action="import.queued",
        entity_type="import",
        entity_id=record.uid,
        after={
            "service": service.name,
            "file": filename,
            "size": size,
            "branch": upload.branch,
            "commit": upload.commit,
            "partial": upload.partial,
        },
    )
    return record


def run_queued_import(db: Database, settings: Settings, uid: str) -> None:
    """Carry out a queued import (a job). Whatever happens, the import ends ``done`` or
    ``failed`` and its upload is removed. Running it again after it ended does nothing."""
    with db.write() as session:
        row = session.execute(
            select(ReportImport, Service.name)
            .join(Service, Service.id == ReportImport.service_id)
            .where(ReportImport.uid == uid)
        ).one_or_none()
        if row is None or row[0].state not in (QUEUED, RUNNING):
            return
        record, service = row
        record.state = RUNNING  # a RUNNING one was cut off (its transaction rolled back)
        request = ImportRequest(
            path=Path(record.filename),
            service=service,
            branch=record.branch,
            commit=record.commit,
            partial=record.partial,
            actor=record.actor,
            queued=uid,
        )
        import_id = record.id
    folder = Path(tempfile.mkdtemp(prefix="shieldwall-import-"))
    try:
        path = folder / request.path.name
        with db.read() as session, path.open("wb") as out:
            chunks = session.execute(
                select(UploadChunk.data)
                .where(UploadChunk.import_id == import_id)
                .order_by(UploadChunk.seq)
                .execution_options(yield_per=16)
            )
            for (data,) in chunks:
                out.write(data)
        import_report(db, replace(request, path=path), settings)
    except ShieldwallError as exc:
        _fail(db, import_id, exc.message.replace(str(folder) + "/", ""))
    except Exception:
        log.exception("import %s failed", uid)
        _fail(db, import_id, INTERNAL_FAILURE)
    else:
        with db.write() as session:
            session.execute(delete(UploadChunk).where(UploadChunk.import_id == import_id))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fail(db: Database, import_id: int, reason: str) -> None:
    with db.write() as session:
        record = session.get_one(ReportImport, import_id)
        record.state = FAILED
        record.error = reason.splitlines()[0][:2000] if reason else INTERNAL_FAILURE
        record.finished_at = utcnow()
        session.execute(delete(UploadChunk).where(UploadChunk.import_id == import_id))
        audit.record(
            session,
            actor=record.actor,
            action="import.failed",
            entity_type="import",
            entity_id=record.uid,
            after={"error": record.error},
        )


def visible_imports(caller: Principal) -> Select[ReportImport]:
    """The imports into the caller's teams' services."""
    return select(ReportImport).where(
        ReportImport.service_id.in_(select(Service.id).where(caller.team_filter(Service.team_id)))
    )


def unfinished(session: Session) -> list[str]:
    """Imports queued or cut off while running, oldest first: what an in-process job runner
    takes up again when the server starts."""
    return list(
        session.scalars(
            select(ReportImport.uid)
            .where(ReportImport.state.in_((QUEUED, RUNNING)))
            .order_by(ReportImport.id)
        )
    )


def import_view(record: ReportImport) -> dict[str, Any]:
    """An import as the API and the web pages show it."""
    return {
        "id": record.uid,
        "service": record.service.name,
        "state": record.state,
        "error": record.error,
        "filename": record.filename,
        "format": record.format,
        "size_bytes": record.size_bytes,
        "branch": record.branch,
        "commit": record.commit,
        "partial": record.partial,
        "actor": record.actor,
        "tools": record.tools,
        "summary": {
            "created": record.created,
            "unchanged": record.unchanged,
            "updated": record.updated,
            "closed": record.closed,
            "reopened": record.reopened,
            "total": record.total,
            "components": record.components,
        },
        "queued_at": isoformat(record.queued_at),
        "started_at": isoformat(record.started_at),
        "finished_at": isoformat(record.finished_at),
    }
