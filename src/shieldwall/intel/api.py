"""``/api/v1/intel/status``: the vulnerability intelligence feeds (KEV, EPSS, OSV) loaded,
how old they are and whether they are stale.

Feeds are shared by every team, and their state says what the whole organisation's priorities
rest on: the people who see every team (admins, security, auditors) may read it; team members
and team tokens may not (403).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from shieldwall.auth.policy import Action, Principal
from shieldwall.clock import isoformat
from shieldwall.intel import store
from shieldwall.web.deps import API_PREFIX, reading, require

router = APIRouter(prefix=API_PREFIX, tags=["intel"])


def may_see_feeds(caller: Principal) -> bool:
    return caller.allowed(Action.ADMINISTER) or (caller.all_teams and caller.allowed(Action.READ))


def feed_rows(session: Session) -> list[dict[str, Any]]:
    rows = []
    for feed in store.status(session):
        row = asdict(feed)
        row["data_date"] = feed.data_date.isoformat() if feed.data_date else None
        row["loaded_at"] = isoformat(feed.loaded_at)
        rows.append(row)
    return rows


@router.get("/intel/status")
def intel_status(
    caller: Annotated[Principal, Depends(require(Action.READ))],
    session: Annotated[Session, Depends(reading)],
) -> list[dict[str, Any]]:
    """Each feed: name, records, version, data_date, loaded_at, age_days, origin, stale."""
    if not may_see_feeds(caller):
        raise HTTPException(403, "feed status is for admins, security and auditors")
    return feed_rows(session)
