"""``/api/v1/imports``: upload a report (202 with the import's id), then follow its state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Action, Principal
from shieldwall.db.engine import Database
from shieldwall.ingest.models import ReportImport
from shieldwall.ingest.queued import Upload, import_view, queue_import, visible_imports
from shieldwall.inventory.models import Service
from shieldwall.web.deps import API_PREFIX, database, principal, reading, require
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, each, paginate

router = APIRouter(prefix=API_PREFIX, tags=["imports"])
Importer = Annotated[Principal, Depends(require(Action.IMPORT))]
Reader = Annotated[Principal, Depends(require(Action.READ))]


@router.post("/imports", status_code=202)
def create_import(
    request: Request,
    caller: Importer,
    db: Annotated[Database, Depends(database)],
    file: Annotated[UploadFile, File(description="The scanner's report (gzip is fine).")],
    service: Annotated[str, Form(max_length=100)],
    branch: Annotated[str, Form(max_length=255)] = "",
    commit: Annotated[str | None, Form(max_length=64)] = None,
    partial: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """Queue a report for import into one of the caller's services. The answer (202) has the
    import's id; `GET /api/v1/imports/{id}` follows it to `done` or `failed`."""
    upload = Upload(
        filename=file.filename or "report",
        service=service.strip(),
        branch=branch.strip(),
        commit=commit.strip() or None if commit else None,
        partial=partial,
    )
    with db.write() as session:
        body = import_view(queue_import(session, caller, upload, file.file))
    request.app.state.jobs.defer_import(body["id"])  # once committed: a worker will find it
    location = f"{API_PREFIX}/imports/{body['id']}"
    return JSONResponse(body, status_code=202, headers={"Location": location})


def _view(session: Session, uid: str, caller: Principal) -> dict[str, Any]:
    query = visible_imports(caller).where(ReportImport.uid == uid)
    if not caller.allowed(Action.READ):
        # An ingest-only credential follows the imports it made, and reads nothing else.
        query = query.where(ReportImport.actor == caller.actor)
    record = session.scalars(query).one_or_none()
    if record is None:
        raise HTTPException(404, "no such import")
    return import_view(record)


@router.get("/imports/{import_id}")
def get_import(
    import_id: str,
    caller: Annotated[Principal, Depends(principal)],
    session: Annotated[Session, Depends(reading)],
) -> dict[str, Any]:
    """An import's state (`queued`, `running`, `done`, `failed` with the reason) and summary.
    An ingest token sees the imports it made."""
    if not (caller.allowed(Action.READ) or caller.allowed(Action.IMPORT)):
        raise HTTPException(403, "this credential may not read imports")
    return _view(session, import_id, caller)


@router.get("/imports", response_model=Page[dict[str, Any]])
def list_imports(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    service: str | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[dict[str, Any]]:
    """The caller's teams' imports, newest first."""
    query = visible_imports(caller)
    if service is not None:
        query = query.where(ReportImport.service.has(Service.name == service))
    if state is not None:
        query = query.where(ReportImport.state == state)
    return paginate(
        session,
        query,
        [ReportImport.id],
        cursor,
        limit,
        each(import_view),
        descending=True,
        options=[selectinload(ReportImport.service)],
    )
