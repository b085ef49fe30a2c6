"""Users and API tokens: create, authenticate, list, revoke. Every change is audited.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile). A login for an unknown e-mail address still verifies a hash, so the time taken
does not tell whether an account exists. API tokens are 256 random bits shown once; only
their SHA-256 is stored (a slow hash adds nothing to a secret that cannot be guessed, and a
fast one lets every API request look its token up by index).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from shieldwall.audit import service as audit
from shieldwall.auth.models import ApiToken, User
from shieldwall.auth.policy import ALL_TEAMS_ROLES, Principal, Role, TokenScope
from shieldwall.clock import isoformat, utcnow
from shieldwall.errors import InputError, NotFoundError
from shieldwall.ids import new_uid
from shieldwall.inventory.models import Team

TOKEN_PREFIX = "swt_"  # noqa: S105 - a marker that lets secret scanners recognise our tokens
PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 hashes anything; a megabyte "password" is a denial of service
TOKEN_MAX_DAYS = 3650

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """What an unknown address is checked against (made on first use: hashing is slow)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InputError(f"{value.strip()[:80]!r} is not an e-mail address: {exc}") from None


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise InputError(f"the password must have at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise InputError(f"the password must have at most {PASSWORD_MAX} characters")


def _teams(session: Session, names: list[str]) -> list[Team]:
    found = {t.name: t for t in session.scalars(select(Team).where(Team.name.in_(names)))}
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFoundError(f"team {missing[0]!r} is not in the inventory")
    return [found[name] for name in dict.fromkeys(names)]


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role,
        "teams": [t.name for t in user.teams],
        "active": user.active,
    }


def create_user(
    session: Session, *, email: str, role: Role, teams: list[str], password: str, actor: str
) -> User:
    email = normalize_email(email)
    check_password(password)
    if role not in ALL_TEAMS_ROLES and not teams:
        raise InputError(f"{role.value}s see only their own teams: give at least one --team")
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise InputError(f"a user {email} already exists")
    now = utcnow()
    user = User(
        uid=new_uid(),
        email=email,
        role=role.value,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        updated_at=now,
        teams=_teams(session, teams),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.uid,
        after=_user_snapshot(user),
    )
    return user


def set_active(session: Session, email: str, active: bool, actor: str) -> User:
    user = get_user(session, email)
    if user.active != active:
        before = _user_snapshot(user)
        user.active = active
        user.updated_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="user.enabled" if active else "user.disabled",
            entity_type="user",
            entity_id=user.uid,
            before=before,
            after=_user_snapshot(user),
        )
    return user


def get_user(session: Session, email: str) -> User:
    user = session.scalars(
        select(User).where(User.email == login_email(email)).options(selectinload(User.teams))
    ).one_or_none()
    if user is None:
        raise NotFoundError(f"there is no user {email.strip()[:80]!r}")
    return user


