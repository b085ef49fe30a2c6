from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shieldwall.db.base import Base, UTCDateTime


class RiskState(Base):
    """What the stored priorities were computed with (the policy's digest), so that a
    changed policy file re-prioritises every open finding once."""

    __tablename__ = "risk_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
