"""Applying inventory files and listing what the inventory holds.

An entry in a file is the whole description of its entity: keys left out take their
defaults. Applying a file creates and updates; it never deletes (retire a service with
``lifecycle: retired``), so a file that lists only some services leaves the others alone.
Every change is written to the audit log with the entity's state before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shieldwall.audit import service as audit
from shieldwall.auth.policy import Principal
from shieldwall.clock import utcnow
from shieldwall.errors import InputError, NotFoundError
from shieldwall.ids import new_uid
from shieldwall.inventory.models import Person, Service, Team
from shieldwall.inventory.schemas import InventorySpec, PersonSpec, ServiceSpec, TeamSpec
from shieldwall.structured import LocatedDocument

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class Change:
    entity: str  # person, team, service
    name: str
    action: str  # created, updated, unchanged
    fields: tuple[str, ...] = ()


@dataclass
class ApplyResult:
    changes: list[Change] = field(default_factory=list)

    def count(self, entity: str, action: str) -> int:
        return sum(1 for c in self.changes if c.entity == entity and c.action == action)


def apply_inventory(
    session: Session, spec: InventorySpec, document: LocatedDocument | None, actor: str
) -> ApplyResult:
    """Create or update everything the file (or, without a document, an API request)
    describes, in the caller's transaction."""
    _check(session, spec, document)
    result = ApplyResult()
    people = _apply_people(session, spec, actor, result)
    teams = _apply_teams(session, spec.teams, people, actor, result)
    _apply_services(session, spec.services, teams, actor, result)
    return result


def _check(session: Session, spec: InventorySpec, document: LocatedDocument | None) -> None:
    problems: list[str] = []

    def problem(loc: tuple[str | int, ...], text: str) -> None:
        if document is None:
            problems.append(text)
        else:
            problems.append(f"{document.path}:{document.line_of(loc) or 1}: {text}")

    for kind, keys in (
        ("people", [p.email for p in spec.people]),
        ("teams", [t.name for t in spec.teams]),
        ("services", [s.name for s in spec.services]),
    ):
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key.lower() in seen:
                problem(
                    (kind, index),
                    f"{kind[:-1] if kind != 'people' else 'person'} {key!r} appears twice",
                )
            seen.add(key.lower())
    known_teams = {t.name for t in spec.teams} | set(session.scalars(select(Team.name)))
    for index, service in enumerate(spec.services):
        if service.team not in known_teams:
            problem(
                ("services", index, "team"),
                f"service {service.name!r}: owner team {service.team!r} does not exist "
                "(define it under teams)",
            )
    if problems:
        raise InputError("\n".join(problems))


def _apply_people(
    session: Session, spec: InventorySpec, actor: str, result: ApplyResult
) -> dict[str, Person]:
    named = {p.email: p for p in spec.people}
    emails = set(named)
    for team in spec.teams:
        emails.update(e for e in (team.manager, team.champion) if e)
        emails.update(team.members)
    existing = {p.email: p for p in session.scalars(select(Person).where(Person.email.in_(emails)))}
    people: dict[str, Person] = {}
    for email in sorted(emails):
        person = existing.get(email)
        entry: PersonSpec | None = named.get(email)
        before = _person_snapshot(person) if person else None
        if person is None:
            person = Person(email=email, name=entry.name if entry else None)
            session.add(person)
        elif entry is not None:
            # Only a `people` entry says what the name is; a bare email leaves it alone.
            person.name = entry.name
        people[email] = person
        _record(session, result, actor, "person", email, before, _person_snapshot(person))
    return people


def _apply_teams(
    session: Session,
    specs: Sequence[TeamSpec],
    people: dict[str, Person],
    actor: str,
    result: ApplyResult,
) -> dict[str, Team]:
    query = select(Team).options(
        selectinload(Team.members), selectinload(Team.manager), selectinload(Team.champion)
    )
    teams = {t.name: t for t in session.scalars(query)}
    now = utcnow()
    for spec in specs:
        team = teams.get(spec.name)
        before = team_snapshot(team) if team else None
        if team is None:
            team = Team(uid=new_uid(), name=spec.name, created_at=now, updated_at=now)
            session.add(team)
            teams[spec.name] = team
        team.description = spec.description
        team.manager = people[spec.manager] if spec.manager else None
        team.champion = people[spec.champion] if spec.champion else None
        team.members = [people[email] for email in sorted(set(spec.members))]
        after = team_snapshot(team)
        if before is not None and before != after:
            team.updated_at = now
        _record(session, result, actor, "team", spec.name, before, after)
    return teams


