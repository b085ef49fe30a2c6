from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shieldwall.db.base import Base, UTCDateTime
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.inventory.models import Service

_STATES = ", ".join(f"'{s.value}'" for s in ExceptionState)


class RiskException(Base):
    """A request to accept a finding's risk (or a rule's, in one service) until a date.

    It covers one finding, or every finding of one rule in one service, present and future,
    while it is approved and unexpired.
    """

    __tablename__ = "risk_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    rule_id: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger)
    """The most urgent priority among what it covered when requested: decides who may
    approve it and for how long."""
    reason: Mapped[str] = mapped_column(Text)
    compensating_controls: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship()

    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint("(finding_id IS NULL) != (rule_id IS NULL)", name="subject"),
        Index("ix_risk_exceptions_service_state", "service_id", "state"),
        Index("ix_risk_exceptions_state_expires", "state", "expires_at"),
    )


class Reminder(Base):
    """A reminder already sent, so that each is sent once (keyed by what it is about and
    the date it warns of)."""

    __tablename__ = "reminders"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
