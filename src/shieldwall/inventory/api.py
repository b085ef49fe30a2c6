"""``/api/v1/teams`` and ``/api/v1/services``: the inventory, scoped to the caller's teams."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Action, Principal
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.inventory.models import Service, Team
from shieldwall.inventory.schemas import InventorySpec, ServiceSpec, TeamSpec
from shieldwall.inventory.service import (
    apply_inventory,
    service_snapshot,
    team_snapshot,
    visible_service,
)
from shieldwall.web.deps import API_PREFIX, database, reading, require
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, each, paginate

router = APIRouter(prefix=API_PREFIX, tags=["inventory"])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
SpecT = TypeVar("SpecT", TeamSpec, ServiceSpec)


class TeamOut(BaseModel):
    id: str
    name: str
    description: str | None
    manager: str | None
    champion: str | None


class ServiceOut(BaseModel):
    id: str
    name: str
    team: str
    repository: str | None
    tier: int
    exposure: str
    data: list[str]
    lifecycle: str
    description: str | None


def _team(team: Team) -> TeamOut:
    return TeamOut(
        id=team.uid,
        name=team.name,
        description=team.description,
        manager=team.manager.email if team.manager else None,
        champion=team.champion.email if team.champion else None,
    )


def _service(service: Service) -> ServiceOut:
    return ServiceOut(id=service.uid, **service_snapshot(service))


@router.get("/teams", response_model=Page[TeamOut])
def list_teams(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[TeamOut]:
    query = select(Team).where(caller.team_filter(Team.id))
    options = [selectinload(Team.manager), selectinload(Team.champion)]
    return paginate(session, query, [Team.name], cursor, limit, each(_team), options=options)


@router.get("/services", response_model=Page[ServiceOut])
def list_services(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    team: str | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ServiceOut]:
    query = select(Service).where(caller.team_filter(Service.team_id))
    if team is not None:
        query = query.where(Service.team.has(Team.name == team))
    options = [selectinload(Service.team)]
    return paginate(session, query, [Service.name], cursor, limit, each(_service), options=options)


@router.get("/services/{service_id}", response_model=ServiceOut)
def get_service(
    service_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> ServiceOut:
    return _service(visible_service(session, service_id, caller))


# --- changes: the same apply as `inventory import`, one entity per request ------------------

Editor = Annotated[Principal, Depends(require(Action.EDIT_INVENTORY))]


class TeamPatch(BaseModel):
    """The fields to change; those left out keep their value (null clears an optional one)."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    manager: str | None = None
    champion: str | None = None
    members: list[str] | None = None


class ServicePatch(BaseModel):
    """The fields to change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    team: str | None = None
    repository: str | None = None
    tier: int | None = None
    exposure: str | None = None
    data: list[str] | None = None
    lifecycle: str | None = None
    description: str | None = None


def _spec(kind: type[SpecT], values: dict[str, Any]) -> SpecT:
    try:
        return kind.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {first['msg']}" if where else first["msg"]) from None


@router.post("/teams", response_model=TeamOut, status_code=201)
def create_team(
    body: TeamSpec, caller: Editor, db: Annotated[Database, Depends(database)]
) -> TeamOut:
    """Add a team (its manager, champion and members by email): for those who work across
    all teams (admin, security)."""
    if not caller.all_teams:
        raise HTTPException(403, "only a credential for all teams may add a team")
    # Checked and applied in one write transaction: nothing changes in between.
    with db.write() as session:
        if session.scalar(select(Team.id).where(Team.name == body.name)) is not None:
            raise HTTPException(409, f"team {body.name!r} exists; change it with PATCH")
        apply_inventory(session, InventorySpec(teams=[body]), None, caller.actor)
        return _team_named(session, body.name)


@router.patch("/teams/{team_id}", response_model=TeamOut)
def update_team(
    team_id: str, body: TeamPatch, caller: Editor, db: Annotated[Database, Depends(database)]
) -> TeamOut:
    """Change a team; fields left out keep their value."""
    # Checked and applied in one write transaction: nothing changes in between.
    with db.write() as session:
        team = session.scalars(
            select(Team)
            .where(Team.uid == team_id, caller.team_filter(Team.id))
            .options(selectinload(Team.members))
        ).one_or_none()
        if team is None:
            raise HTTPException(404, "no such team")
        current = team_snapshot(team)
        spec = _spec(TeamSpec, {**current, **body.model_dump(exclude_unset=True)})
        apply_inventory(session, InventorySpec(teams=[spec]), None, caller.actor)
        return _team_named(session, spec.name)


def _team_named(session: Session, name: str) -> TeamOut:
    return _team(session.scalars(select(Team).where(Team.name == name)).one())


def _check_own_team(session: Session, caller: Principal, name: str) -> None:
    """A service is placed only in a team the caller works for (404 for any other)."""
    if (
        session.scalar(select(Team.id).where(Team.name == name, caller.team_filter(Team.id)))
        is None
    ):
        raise HTTPException(404, f"no team {name!r}")


@router.post("/services", response_model=ServiceOut, status_code=201)
def create_service(
    body: ServiceSpec, caller: Editor, db: Annotated[Database, Depends(database)]
) -> ServiceOut:
    """Add a service, owned by an existing team."""
    # Checked and applied in one write transaction: nothing changes in between.
    with db.write() as session:
        if session.scalar(select(Service.id).where(Service.name == body.name)) is not None:
            raise HTTPException(409, f"service {body.name!r} exists; change it with PATCH")
        _check_own_team(session, caller, body.team)
        apply_inventory(session, InventorySpec(services=[body]), None, caller.actor)
        return _service_named(session, body.name)


@router.patch("/services/{service_id}", response_model=ServiceOut)
def update_service(
    service_id: str,
    body: ServicePatch,
    caller: Editor,
    db: Annotated[Database, Depends(database)],
) -> ServiceOut:
    """Change a service; fields left out keep their value."""
    # Checked and applied in one write transaction: nothing changes in between.
    with db.write() as session:
        current = service_snapshot(visible_service(session, service_id, caller))
        changes = body.model_dump(exclude_unset=True)
        if "team" in changes:
            _check_own_team(session, caller, changes["team"])
        spec = _spec(ServiceSpec, {**current, **changes})
        apply_inventory(session, InventorySpec(services=[spec]), None, caller.actor)
        return _service_named(session, spec.name)


def _service_named(session: Session, name: str) -> ServiceOut:
    return _service(session.scalars(select(Service).where(Service.name == name)).one())
