from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shieldwall.db.base import Base, JSONType, UTCDateTime
from shieldwall.inventory.models import Service


class GateRun(Base):
    """One decision of the gate: on what, with which result, and what became of a block
    (an override, or the next passing run), for pipeline-friction metrics."""

    __tablename__ = "gate_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    service_name: Mapped[str] = mapped_column(String(200))
    """As the run named it: the store may not know the service (yet)."""
    branch: Mapped[str] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(String(64))
    base_ref: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16))
    """``pass`` or ``blocked``."""
    findings: Mapped[int] = mapped_column(Integer)
    blocking: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer)
    excepted: Mapped[int] = mapped_column(Integer)
    tools: Mapped[list[str]] = mapped_column(JSONType)
    missing_scanners: Mapped[list[str]] = mapped_column(JSONType)
    policy_digest: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    overridden_by: Mapped[str | None] = mapped_column(String(320))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    override_reason: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service | None] = relationship()

    __table_args__ = (
        Index("ix_gate_runs_service_branch", "service_name", "branch", "decided_at"),
        Index("ix_gate_runs_decided_at", "decided_at"),
    )


class GateBlock(Base):
    """A finding that blocked a run (the most urgent ``MAX_RECORDED_BLOCKS`` of a run),
    kept by fingerprint so that a later false-positive triage of it is seen."""

    __tablename__ = "gate_blocks"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("gate_runs.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    tool: Mapped[str] = mapped_column(String(100))
    rule_id: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(1000))
    path: Mapped[str | None] = mapped_column(String(4096))
    line: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))

    __table_args__ = (Index("ix_gate_blocks_fingerprint", "fingerprint"),)
