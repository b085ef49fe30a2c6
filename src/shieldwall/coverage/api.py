"""``/api/v1/coverage``: which security checks report on each service or team, scoped to the
caller's teams inside the query."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Action, Principal
from shieldwall.coverage.service import (
    DEFAULT_STALE_DAYS,
    MAX_STALE_DAYS,
    State,
    select_services,
    select_teams,
    service_coverage,
    team_coverage,
)
from shieldwall.inventory.models import Service, Team
from shieldwall.web.deps import API_PREFIX, reading, require
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate

router = APIRouter(prefix=API_PREFIX, tags=["coverage"])
Reader = Annotated[Principal, Depends(require(Action.READ))]


class By(StrEnum):
    SERVICE = "service"
    TEAM = "team"


class ServiceCoverageOut(BaseModel):
    """A service: each category's state, the tools that count for it and their last run."""

    service: str
    service_id: str
    team: str
    tier: int
    sast: State
    sast_tools: list[str]
    sast_last_run: str | None
    sca: State
    sca_tools: list[str]
    sca_last_run: str | None
    secrets: State
    secrets_tools: list[str]
    secrets_last_run: str | None
    iac: State
    iac_tools: list[str]
    iac_last_run: str | None
    covered: int
    """Categories covered and not stale (0 to 4)."""
    other_tools: list[str]
    """Tools that report on the service but count for none of the categories."""


class TeamCoverageOut(BaseModel):
    """A team: how many of its services are covered, stale or missing, per category."""

    team: str
    team_id: str
    services: int
    fully_covered: int
    sast_covered: int
    sast_stale: int
    sast_missing: int
    sca_covered: int
    sca_stale: int
    sca_missing: int
    secrets_covered: int
    secrets_stale: int
    secrets_missing: int
    iac_covered: int
    iac_stale: int
    iac_missing: int


@router.get("/coverage", response_model=Page[ServiceCoverageOut] | Page[TeamCoverageOut])
def list_coverage(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    by: By = By.SERVICE,
    team: Annotated[list[str] | None, Query()] = None,
    stale_days: Annotated[int, Query(ge=1, le=MAX_STALE_DAYS)] = DEFAULT_STALE_DAYS,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[ServiceCoverageOut] | Page[TeamCoverageOut]:
    """Per service (``by=service``, retired services left out) or per team (``by=team``), of
    the caller's teams or of the ``team`` named; a check is stale when its last run is older
    than ``stale_days``."""
    teams = team or []
    if by is By.TEAM:
        return paginate(
            session,
            select_teams(session, caller, teams),
            [Team.name],
            cursor,
            limit,
            lambda rows: [
                TeamCoverageOut(**found.row())
                for found in team_coverage(session, rows, stale_days=stale_days)
            ],
        )
    return paginate(
        session,
        select_services(session, caller, teams),
        [Service.name],
        cursor,
        limit,
        lambda rows: [
            ServiceCoverageOut(**found.row())
            for found in service_coverage(session, rows, stale_days=stale_days)
        ],
        options=[selectinload(Service.team)],
    )
