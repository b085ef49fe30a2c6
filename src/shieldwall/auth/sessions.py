"""Web sessions and the login rate limit.

A session id is 256 random bits in an HttpOnly cookie; the database keeps only its SHA-256,
with a CSRF token that every state-changing form must echo. A session ends after
``session_idle_minutes`` without a request, ``session_max_hours`` after login, at logout, or
when its user is disabled. Failed logins are counted per account (a hash of what was typed)
and per address over 15 minutes; past the limit no password is checked at all, whether or
not the account exists, so the limit tells nothing about accounts either.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, selectinload

from shieldwall.audit import service as audit
from shieldwall.auth.models import LoginFailure, User, WebSession
from shieldwall.auth.policy import Principal
from shieldwall.auth.service import (
    authenticate,
    login_email,
    principal_for_user,
    secret_hash,
)
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.errors import ShieldwallError

LOGIN_WINDOW = timedelta(minutes=15)
_LOGIN_LOCK = 0x5357_4C47  # "SWLG": with the account, serialises its login attempts
TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is rewritten at most this often, not on every request."""


class TooManyAttempts(ShieldwallError):
    def __init__(self) -> None:
        super().__init__("too many failed logins: wait 15 minutes and try again")


@dataclass(frozen=True)
class Active:
    """A live session: who, what they may do, and the CSRF token of their forms."""

    user_id: int
    email: str
    role: str
    principal: Principal
    csrf: str


def same_token(given: str, expected: str) -> bool:
    """A token from a request against the one expected, in constant time; any text may be
    given (``hmac.compare_digest`` refuses non-ASCII strings, so bytes are compared)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def account_key(email: str) -> str:
    """The account a login names, as ``authenticate`` finds it: every spelling of one
    address (case, Unicode forms) counts against the same limit."""
    return secret_hash(login_email(email))


def limited(session: Session, email: str, address: str, settings: Settings) -> bool:
    since = utcnow() - LOGIN_WINDOW
    by_account = session.scalar(
        select(func.count()).where(
            LoginFailure.account_hash == account_key(email), LoginFailure.at > since
        )
    )
    by_address = session.scalar(
        select(func.count()).where(LoginFailure.address == address[:64], LoginFailure.at > since)
    )
    return (by_account or 0) >= settings.login_failures_per_account or (
        by_address or 0
    ) >= settings.login_failures_per_address


def login(
    session: Session, email: str, password: str, address: str, settings: Settings
) -> str | None:
    """A new session's id for the right email and password, else None (the failure is
    counted). Raises ``TooManyAttempts`` past the limit, without checking anything."""
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent attempts on one account take turns, so none sees a count that the
        # others are about to raise (SQLite's write transactions take turns already).
        session.execute(
            text("SELECT pg_advisory_xact_lock(:a, :b)"),
            {"a": _LOGIN_LOCK, "b": int(account_key(email)[:7], 16)},
        )
    if limited(session, email, address, settings):
        raise TooManyAttempts
    user = authenticate(session, email, password)
    now = utcnow()
    if user is None:
        session.add(LoginFailure(account_hash=account_key(email), address=address[:64], at=now))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.account_hash == account_key(email)))
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - LOGIN_WINDOW))
    _drop_expired(session, settings)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=secret_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    audit.record(
        session,
        actor=f"user:{user.email}",
        action="session.started",
        entity_type="user",
        entity_id=user.uid,
        after={"address": address[:64]},
    )
    return token


def _drop_expired(session: Session, settings: Settings) -> None:
    now = utcnow()
    session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at <= now - timedelta(minutes=settings.session_idle_minutes))
            | (WebSession.created_at <= now - timedelta(hours=settings.session_max_hours))
        )
    )


def resume(session: Session, token: str, settings: Settings) -> tuple[Active, bool] | None:
    """The live session with this id, and whether it should be touched (``touch``)."""
    if not token or len(token) > 100:
        return None
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == secret_hash(token))
        .options(selectinload(User.teams))
    ).one_or_none()
    if found is None:
        return None
    web, user = found
    now = utcnow()
    if (
        not user.active
        or web.last_seen_at <= now - timedelta(minutes=settings.session_idle_minutes)
        or web.created_at <= now - timedelta(hours=settings.session_max_hours)
    ):
        return None
    active = Active(user.id, user.email, user.role, principal_for_user(user), web.csrf_token)
    return active, web.last_seen_at <= now - TOUCH_EVERY


def touch(session: Session, token: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == secret_hash(token))
        .values(last_seen_at=utcnow())
    )


def logout(session: Session, token: str) -> None:
    found = session.execute(
        select(WebSession, User.uid, User.email)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == secret_hash(token))
    ).one_or_none()
    if found is None:
        return
    web, uid, email = found
    session.delete(web)
    audit.record(
        session, actor=f"user:{email}", action="session.ended", entity_type="user", entity_id=uid
    )
