"""``/api/v1/threat-models``: push a model version for one of the caller's services, read
models, their threats, versions and diffs, treat a threat, and threat-model coverage."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shieldwall.auth.policy import Action, Principal
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.ingest.service import check_request_fields
from shieldwall.risk.policy import current_policy
from shieldwall.threatmodel import diagram, store
from shieldwall.threatmodel.diff import to_json
from shieldwall.threatmodel.links import linked_findings
from shieldwall.threatmodel.model import MAX_MODEL_BYTES
from shieldwall.threatmodel.tracking import MAX_TRACKING_BYTES, parse_tracking
from shieldwall.web.deps import API_PREFIX, app_settings, database, reading, require

router = APIRouter(prefix=API_PREFIX, tags=["threat models"])
Importer = Annotated[Principal, Depends(require(Action.IMPORT))]
Reader = Annotated[Principal, Depends(require(Action.READ))]
Triager = Annotated[Principal, Depends(require(Action.TRIAGE))]


async def _text(upload: UploadFile, limit: int) -> str:
    content = await upload.read(limit + 1)
    name = Path(upload.filename or "upload").name
    if len(content) > limit:
        raise InputError.in_file(name, f"above the limit of {limit} bytes")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError.in_file(name, "not UTF-8 text") from None


@router.post("/threat-models", status_code=201)
async def push_model(
    caller: Importer,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    model: Annotated[UploadFile, File(description="The threat model YAML.")],
    tracking: Annotated[UploadFile | None, File(description="Its tracking file.")] = None,
    service: Annotated[str | None, Form(max_length=100)] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    commit: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, Any]:
    """Store the model as the next version of the service's model (the service is the
    form's, else the model's `service:`); an unchanged model keeps its version. 422 with
    the file, line and problem when the model is invalid."""
    check_request_fields("", commit)
    filename = Path(model.filename or "model.yaml").name
    source = await _text(model, MAX_MODEL_BYTES)
    treatments = None
    if tracking is not None:
        tracking_name = Path(tracking.filename or "tracking.yaml").name
        treatments = parse_tracking(Path(tracking_name), await _text(tracking, MAX_TRACKING_BYTES))
    with db.write() as session:
        result = store.push(
            session,
            source=source,
            filename=filename,
            service=service,
            name=name,
            actor=caller.actor,
            tracking=treatments,
            commit=commit,
            caller=caller,
            policy=current_policy(settings.policy),
        )
    return asdict(result)


@router.get("/threat-models")
def list_models(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    service: str | None = None,
) -> list[dict[str, Any]]:
    """The caller's teams' threat models, with their latest version's summary."""
    return store.model_rows(session, caller, service)


@router.get("/threat-models/coverage")
def model_coverage(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict[str, Any]:
    """Tier-0 and tier-1 services with a model reviewed in the last `days` days."""
    rows = store.coverage(session, days, caller)
    return {"days": days, "share_covered": store.coverage_share(rows), "services": rows}


@router.get("/threat-models/{model_id}")
def get_model(
    model_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> dict[str, Any]:
    """The model's latest version, its threats with their treatment, and the open findings
    that match an open threat's CWE."""
    model = store.find_model(session, model_id, caller)
    (row,) = store.model_rows(session, caller, model_uid=model.uid)
    linked = linked_findings(session, model)
    return {
        **row,
        "threats": [
            {**store.threat_view(t), "findings": [f.uid for f in linked.get(t.threat_id, [])]}
            for t in store.threats(session, model)
        ],
    }


@router.get("/threat-models/{model_id}/versions")
def list_versions(
    model_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> list[dict[str, Any]]:
    """Every version, newest first."""
    model = store.find_model(session, model_id, caller)
    return [store.version_view(v) for v in store.versions(session, model)]


@router.get("/threat-models/{model_id}/diff")
def diff_versions(
    model_id: str,
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """What changed from version `old` to version `new`, and what it does to the threats."""
    model = store.find_model(session, model_id, caller)
    return to_json(store.diff_versions(session, model, old, new))


@router.get("/threat-models/{model_id}/diagram.svg")
def model_diagram(
    model_id: str,
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The data-flow diagram of a version (the latest by default), as SVG."""
    model = store.find_model(session, model_id, caller)
    analysis = store.analysis_of(session, model, version)
    return Response(
        diagram.svg(analysis, engine="builtin"),
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@router.post("/threat-models/{model_id}/threats/{threat_id:path}/treatment")
def treat_threat(
    model_id: str,
    threat_id: str,
    caller: Triager,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str | None, Form(max_length=4000)] = None,
    owner: Annotated[str | None, Form(max_length=320)] = None,
    expires: Annotated[dt.date | None, Form()] = None,
    ticket: Annotated[str | None, Form(max_length=500)] = None,
) -> dict[str, Any]:
    """Decide how a threat is treated. The caller decides: for an acceptance, the caller is
    the approver and must not be the owner; it needs a reason and an expiry, and the right
    to approve risk (as exceptions do)."""
    if status == "accepted" and not caller.allowed(Action.APPROVE):
        raise HTTPException(403, "this credential may not approve a risk acceptance")
    with db.write() as session:
        return store.treat(
            session,
            model_id,
            threat_id,
            status=status,
            reason=reason,
            owner=owner,
            expires=expires,
            ticket=ticket,
            actor=caller.actor,
            caller=caller,
            policy=current_policy(settings.policy),
        )
