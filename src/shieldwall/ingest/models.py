from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shieldwall.db.base import Base, JSONType, UTCDateTime
from shieldwall.inventory.models import Service


class ReportImport(Base):
    """One report brought in: what, by whom, how it went, and what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    format: Mapped[str | None] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    branch: Mapped[str] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(String(64))
    partial: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    tools: Mapped[list[str]] = mapped_column(JSONType)
    created: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    components: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When an upload through the API queued it (imports from the command line run at once)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()


class ScanStream(Base):
    """(service, tool, branch): the unit a complete scan closes findings in."""

    __tablename__ = "scan_streams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(String(100))
    branch: Mapped[str] = mapped_column(String(255))
    last_import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_complete_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("service_id", "tool", "branch"),)


class Sighting(Base):
    """A stream reports a finding; ``present`` turns false when a complete scan omits it."""

    __tablename__ = "finding_sightings"

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    stream_id: Mapped[int] = mapped_column(
        ForeignKey("scan_streams.id", ondelete="CASCADE"), primary_key=True
    )
    first_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    last_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    present: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_finding_sightings_stream", "stream_id", "last_import_id"),)


class Component(Base):
    """A software component a stream reported (SBOM entries, scanned packages)."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(ForeignKey("scan_streams.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    purl: Mapped[str | None] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(1000))
    version: Mapped[str | None] = mapped_column(String(256))
    ecosystem: Mapped[str | None] = mapped_column(String(64))
    licenses: Mapped[list[str]] = mapped_column(JSONType)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))

    __table_args__ = (
        UniqueConstraint("stream_id", "key"),
        Index("ix_components_service", "service_id", "name"),
    )


class UploadChunk(Base):
    """A queued import's report, held in the database until a worker imports it: workers on
    other hosts than the API process that received the upload can read it, and it goes
    away with the import's outcome. Chunks of at most ``CHUNK_SIZE`` bytes, in order."""

    __tablename__ = "upload_chunks"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
