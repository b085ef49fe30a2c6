"""What routes depend on: the database and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from shieldwall.auth import service as auth
from shieldwall.auth.policy import Action, Principal
from shieldwall.db.engine import Database


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def reading(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    with db.read() as session:
        yield session


def principal(request: Request, db: Annotated[Database, Depends(database)]) -> Principal:
    """The caller, from ``Authorization: Bearer TOKEN``; 401 without a valid one."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    secret = credentials.strip()
    if scheme.lower() == "bearer" and secret:
        with db.read() as session:
            usable = auth.usable_token(session, secret) is not None
        if usable:  # only now the write that records its use
            with db.write() as session:
                found = auth.principal_for_token(session, secret)
            if found is not None:
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
