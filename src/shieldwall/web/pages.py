"""The web UI: server-rendered pages (Jinja2), made lively with HTMX where it helps and fully
usable without it and from the keyboard.

Adding a page: a function here (or in a domain's own module) on ``router`` that takes
``Viewer`` and returns ``render(request, viewer, "template.html", **context)``; a link in
``base.html``'s navigation. State changes are POST forms that carry ``csrf`` (``Editor``
checks it) and answer with a redirect (303) to the page that shows the result.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth import service as accounts
from shieldwall.auth import sessions
from shieldwall.auth.policy import Action, Role, TokenScope
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.coverage.service import (
    DEFAULT_STALE_DAYS,
    by_team,
    service_coverage,
    services_of,
)
from shieldwall.db.engine import Database
from shieldwall.errors import InputError, NotFoundError, ShieldwallError
from shieldwall.exceptions import api as exceptions_api
from shieldwall.exceptions import service as exceptions
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.findings import service as findings
from shieldwall.findings.api import Order, page_of_findings
from shieldwall.findings.dashboard import dashboard, open_by_service
from shieldwall.findings.filters import finding_filter
from shieldwall.findings.models import Finding
from shieldwall.findings.service import FindingFilter
from shieldwall.findings.vocabulary import TRIAGE_STATUSES, Kind, Severity, Status
from shieldwall.ingest.models import ReportImport, ScanStream
from shieldwall.ingest.queued import import_view, visible_imports
from shieldwall.intel.api import feed_rows, may_see_feeds
from shieldwall.inventory.models import Service, Team
from shieldwall.inventory.service import service_snapshot, visible_service
from shieldwall.risk.burndown import burndown
from shieldwall.threatmodel.store import model_rows as threat_model_rows
from shieldwall.web.charts import burndown_chart, trend_chart
from shieldwall.web.deps import SESSION_COOKIE, app_settings, database, reading, web_session
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, each, paginate

LOGIN_CSRF_COOKIE = "sw_login"
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Viewing:
    active: sessions.Active
    token: str

    def may(self, action: str) -> bool:
        return self.active.principal.allowed(Action(action))


def viewing(request: Request, db: Annotated[Database, Depends(database)]) -> Viewing:
    found = web_session(request, db)
    if found is None:  # error_page sends the browser to the login page
        raise HTTPException(401, "log in first")
    return Viewing(*found)


Viewer = Annotated[Viewing, Depends(viewing)]


async def _csrf_field(request: Request) -> str:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    form = await request.form()
    value = form.get("csrf")
    return value if isinstance(value, str) else ""


async def editing(request: Request, viewer: Viewer) -> Viewing:
    """The viewer of a state-changing form, whose CSRF token must match their session's."""
    if not sessions.same_token(await _csrf_field(request), viewer.active.csrf):
        raise HTTPException(403, "the form has expired: reload the page and try again")
    return viewer


Editor = Annotated[Viewing, Depends(editing)]


_HEADINGS = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
    422: "That did not work",
    429: "Too many requests",
}


def error_page(request: Request, status: int, message: str) -> Response:
    """An error as a page; a page that needs a login sends the browser to log in."""
    if status == 401:
        target = _query_url("/login", {"next": request.url.path})
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return see_other(target)
    heading = _HEADINGS.get(status, "Something went wrong" if status >= 500 else "Error")
    return render(
        request,
        None,
        "error.html",
        status=status,
        heading=heading,
        message=message,
    )


def require_action(viewer: Viewing, action: Action) -> None:
    if not viewer.active.principal.allowed(action):
        raise HTTPException(403, "your role may not do this")


def render(
    request: Request, viewer: Viewing | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    headers = {"cache-control": "no-store"}
    if request.method != "GET":
        # A form answered in place (a refusal, an error): htmx's boosted form would put the
        # form's action in the address bar, where a reload is a GET the route does not have.
        # The address stays that of the page the form was on.
        headers["HX-Push-Url"] = "false"
    return templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "request": request, **context},
        status_code=status,
        headers=headers,
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(value: str | None) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- login and logout ---------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_form(request, next, None, 200)


