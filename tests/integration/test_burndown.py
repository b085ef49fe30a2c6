"""The SLA burn-down on the queue page: what may stay open each coming day without a breach,
against the recent fixing pace. On both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shieldwall.auth.policy import Role
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import Status
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.models import Service
from shieldwall.risk.burndown import HORIZON_DAYS, burndown
from shieldwall.web.app import create_app
from tests.builders import code_result, sarif
from tests.server import log_in, organisation, user


def _findings(db: Database, tmp_path: Path, service: str, count: int) -> list[int]:
    results = [code_result(f"rule-{n}", f"app/m{n}.py", 1, f"call_{n}()") for n in range(count)]
    report = sarif(tmp_path / f"{service}.sarif", "semgrep", results)
    import_report(db, ImportRequest(report, service), Settings(home=tmp_path))
    with db.read() as session:
        named = select(Finding.id).join(Service).where(Service.name == service)
        return sorted(session.scalars(named))


def _plan(db: Database, ids: list[int]) -> None:
    """Of 20 findings: 2 breached, 1 due in 3.5 days, 1 in 20.5, 2 after the horizon, 14
    fixed in the last four weeks (a pace of 0.5 a day)."""
    now = utcnow()
    due_in = [-2, -1, 3.5, 20.5, HORIZON_DAYS + 10, HORIZON_DAYS + 20]
    with db.write() as session:
        for finding_id, days in zip(ids, due_in, strict=False):
            session.execute(
                update(Finding)
                .where(Finding.id == finding_id)
                .values(sla_due=now + timedelta(days=days))
            )
        session.execute(
            update(Finding)
            .where(Finding.id.in_(ids[len(due_in) :]))
            .values(
                status=Status.FIXED.value,
                fixed_at=now - timedelta(days=3),
                sla_due=now + timedelta(days=5),
            )
        )


def test_the_burndown_steps_down_as_due_dates_pass(db: Database, tmp_path: Path) -> None:
    organisation(db)
    ids = _findings(db, tmp_path, "payments-api", 20)
    _plan(db, ids)

    with db.read() as session:
        burn = burndown(session, [Finding.id.in_(ids)])

    assert (burn.open_now, burn.breached_now, burn.pace) == (6, 2, 0.5)
    assert len(burn.allowed) == HORIZON_DAYS + 1
    assert burn.allowed[:3] == [4, 4, 4]  # breached ones may not stay open at all
    assert (burn.allowed[3], burn.allowed[4]) == (4, 3)  # the one due in 3.5 days
    assert (burn.allowed[20], burn.allowed[21]) == (3, 2)
    assert burn.allowed[-1] == 2  # the two due after the horizon
    # At 0.5 a day, 6 open become 0 after 12 days: every SLA but the breached ones is met.
    assert burn.projected[12] == 0
    assert burn.breached_at_horizon == 0


def test_too_slow_a_pace_shows_the_breaches_coming(db: Database, tmp_path: Path) -> None:
    organisation(db)
    ids = _findings(db, tmp_path, "payments-api", 20)
    _plan(db, ids)
    with db.write() as session:  # nothing was fixed lately
        session.execute(
            update(Finding).where(Finding.status == Status.FIXED.value).values(fixed_at=None)
        )

    with db.read() as session:
        burn = burndown(session, [Finding.id.in_(ids)])

    assert burn.pace == 0
    assert burn.breached_at_horizon == 4  # 2 breached now, 2 more due within the horizon


def test_the_queue_page_draws_the_burndown_of_the_team_asked_for(
    db: Database, tmp_path: Path
) -> None:
    organisation(db)
    _plan(db, _findings(db, tmp_path, "payments-api", 20))  # team platform
    growth_ids = _findings(db, tmp_path, "web", 3)  # team growth: none fixed lately
    with db.write() as session:
        session.execute(
            update(Finding)
            .where(Finding.id.in_(growth_ids))
            .values(sla_due=utcnow() + timedelta(days=10))
        )
    user(db, "lead@example.com", Role.ENGINEER, ["platform", "growth"])
    with TestClient(create_app(db, Settings(home=tmp_path))) as client:
        log_in(client, "lead@example.com")

        platform = client.get("/queue", params={"team": "platform"}).text
        growth = client.get("/queue", params={"team": "growth"}).text
        both = client.get("/queue").text

    assert "Open findings with an SLA: 6, 2 breached." in platform
    assert "At this pace every SLA until" in platform  # the pace of 0.5 a day is enough
    assert "Open findings with an SLA: 3, 0 breached." in growth
    assert "At this pace at least 3 will be past their SLA" in growth
    assert "Open findings with an SLA: 9, 2 breached." in both
    assert '<a href="/queue?team=growth">growth</a>' in platform
