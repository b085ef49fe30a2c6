"""``shieldwall coverage``: which security checks report on each service or team."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import selectinload

from shieldwall.coverage.service import (
    DEFAULT_STALE_DAYS,
    MAX_STALE_DAYS,
    State,
    by_team,
    select_services,
    select_teams,
    service_coverage,
)
from shieldwall.inventory.models import Service, Team
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import database
from shieldwall.scan.posture.tools import Category


class By(StrEnum):
    SERVICE = "service"
    TEAM = "team"


_CATEGORY_COLUMNS = [(category.value, category.value) for category in Category]
_COLUMNS = {
    By.SERVICE: [
        ("service", "service"),
        ("team", "team"),
        ("tier", "tier"),
        *_CATEGORY_COLUMNS,
        ("covered", "covered"),
    ],
    By.TEAM: [
        ("team", "team"),
        ("services", "services"),
        ("fully_covered", "fully covered"),
        *_CATEGORY_COLUMNS,
    ],
}


def coverage_command(
    teams: Annotated[
        list[str] | None, typer.Option("--team", "-t", help="Only these teams (repeat).")
    ] = None,
    services: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services (repeat).")
    ] = None,
    by: Annotated[By, typer.Option("--by", help="One row per service or per team.")] = By.SERVICE,
    stale_days: Annotated[
        int,
        typer.Option(
            "--stale-days",
            min=1,
            max=MAX_STALE_DAYS,
            help="A check whose last run is older than this many days is stale.",
        ),
    ] = DEFAULT_STALE_DAYS,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Which of SAST, SCA, secrets and IaC scanning report on each service, and when they last
    did (from the imported reports); with --by team, how many services each team covers."""
    team_names, service_names = teams or [], services or []
    with database().read() as session:
        chosen = session.scalars(
            select_services(session, None, team_names, service_names)
            .options(selectinload(Service.team))
            .order_by(Service.name)
        ).all()
        found = service_coverage(session, chosen, stale_days=stale_days)
        if by is By.TEAM:
            listed = session.scalars(
                select_teams(session, None, team_names).order_by(Team.name)
            ).all()
            if service_names:  # only the teams of the services named
                owners = {service.team_id for service in found}
                listed = [team for team in listed if team.uid in owners]
            rows = [team.row() for team in by_team(listed, found)]
        else:
            rows = [service.row() for service in found]
    if fmt is not OutputFormat.TABLE:
        emit(rows, _COLUMNS[by], fmt)
        return
    cell = _service_cell if by is By.SERVICE else _team_cell
    shown = [{**row, **{c.value: cell(row, c.value) for c in Category}} for row in rows]
    emit(shown, _COLUMNS[by], fmt, title=f"Coverage (stale after {stale_days} days)")


def _service_cell(row: dict[str, Any], category: str) -> str:
    """``covered: semgrep, bandit (2025-06-01)``, or ``missing``."""
    if row[category] == State.MISSING:
        return State.MISSING.value
    tools = ", ".join(row[f"{category}_tools"])
    return f"{row[category]}: {tools} ({row[f'{category}_last_run'][:10]})"


def _team_cell(row: dict[str, Any], category: str) -> str:
    """``3/5`` services covered, ``(+1 stale)`` when some are."""
    text = f"{row[f'{category}_covered']}/{row['services']}"
    stale = row[f"{category}_stale"]
    return f"{text} (+{stale} stale)" if stale else text
