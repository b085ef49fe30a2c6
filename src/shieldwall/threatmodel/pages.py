"""Threat model pages: the list with coverage, one model (diagram, threats with their
treatment and the findings that match them, versions), a diff between versions, and the
treatment form."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from shieldwall.auth.policy import Action
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.risk.policy import current_policy
from shieldwall.threatmodel import diagram, store
from shieldwall.threatmodel.diff import diff as model_diff
from shieldwall.threatmodel.links import linked_findings
from shieldwall.threatmodel.vocabulary import ThreatStatus
from shieldwall.web.deps import app_settings, database, reading
from shieldwall.web.pages import Editor, Viewer, render, require_action, router, see_other

COVERAGE_DAYS = 90


@router.get("/threat-models")
def threat_models_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    days: Annotated[int, Query(ge=1, le=3650)] = COVERAGE_DAYS,
) -> HTMLResponse:
    """Every visible model, and which tier-0 and tier-1 services have a recent review."""
    caller = viewer.active.principal
    coverage = store.coverage(session, days, caller)
    return render(
        request,
        viewer,
        "threat_models.html",
        rows=store.model_rows(session, caller),
        coverage=coverage,
        share=store.coverage_share(coverage),
        days=days,
    )


@router.get("/threat-models/{model_id}")
def threat_model_page(
    model_id: str,
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    error: str | None = None,
) -> HTMLResponse:
    caller = viewer.active.principal
    model = store.find_model(session, model_id, caller)
    analysis = store.analysis_of(session, model)
    (row,) = store.model_rows(session, caller, model_uid=model.uid)
    return render(
        request,
        viewer,
        "threat_model.html",
        model=model,
        row=row,
        # Built by our own renderer from escaped text (see diagram.svg): safe to inline.
        picture=Markup(diagram.svg(analysis, engine="builtin")),  # noqa: S704
        threats=store.threats(session, model),
        findings=linked_findings(session, model),
        versions=store.versions(session, model),
        statuses=[s.value for s in ThreatStatus],
        error=error,
        today=utcnow().date().isoformat(),
    )


@router.get("/threat-models/{model_id}/diff")
def threat_model_diff_page(
    model_id: str,
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> HTMLResponse:
    model = store.find_model(session, model_id, viewer.active.principal)
    result = model_diff(
        store.analysis_of(session, model, old), store.analysis_of(session, model, new)
    )
    return render(
        request, viewer, "threat_model_diff.html", model=model, old=old, new=new, diff=result
    )


@router.post("/threat-models/{model_id}/treat")
def treat_from_page(
    model_id: str,
    request: Request,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    threat_id: Annotated[str, Form(max_length=300)],
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    owner: Annotated[str, Form(max_length=320)] = "",
    expires: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A treatment from the model's page; a refusal is shown there with its reason."""
    require_action(viewer, Action.APPROVE if status == "accepted" else Action.TRIAGE)
    try:
        when = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        return _refused(model_id, request, viewer, db, f"expires {expires!r} is not a date")
    try:
        with db.write() as session:
            store.treat(
                session,
                model_id,
                threat_id,
                status=status,
                reason=reason or None,
                owner=owner or None,
                expires=when,
                ticket=None,
                actor=viewer.active.principal.actor,
                caller=viewer.active.principal,
                policy=current_policy(settings.policy),
            )
    except InputError as exc:
        return _refused(model_id, request, viewer, db, exc.message)
    return see_other(f"/threat-models/{model_id}")


def _refused(
    model_id: str, request: Request, viewer: Editor, db: Database, message: str
) -> HTMLResponse:
    with db.read() as session:
        page = threat_model_page(model_id, request, viewer, session, error=message)
    page.status_code = 400
    return page