def _login_form(
    request: Request, next_url: str | None, error: str | None, status: int
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        None,
        "login.html",
        status=status,
        csrf=token,
        next=_safe_next(next_url),
        error=error,
    )
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token, "/login")
    return response


def _set_cookie(response: Response, request: Request, name: str, value: str, path: str) -> None:
    """A cookie scripts cannot read, sent on same-site requests and top-level navigation
    only, and only over https when the site is served over https."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=path,
    )


@router.post("/login")
def login(
    request: Request,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not sessions.same_token(csrf, expected):
        return _login_form(request, next, "The form has expired: try again.", 403)
    try:
        with db.write() as session:
            token = sessions.login(session, email, password, _address(request), settings)
    except sessions.TooManyAttempts as exc:
        return _login_form(request, next, exc.message.capitalize() + ".", 429)
    if token is None:
        # One message for an unknown address, a wrong password and a disabled account.
        return _login_form(request, next, "The email or the password is not right.", 401)
    response = see_other(_safe_next(next))
    _set_cookie(response, request, SESSION_COOKIE, token, "/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(viewer: Editor, db: Annotated[Database, Depends(database)]) -> Response:
    with db.write() as session:
        sessions.logout(session, viewer.token)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- home, services, imports --------------------------------------------------------------


@router.get("/")
def home(
    request: Request, viewer: Viewer, session: Annotated[Session, Depends(reading)]
) -> HTMLResponse:
    figures = dashboard(session, viewer.active.principal)
    return render(
        request,
        viewer,
        "home.html",
        figures=figures,
        severities=[s.value for s in Severity],
        chart=trend_chart(figures.trend),
    )


@router.get("/services")
def services_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    cursor: str | None = None,
) -> HTMLResponse:
    caller = viewer.active.principal
    query = select(Service).where(caller.team_filter(Service.team_id))
    page = paginate(
        session,
        query,
        [Service.name],
        cursor,
        DEFAULT_LIMIT,
        list,
        options=[selectinload(Service.team)],
    )
    counts = open_by_service(session, [s.id for s in page.items])
    return render(request, viewer, "services.html", page=page, open_counts=counts)


@router.get("/services/{service_id}")
def service_page(
    service_id: str,
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    cursor: str | None = None,
) -> HTMLResponse:
    caller = viewer.active.principal
    found = visible_service(session, service_id, caller)
    streams = session.scalars(
        select(ScanStream)
        .where(ScanStream.service_id == found.id)
        .order_by(ScanStream.tool, ScanStream.branch)
    ).all()
    page = page_of_findings(
        session, caller, FindingFilter(services=[found.name]), sort=Order.PRIORITY, cursor=cursor
    )
    return render(
        request,
        viewer,
        "service.html",
        service=found,
        facts=service_snapshot(found),
        coverage=service_coverage(session, [found])[0],
        stale_days=DEFAULT_STALE_DAYS,
        streams=streams,
        threat_models=threat_model_rows(session, caller, found.name),
        page=page,
        more=_query_url(f"/services/{found.uid}", {"cursor": page.next}) if page.next else None,
    )


@router.get("/teams/{team_id}")
def team_page(
    team_id: str,
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
) -> HTMLResponse:
    """A team: its people, and which security checks report on each of its services."""
    team = session.scalars(
        select(Team)
        .where(Team.uid == team_id, viewer.active.principal.team_filter(Team.id))
        .options(selectinload(Team.manager), selectinload(Team.champion))
    ).one_or_none()
    if team is None:  # another team's is as absent as a missing one
        raise NotFoundError("no such team")
    services = service_coverage(session, services_of(session, [team]))
    return render(
        request,
        viewer,
        "team.html",
        team=team,
        services=services,
        summary=by_team([team], services)[0],
        stale_days=DEFAULT_STALE_DAYS,
    )


@router.get("/imports")
def imports_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    cursor: str | None = None,
) -> HTMLResponse:
    page = paginate(
        session,
        visible_imports(viewer.active.principal),
        [ReportImport.id],
        cursor,
        DEFAULT_LIMIT,
        each(import_view),
        descending=True,
        options=[selectinload(ReportImport.service)],
    )
    return render(
        request,
        viewer,
        "imports.html",
        page=page,
        more=_query_url("/imports", {"cursor": page.next}) if page.next else None,
    )


# --- findings -----------------------------------------------------------------------------


def _query_url(path: str, params: dict[str, Any]) -> str:
    pairs = [
        (key, item)
        for key, value in params.items()
        for item in (value if isinstance(value, list) else [value])
        if item not in (None, "")
    ]
    return f"{path}?{urlencode(pairs)}" if pairs else path


@router.get("/findings")
def findings_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    service: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    tool: str | None = None,
    sort: Order = Order.PRIORITY,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> HTMLResponse:
    chosen = {
        "service": [s for s in service or [] if s],
        "status": [s for s in status or [] if s],
        "severity": [s for s in severity or [] if s],
        "kind": [s for s in kind or [] if s],
    }
    filters: dict[str, Any] = {
        **chosen,
        "tool": tool or "",
        "sort": sort.value,
        "limit": limit if limit != DEFAULT_LIMIT else None,
    }
    error = None
    try:
        flt = finding_filter(
            services=chosen["service"],
            status=chosen["status"],
            severity=chosen["severity"],
            kind=chosen["kind"],
            tool=tool,
            prefix="",
        )
        page = page_of_findings(
            session, viewer.active.principal, flt, sort=sort, cursor=cursor, limit=limit
        )
    except ShieldwallError as exc:
        error, page = exc.message, None
    services = session.scalars(
        select(Service.name)
        .where(viewer.active.principal.team_filter(Service.team_id))
        .order_by(Service.name)
    ).all()
    return render(
        request,
        viewer,
        "findings.html",
        status=400 if error else 200,
        page=page,
        error=error,
        filters=filters,
        services=services,
        severities=[s.value for s in Severity],
        statuses=["active", "all", *(s.value for s in Status)],
        kinds=[k.value for k in Kind],
        orders=[o.value for o in Order],
        triage_statuses=[s.value for s in TRIAGE_STATUSES],
        here=_query_url("/findings", {**filters, "cursor": cursor}),
        more=_query_url("/findings", {**filters, "cursor": page.next})
        if page and page.next
        else None,
        first=_query_url("/findings", filters) if cursor else None,
    )


def _triage_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise InputError(f"status {value[:40]!r} is not one of the triage statuses") from None


@router.post("/findings/triage")
async def bulk_triage(
    request: Request, viewer: Editor, db: Annotated[Database, Depends(database)]
) -> Response:
    require_action(viewer, Action.TRIAGE)
    form = await request.form()
    ids = [str(v) for v in form.getlist("ids")][:MAX_LIMIT]
    back = _safe_next(str(form.get("back") or "/findings"))
    if not ids:
        raise InputError("choose at least one finding to triage")
    status = _triage_status(str(form.get("status", "")))
    reason = str(form.get("reason", ""))[:2000]
    with db.write() as session:
        for uid in dict.fromkeys(ids):
            findings.triage(
                session, uid, status, reason, viewer.active.principal.actor, viewer.active.principal
            )
    return see_other(back)


@router.get("/findings/{finding_id}")
def finding_page(
    finding_id: str,
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
) -> HTMLResponse:
    detail = findings.finding_detail(session, finding_id, viewer.active.principal)
    return render(
        request,
        viewer,
        "finding.html",
        finding=detail,
        why=findings.explanation(session, finding_id, viewer.active.principal),
        triage_statuses=[s.value for s in TRIAGE_STATUSES],
    )


@router.post("/findings/{finding_id}/triage")
def triage_one(
    finding_id: str,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    status: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    require_action(viewer, Action.TRIAGE)
    with db.write() as session:
        row = findings.triage(
            session,
            finding_id,
            _triage_status(status),
            reason,
            viewer.active.principal.actor,
            viewer.active.principal,
        )
    return see_other(f"/findings/{row.id}")


@router.post("/findings/{finding_id}/exception")
def request_exception(
    finding_id: str,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    reason: Annotated[str, Form(max_length=4000)],
    compensating_controls: Annotated[str, Form(max_length=4000)],
    expires: Annotated[date, Form()],
) -> Response:
    require_action(viewer, Action.TRIAGE)
    exceptions_api.request_exception(
        db,
        viewer.active.principal,
        exceptions_api.ExceptionIn(
            finding_id=finding_id,
            reason=reason,
            compensating_controls=compensating_controls,
            expires=expires,
        ),
        settings,
    )
    return see_other("/exceptions")


# --- risk: exceptions, the priority queue, intelligence feeds ------------------------------


@router.get("/exceptions")
def exceptions_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    state: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    return _exceptions(request, viewer, session, state, None, 200)


def _exceptions(
    request: Request,
    viewer: Viewing,
    session: Session,
    state: list[str] | None,
    error: str | None,
    status: int,
) -> HTMLResponse:
    try:
        states = exceptions_api.states_of(state)
    except InputError as exc:
        error, status, states = exc.message, 400, None
    rows = exceptions.listing(session, viewer.active.principal, states)
    return render(
        request,
        viewer,
        "exceptions.html",
        status=status,
        error=error,
        rows=rows,
        aging=exceptions.aging(rows),
        states=[s.value for s in ExceptionState],
        chosen=[s.value for s in states or []],
    )


@router.post("/exceptions/{exception_id}/{decision}")
def decide_exception(
    exception_id: str,
    decision: str,
    request: Request,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve or reject; a refusal is shown on the exceptions page, with its reason."""
    if decision not in ("approve", "reject"):
        raise HTTPException(404, "no such decision")
    try:
        with db.write() as session:
            exceptions_api.decide(
                session,
                viewer.active.principal,
                exception_id,
                approve=decision == "approve",
                note=note,
                settings=settings,
            )
    except HTTPException as exc:
        error, status = str(exc.detail), exc.status_code
    except NotFoundError:
        raise
    except ShieldwallError as exc:
        error, status = exc.message, 400
    else:
        return see_other("/exceptions")
    with db.read() as session:
        return _exceptions(request, viewer, session, None, error, status)


