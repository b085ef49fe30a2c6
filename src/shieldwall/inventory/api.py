"""``/api/v1/teams`` and ``/api/v1/services``: the inventory, scoped to the caller's teams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Action, Principal
from shieldwall.inventory.models import Service, Team
from shieldwall.inventory.service import service_snapshot
from shieldwall.web.deps import reading, require
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate

router = APIRouter(tags=["inventory"])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


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
    query = (
        select(Team)
        .where(caller.team_filter(Team.id))
        .options(selectinload(Team.manager), selectinload(Team.champion))
    )
    return paginate(session, query, [Team.name], cursor, limit, _team)


@router.get("/services", response_model=Page[ServiceOut])
def list_services(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    team: str | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ServiceOut]:
    query = (
        select(Service)
        .where(caller.team_filter(Service.team_id))
        .options(selectinload(Service.team))
    )
    if team is not None:
        query = query.where(Service.team.has(Team.name == team))
    return paginate(session, query, [Service.name], cursor, limit, _service)


@router.get("/services/{service_id}", response_model=ServiceOut)
def get_service(
    service_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> ServiceOut:
    found = session.scalars(
        select(Service)
        .where(Service.uid == service_id, caller.team_filter(Service.team_id))
        .options(selectinload(Service.team))
    ).one_or_none()
    if found is None:  # another team's service is as absent as a missing one
        raise HTTPException(404, "no such service")
    return _service(found)
