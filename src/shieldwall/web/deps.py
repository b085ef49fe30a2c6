"""What routes depend on: the database and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from shieldwall.auth import service as auth
from shieldwall.auth import sessions
from shieldwall.auth.policy import Action, Principal
from shieldwall.config import Settings
from shieldwall.db.engine import Database


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def reading(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    with db.read() as session:
        yield session


API_PREFIX = "/api/v1"
"""Every API router is made with this prefix (its routes then name their whole path, which
the request metrics use as the series label)."""
SESSION_COOKIE = "sw_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def web_session(request: Request, db: Database) -> tuple[sessions.Active, str] | None:
    """The live web session of the request's cookie, and its id (touched now and then)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    with db.read() as session:
        found = sessions.resume(session, token, app_settings(request))
    if found is None:
        return None
    active, stale = found
    if stale:
        with db.write() as session:
            sessions.touch(session, token)
    return active, token


def principal(request: Request, db: Annotated[Database, Depends(database)]) -> Principal:
    """The caller, from ``Authorization: Bearer TOKEN``, else from a logged-in browser's
    session (whose state changes must carry its CSRF token in ``X-CSRF-Token``, as the
    pages' htmx requests do); 401 without either."""
    if "authorization" not in request.headers:
        browser = web_session(request, db)
        if browser is not None:
            active = browser[0]
            if request.method not in _SAFE_METHODS and not sessions.same_token(
                request.headers.get("x-csrf-token", ""), active.csrf
            ):
                raise HTTPException(403, "a change from a browser session needs X-CSRF-Token")
            return active.principal
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    secret = credentials.strip()
    if scheme.lower() == "bearer" and secret:
        # Read only: a bad token never waits for the write lock, and a good one takes it
        # only when its last use is worth writing down again.
        with db.read() as session:
            record = auth.usable_token(session, secret)
            if record is not None:
                found, record_use = auth.token_principal(record), auth.use_to_record(record)
        if record is not None:
            if record_use:
                with db.write() as session:
                    auth.record_token_use(session, record.id)
            return found
    raise HTTPException(
        401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
    )


def require(action: Action) -> Callable[[Principal], Principal]:
    """A dependency: the caller, who must be allowed ``action`` (403 otherwise)."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not caller.allowed(action):
            raise HTTPException(403, f"this credential may not {action.value.replace('_', ' ')}")
        return caller

    return check