QUEUE_SIZE = 50


@router.get("/queue")
def queue_page(
    request: Request,
    viewer: Viewer,
    session: Annotated[Session, Depends(reading)],
    team: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The caller's most urgent open findings, per team (or of one ``team``), each team's
    counts by priority and of SLAs breached, and the SLA burn-down of them all."""
    caller = viewer.active.principal
    teams_only = (team,) if team else ()
    page = page_of_findings(
        session, caller, FindingFilter(teams=teams_only), sort=Order.PRIORITY, limit=QUEUE_SIZE
    )
    team_of = dict(
        session.execute(
            select(Service.name, Team.name)
            .join(Team, Team.id == Service.team_id)
            .where(caller.team_filter(Service.team_id))
        ).all()
    )
    counts = session.execute(
        select(
            Team.name,
            Finding.priority,
            func.count(),
            func.sum(case((Finding.sla_due < utcnow(), 1), else_=0)),
        )
        .join(Service, Service.id == Finding.service_id)
        .join(Team, Team.id == Service.team_id)
        .where(*findings.conditions(session, FindingFilter(teams=teams_only), caller))
        .group_by(Team.name, Finding.priority)
    ).all()
    teams: dict[str, dict[str, Any]] = {}
    for name, priority, count, breached in counts:
        entry = teams.setdefault(name, {"counts": {}, "breached": 0, "rows": []})
        label = f"P{priority}" if priority is not None else "none"
        entry["counts"][label] = entry["counts"].get(label, 0) + count
        entry["breached"] += int(breached or 0)
    for row in page.items:
        name = team_of.get(row.service, "")
        teams.setdefault(name, {"counts": {}, "breached": 0, "rows": []})["rows"].append(row)
    scope = findings.conditions(session, FindingFilter(statuses=(), teams=teams_only), caller)
    return render(
        request,
        viewer,
        "queue.html",
        team=team,
        all_teams=sorted(set(team_of.values())),
        teams=dict(sorted(teams.items())),
        priorities=[f"P{n}" for n in range(5)],
        size=QUEUE_SIZE,
        chart=burndown_chart(burndown(session, scope)),
    )


@router.get("/intel")
def intel_page(
    request: Request, viewer: Viewer, session: Annotated[Session, Depends(reading)]
) -> HTMLResponse:
    if not may_see_feeds(viewer.active.principal):
        raise HTTPException(403, "feed status is for admins, security and auditors")
    return render(request, viewer, "intel.html", feeds=feed_rows(session))


# --- administration -----------------------------------------------------------------------


@router.get("/admin/users")
def users_page(
    request: Request, viewer: Viewer, session: Annotated[Session, Depends(reading)]
) -> HTMLResponse:
    require_action(viewer, Action.ADMINISTER)
    return render(
        request,
        viewer,
        "users.html",
        users=accounts.list_users(session),
        roles=[r.value for r in Role],
        teams=session.scalars(select(Team.name).order_by(Team.name)).all(),
    )


@router.post("/admin/users")
def create_user(
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=1024)],
    teams: Annotated[list[str] | None, Form()] = None,
) -> Response:
    require_action(viewer, Action.ADMINISTER)
    with db.write() as session:
        accounts.create_user(
            session,
            email=email,
            role=role,
            teams=[t for t in teams or [] if t],
            password=password,
            actor=viewer.active.principal.actor,
        )
    return see_other("/admin/users")


@router.post("/admin/users/{email}/active")
def set_user_active(
    email: str,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    active: Annotated[bool, Form()],
) -> Response:
    require_action(viewer, Action.ADMINISTER)
    if email.strip().lower() == viewer.active.email and not active:
        raise InputError("you cannot disable your own account")
    with db.write() as session:
        accounts.set_active(session, email, active, viewer.active.principal.actor)
    return see_other("/admin/users")


@router.get("/admin/tokens")
def tokens_page(
    request: Request, viewer: Viewer, session: Annotated[Session, Depends(reading)]
) -> HTMLResponse:
    require_action(viewer, Action.ADMINISTER)
    return _tokens(request, viewer, session, None)


def _tokens(
    request: Request, viewer: Viewing, session: Session, new_token: str | None
) -> HTMLResponse:
    return render(
        request,
        viewer,
        "tokens.html",
        tokens=accounts.list_tokens(session),
        scopes=[s.value for s in TokenScope],
        teams=session.scalars(select(Team.name).order_by(Team.name)).all(),
        new_token=new_token,
    )


@router.post("/admin/tokens")
def create_token(
    request: Request,
    viewer: Editor,
    db: Annotated[Database, Depends(database)],
    name: Annotated[str, Form(max_length=100)],
    team: Annotated[str, Form(max_length=100)],
    scope: Annotated[TokenScope, Form()],
    expires: Annotated[int | None, Form(ge=1, le=accounts.TOKEN_MAX_DAYS)] = None,
) -> HTMLResponse:
    """Shows the new token once, on the page that answers the form (never in a URL)."""
    require_action(viewer, Action.ADMINISTER)
    with db.write() as session:
        made = accounts.create_token(
            session,
            name=name,
            team=team,
            scope=scope,
            expires_days=expires,
            actor=viewer.active.principal.actor,
        )
    with db.read() as session:
        return _tokens(request, viewer, session, made.token)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str, viewer: Editor, db: Annotated[Database, Depends(database)]
) -> Response:
    require_action(viewer, Action.ADMINISTER)
    with db.write() as session:
        accounts.revoke_token(session, token_id, viewer.active.principal.actor)
    return see_other("/admin/tokens")
