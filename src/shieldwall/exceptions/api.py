"""``/api/v1/exceptions``: list (with aging), request, approve and reject risk exceptions.

Exceptions are requested and decided by people: the acting user is looked up from the
caller's session or user token name, and an API token may do neither (403). Decision rights
are the policy's (``service.may_decide``); a refusal is a 403 naming who may decide. The web
pages call the same helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shieldwall.auth.models import User
from shieldwall.auth.policy import Action, Principal, Role
from shieldwall.auth.service import get_user
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.exceptions import service
from shieldwall.exceptions.models import RiskException
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.findings.models import Finding
from shieldwall.inventory.models import Person, Team
from shieldwall.risk.policy import current_policy
from shieldwall.risk.service import current_priorities
from shieldwall.web.deps import API_PREFIX, app_settings, database, reading, require

router = APIRouter(prefix=API_PREFIX, tags=["exceptions"])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Triager = Annotated[Principal, Depends(require(Action.TRIAGE))]
AppSettings = Annotated[Settings, Depends(app_settings)]


def acting_user(session: Session, caller: Principal) -> User:
    """The person behind ``caller``; 403 for an API token (exceptions are a person's call)."""
    kind, _, email = caller.actor.partition(":")
    if kind != "user":
        raise HTTPException(
            403, "an API token may not request or decide on exceptions: a person must"
        )
    return get_user(session, email)


def may_ever_decide(session: Session, user: User) -> bool:
    """Whether ``user`` could decide on some exception: by role, or as a team's lead (the
    policy may let a team's manager or champion decide on low priorities)."""
    if Principal.for_user(user.email, Role(user.role), frozenset()).allowed(Action.APPROVE):
        return True
    leads = (
        select(Team.id)
        .join(Person, or_(Person.id == Team.manager_id, Person.id == Team.champion_id))
        .where(Person.email == user.email)
        .limit(1)
    )
    return session.scalar(leads) is not None


def decide(
    session: Session,
    caller: Principal,
    uid: str,
    *,
    approve: bool,
    note: str | None,
    settings: Settings,
) -> dict[str, Any]:
    """Approve or reject for ``caller``: 403 when they may not decide on this exception,
    404 when it is another team's (and they could decide on some)."""
    user = acting_user(session, caller)
    if not may_ever_decide(session, user):
        raise HTTPException(403, f"{user.email} may not decide on exceptions")
    policy = current_policy(settings.policy)
    try:
        decided = service.decide(session, user, uid, approve=approve, note=note, policy=policy)
    except service.DecisionRefused as exc:
        raise HTTPException(403, exc.message) from exc
    return service.exception_view(
        decided, decided.service.name, _finding_uid(session, decided), utcnow()
    )


def _finding_uid(session: Session, exception: RiskException) -> str | None:
    if exception.finding_id is None:
        return None
    return session.scalar(select(Finding.uid).where(Finding.id == exception.finding_id))


def states_of(values: list[str] | None) -> list[ExceptionState] | None:
    chosen = [v for v in values or [] if v]
    try:
        return [ExceptionState(v) for v in chosen] or None
    except ValueError:
        names = ", ".join(s.value for s in ExceptionState)
        raise InputError(f"state: one of {names}") from None


@router.get("/exceptions")
def list_exceptions(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    state: Annotated[list[str] | None, Query(description="requested, approved, ...")] = None,
) -> dict[str, Any]:
    """The caller's teams' exceptions, newest request first, and their aging."""
    rows = service.listing(session, caller, states_of(state))
    return {"items": rows, "aging": service.aging(rows)}


class ExceptionIn(BaseModel):
    finding_id: str | None = Field(default=None, max_length=100)
    rule_id: str | None = Field(default=None, max_length=500)
    service: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=4000)
    compensating_controls: str = Field(min_length=1, max_length=4000)
    expires: date = Field(description="The last day the exception holds.")


def request_exception(
    db: Database, caller: Principal, body: ExceptionIn, settings: Settings
) -> dict[str, Any]:
    policy = current_policy(settings.policy)
    current_priorities(db, policy)
    with db.write() as session:
        made = service.request(
            session,
            acting_user(session, caller),
            service.Subject(finding=body.finding_id, rule=body.rule_id, service=body.service),
            reason=body.reason,
            compensating_controls=body.compensating_controls,
            expires=body.expires,
            policy=policy,
        )
        return service.exception_view(made, made.service.name, body.finding_id, utcnow())


@router.post("/exceptions", status_code=201)
def post_exception(
    body: ExceptionIn,
    caller: Triager,
    db: Annotated[Database, Depends(database)],
    settings: AppSettings,
) -> dict[str, Any]:
    """Ask for an exception for a finding, or for a rule in a service."""
    return request_exception(db, caller, body, settings)


class DecisionIn(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


def _decision(approve: bool) -> Callable[..., dict[str, Any]]:
    """The approve and the reject route: the same call but for the decision."""

    def route(
        exception_id: str,
        caller: Reader,
        db: Annotated[Database, Depends(database)],
        settings: AppSettings,
        body: DecisionIn | None = None,
    ) -> dict[str, Any]:
        with db.write() as session:
            return decide(
                session,
                caller,
                exception_id,
                approve=approve,
                note=body.note if body else None,
                settings=settings,
            )

    return route


router.post(
    "/exceptions/{exception_id}/approve",
    name="approve_exception",
    description="Approve: what it covers becomes `accepted` until it expires.",
)(_decision(approve=True))
router.post(
    "/exceptions/{exception_id}/reject", name="reject_exception", description="Reject a request."
)(_decision(approve=False))
