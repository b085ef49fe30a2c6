from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shieldwall.db.base import Base, JSONType, JSONValue, UTCDateTime


class AuditEntry(Base):
    """One mutation: who, what, when, before and after, chained to the previous entry.

    ``seq`` is assigned by the writer (previous + 1) under a lock, so the chain order is the
    commit order on every engine and a gap is as visible as an edit.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[JSONValue | None] = mapped_column(JSONType)
    after: Mapped[JSONValue | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)
