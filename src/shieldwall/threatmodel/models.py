"""Threat models in the store: per service, every version's source, the threats of the
latest version (for pages, links to findings and metrics), and how each is treated."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shieldwall.db.base import Base, JSONType, UTCDateTime
from shieldwall.inventory.models import Service


class ThreatModel(Base):
    """One model of a service (a service may have several: one per feature)."""

    __tablename__ = "threat_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()

    __table_args__ = (UniqueConstraint("service_id", "name"),)


class ThreatModelVersion(Base):
    """A model as it was pushed: its YAML, what it said, and a summary of its threats."""

    __tablename__ = "threat_model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("threat_models.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    reviewed: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[dict[str, int]] = mapped_column(JSONType)
    pushed_by: Mapped[str] = mapped_column(String(320))
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    commit: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("model_id", "version"),)


class StoredThreat(Base):
    """A threat of the model's latest version, with its treatment applied."""

    __tablename__ = "threats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("threat_models.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    threat_id: Mapped[str] = mapped_column(String(300))
    rule_id: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    element: Mapped[str] = mapped_column(String(250))
    element_name: Mapped[str] = mapped_column(String(500))
    categories: Mapped[list[str]] = mapped_column(JSONType)
    cwe_ids: Mapped[list[str]] = mapped_column(JSONType)
    capec_ids: Mapped[list[str]] = mapped_column(JSONType)
    inherent_risk: Mapped[str] = mapped_column(String(16))
    residual_risk: Mapped[str] = mapped_column(String(16))
    residual_score: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    status_note: Mapped[str] = mapped_column(Text)
    missing_controls: Mapped[list[str]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("model_id", "threat_id"),
        Index("ix_threats_service_status", "service_id", "status"),
    )


class ThreatTreatment(Base):
    """A decision about one threat, by its stable id: it outlives versions of the model,
    and is dropped only when the model is."""

    __tablename__ = "threat_treatments"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("threat_models.id", ondelete="CASCADE"), primary_key=True
    )
    threat_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(320))
    approver: Mapped[str | None] = mapped_column(String(320))
    expires: Mapped[date | None] = mapped_column(Date)
    ticket: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