def login_email(email: str) -> str:
    """The address a login names, as accounts store it: every spelling of one address (case,
    Unicode forms) is the same. Text that is no address stays as typed (it is looked up
    anyway, as slowly as a known address)."""
    try:
        return normalize_email(email[:320])
    except InputError:
        return email.strip().lower()[:320]


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None; as slow either way."""
    key = login_email(email)
    user = session.scalars(select(User).where(User.email == key)).one_or_none()
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def principal_for_user(user: User) -> Principal:
    return Principal.for_user(user.email, Role(user.role), frozenset(t.id for t in user.teams))


def list_users(session: Session) -> list[dict[str, Any]]:
    query = select(User).options(selectinload(User.teams)).order_by(User.email)
    return [
        {
            "id": u.uid,
            **_user_snapshot(u),
            "created_at": isoformat(u.created_at),
            "last_login_at": isoformat(u.last_login_at),
        }
        for u in session.scalars(query)
    ]


@dataclass(frozen=True)
class NewToken:
    token: str
    """The secret itself: shown once, never stored."""
    record: ApiToken


def create_token(
    session: Session,
    *,
    name: str,
    team: str,
    scope: TokenScope,
    expires_days: int | None,
    actor: str,
) -> NewToken:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise InputError("a token name must be 1 to 100 printable characters")
    if expires_days is not None and not 0 < expires_days <= TOKEN_MAX_DAYS:
        raise InputError(f"--expires must be between 1 and {TOKEN_MAX_DAYS} days")
    (owner,) = _teams(session, [team])
    # A name is never reused within a team, revoked tokens included: the audit log and the
    # imports an ingest token may follow name the token by it.
    taken = select(ApiToken.id).where(ApiToken.team_id == owner.id, ApiToken.name == name)
    if session.scalar(taken) is not None:
        raise InputError(f"team {owner.name} already has a token named {name!r}: choose another")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    record = ApiToken(
        uid=new_uid(),
        name=name,
        team_id=owner.id,
        scope=scope.value,
        token_hash=secret_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.created",
        entity_type="token",
        entity_id=record.uid,
        after={
            "name": name,
            "team": owner.name,
            "scope": scope.value,
            "expires_at": isoformat(record.expires_at),
        },
    )
    return NewToken(secret, record)


def revoke_token(session: Session, token_id: str, actor: str) -> ApiToken:
    record = session.scalars(select(ApiToken).where(ApiToken.uid == token_id)).one_or_none()
    if record is None:
        raise NotFoundError(f"there is no token {token_id[:40]!r} (see `shieldwall token list`)")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="token.revoked",
            entity_type="token",
            entity_id=record.uid,
            after={"name": record.name},
        )
    return record


def usable_token(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The token record for a bearer token, or None when it is unknown, revoked or expired.
    Only reads: a request with a bad token never waits for the write lock."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    record = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == secret_hash(secret))
    ).one_or_none()
    if record is None or record.revoked_at is not None:
        return None
    if record.expires_at is not None and record.expires_at <= (now or utcnow()):
        return None
    return record


USE_RECORDED_EVERY = timedelta(minutes=1)
"""A token's ``last_used_at`` is rewritten at most this often, not on every request."""


def token_principal(record: ApiToken) -> Principal:
    return Principal.for_token(record.name, TokenScope(record.scope), record.team_id)


def use_to_record(record: ApiToken, now: datetime | None = None) -> bool:
    """Whether this use of the token should be written down (see ``USE_RECORDED_EVERY``)."""
    last = record.last_used_at
    return last is None or last <= (now or utcnow()) - USE_RECORDED_EVERY


def record_token_use(session: Session, token_id: int, now: datetime | None = None) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow())
    )


def principal_for_token(
    session: Session, secret: str, now: datetime | None = None
) -> Principal | None:
    """The principal a bearer token stands for (see ``usable_token``); records its use."""
    now = now or utcnow()
    record = usable_token(session, secret, now)
    if record is None:
        return None
    record_token_use(session, record.id, now)
    return token_principal(record)


def list_tokens(session: Session) -> list[dict[str, Any]]:
    query = select(ApiToken).options(selectinload(ApiToken.team)).order_by(ApiToken.created_at)
    now = utcnow()
    return [
        {
            "id": t.uid,
            "name": t.name,
            "team": t.team.name,
            "scope": t.scope,
            "prefix": t.prefix,
            "state": "revoked"
            if t.revoked_at
            else "expired"
            if t.expires_at and t.expires_at <= now
            else "active",
            "created_by": t.created_by,
            "created_at": isoformat(t.created_at),
            "expires_at": isoformat(t.expires_at),
            "last_used_at": isoformat(t.last_used_at),
        }
        for t in session.scalars(query)
    ]


def first_admin(session: Session, email: str) -> str | None:
    """On a store without accounts, an admin with a random password (returned, to be handed
    to its owner once); None when accounts exist."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    password = secrets.token_urlsafe(18)
    create_user(
        session, email=email, role=Role.ADMIN, teams=[], password=password, actor="system:first-run"
    )
    return password
