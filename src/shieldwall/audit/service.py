"""Writing and verifying the hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting
or reordering any entry breaks every hash after it. Deleting entries from the end cannot be
seen from inside the chain; ``verify`` reports the head hash so it can be recorded elsewhere
and checked later with ``expect_head``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from shieldwall.audit.models import AuditEntry
from shieldwall.clock import isoformat, utcnow

GENESIS_HASH = "0" * 64
_PG_LOCK_KEY = 0x5348_4C44_4155_4449  # "SHLDAUDI": serialises chain appends across processes
_HEAD_CACHE = "shieldwall_audit_head"


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: Any,
    after: Any,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": isoformat(at),
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry in the caller's transaction; returns its sequence number."""
    seq, prev_hash = _head(session)
    seq += 1
    at = utcnow()
    before_value = dict(before) if before is not None else None
    after_value = dict(after) if after is not None else None
    digest = entry_hash(
        prev_hash,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before_value,
        after=after_value,
    )
    session.execute(
        insert(AuditEntry),
        [
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "before": before_value,
                "after": after_value,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        ],
    )
    session.info[_HEAD_CACHE] = (seq, digest)
    return seq


def _head(session: Session) -> tuple[int, str]:
    # Cached per session; ``Database.write`` makes one session per transaction.
    cached: tuple[int, str] | None = session.info.get(_HEAD_CACHE)
    if cached is not None:
        return cached
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: appends from other processes wait here.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


@dataclass
class Verification:
    entries: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, expect_head: str | None = None) -> Verification:
    """Walk the chain from the first entry and report every break."""
    result = Verification()
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in _entries(session):
        if entry.seq != expected_seq:
            result.problems.append(
                f"entries {expected_seq}..{entry.seq - 1} are missing (deleted?)"
                if entry.seq > expected_seq
                else f"entry {entry.seq} is out of order"
            )
        if entry.prev_hash != prev_hash:
            result.problems.append(f"entry {entry.seq} does not link to the entry before it")
        digest = entry_hash(
            entry.prev_hash,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            before=entry.before,
            after=entry.after,
        )
        if digest != entry.hash:
            result.problems.append(f"entry {entry.seq} was modified (its hash does not match)")
        prev_hash = entry.hash
        expected_seq = entry.seq + 1
        result.entries += 1
    result.head_hash = prev_hash
    if expect_head is not None and expect_head != prev_hash:
        result.problems.append(
            f"the head is {prev_hash}, not the expected {expect_head} "
            "(entries removed from the end?)"
        )
    return result


def _entries(session: Session) -> Iterator[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        yield entry
        session.expunge(entry)


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Names of the fields that differ, for a one-line description of an entry."""
    before = before or {}
    after = after or {}
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def list_entries(
    session: Session, *, entity_type: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    return list(session.scalars(stmt))