def _apply_services(
    session: Session,
    specs: Sequence[ServiceSpec],
    teams: dict[str, Team],
    actor: str,
    result: ApplyResult,
) -> None:
    services = {
        s.name: s for s in session.scalars(select(Service).options(selectinload(Service.team)))
    }
    now = utcnow()
    for spec in specs:
        service = services.get(spec.name)
        before = service_snapshot(service) if service else None
        if service is None:
            service = Service(uid=new_uid(), name=spec.name, created_at=now, updated_at=now)
            session.add(service)
        service.team = teams[spec.team]
        service.repository = spec.repository
        service.tier = spec.tier
        service.exposure = spec.exposure.value
        service.data_classes = sorted({d.value for d in spec.data})
        service.lifecycle = spec.lifecycle.value
        service.description = spec.description
        after = service_snapshot(service)
        if before is not None and before != after:
            service.updated_at = now
        _record(session, result, actor, "service", spec.name, before, after)


def _record(
    session: Session,
    result: ApplyResult,
    actor: str,
    entity: str,
    name: str,
    before: Snapshot | None,
    after: Snapshot,
) -> None:
    if before == after:
        result.changes.append(Change(entity, name, "unchanged"))
        return
    action = "created" if before is None else "updated"
    fields = tuple(audit.changed_fields(before, after)) if before is not None else ()
    result.changes.append(Change(entity, name, action, fields))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{entity}.{action}",
        entity_type=entity,
        entity_id=name,
        before=before,
        after=after,
    )


def _person_snapshot(person: Person) -> Snapshot:
    return {"email": person.email, "name": person.name}


def team_snapshot(team: Team) -> Snapshot:
    return {
        "name": team.name,
        "description": team.description,
        "manager": team.manager.email if team.manager else None,
        "champion": team.champion.email if team.champion else None,
        "members": sorted(p.email for p in team.members),
    }


def service_snapshot(service: Service) -> Snapshot:
    """A service as the audit log, the CLI and the API show it."""
    return {
        "name": service.name,
        "team": service.team.name,
        "repository": service.repository,
        "tier": service.tier,
        "exposure": service.exposure,
        "data": list(service.data_classes),
        "lifecycle": service.lifecycle,
        "description": service.description,
    }


def get_service(session: Session, name: str) -> Service:
    service = session.scalars(select(Service).where(Service.name == name)).one_or_none()
    if service is None:
        raise NotFoundError(
            f"service {name!r} is not in the inventory (add it with `shieldwall inventory import`)"
        )
    return service


def visible_service(session: Session, uid: str, caller: Principal) -> Service:
    """A service by id, if the caller may see it: another team's is as absent as a missing
    one (404, not 403, so that ids tell nothing)."""
    found = session.scalars(
        select(Service)
        .where(Service.uid == uid, caller.team_filter(Service.team_id))
        .options(selectinload(Service.team))
    ).one_or_none()
    if found is None:
        raise NotFoundError("no such service")
    return found


def list_services(session: Session) -> list[Snapshot]:
    query = select(Service).options(selectinload(Service.team)).order_by(Service.name)
    return [{"id": s.uid, **service_snapshot(s)} for s in session.scalars(query)]


def list_teams(session: Session) -> list[Snapshot]:
    query = (
        select(Team)
        .options(
            selectinload(Team.members), selectinload(Team.manager), selectinload(Team.champion)
        )
        .order_by(Team.name)
    )
    teams = list(session.scalars(query))
    services = _service_names_by_team(session, (t.id for t in teams))
    return [{"id": t.uid, **team_snapshot(t), "services": services.get(t.id, [])} for t in teams]


def list_people(session: Session) -> list[Snapshot]:
    return [_person_snapshot(p) for p in session.scalars(select(Person).order_by(Person.email))]


def _service_names_by_team(session: Session, team_ids: Iterable[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    rows = session.execute(
        select(Service.team_id, Service.name)
        .where(Service.team_id.in_(list(team_ids)))
        .order_by(Service.name)
    )
    for team_id, name in rows:
        names.setdefault(team_id, []).append(name)
    return names
