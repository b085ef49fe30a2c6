from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from shieldwall.db.base import Base, JSONType, UTCDateTime
from shieldwall.ingest.models import Sighting
from shieldwall.inventory.models import Service


class Finding(Base):
    """One problem in one service, however many tools and scans report it.

    Raw secrets are never stored: ``secret_hash`` identifies the secret and
    ``secret_preview`` shows a redacted form. Text from reports is stored as given (after
    control characters are removed); snippets only as a hash.
    """

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(SmallInteger)
    """``Severity.rank`` of ``severity``, stored so that lists sort by it through an index."""
    severity_source: Mapped[str] = mapped_column(String(16))
    tool_severity: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    status_source: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_by: Mapped[str | None] = mapped_column(String(200))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cwe_ids: Mapped[list[str]] = mapped_column(JSONType)
    vulnerability_ids: Mapped[list[str]] = mapped_column(JSONType)
    references: Mapped[list[str]] = mapped_column(JSONType)
    path: Mapped[str | None] = mapped_column(String(4096))
    line: Mapped[int | None] = mapped_column(Integer)
    end_line: Mapped[int | None] = mapped_column(Integer)
    snippet_hash: Mapped[str | None] = mapped_column(String(64))
    component_purl: Mapped[str | None] = mapped_column(String(2048))
    component_name: Mapped[str | None] = mapped_column(String(1000))
    component_version: Mapped[str | None] = mapped_column(String(256))
    ecosystem: Mapped[str | None] = mapped_column(String(64))
    fixed_version: Mapped[str | None] = mapped_column(String(256))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    secret_preview: Mapped[str | None] = mapped_column(String(64))
    tools: Mapped[list[str]] = mapped_column(JSONType)
    scan_digest: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer)

    # Risk (see shieldwall.risk): derived from the finding, its vulnerability's intelligence
    # and its service, and stored so that queues sort through an index. The explanation is
    # worked out again when asked for, from the same inputs.
    priority: Mapped[int | None] = mapped_column(SmallInteger)
    """0 for P0 (most urgent) to 4 for P4."""
    risk_score: Mapped[float | None] = mapped_column(Float)
    """0-100, orders findings within a priority."""
    urgency: Mapped[int | None] = mapped_column(SmallInteger)
    """Priority and risk score as one number, higher first: what the priority queue sorts by."""
    priority_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Since when the finding has had its priority: where its SLA clock starts."""
    sla_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exception_id: Mapped[int | None] = mapped_column(Integer)
    """The approved exception that accepts the finding's risk, while it does. No foreign
    key: exceptions refer to findings, and a cycle of keys would complicate every table
    rebuild on SQLite; ``shieldwall.exceptions.service`` keeps the two in step."""

    # When a scan last reported the finding: kept on its sightings, which every import
    # writes anyway, rather than by rewriting every reported finding's row after each import.
    last_seen: Mapped[datetime] = column_property(
        select(func.max(Sighting.last_seen))
        .where(Sighting.finding_id == id)
        .correlate_except(Sighting)
        .scalar_subquery()
    )

    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("service_id", "fingerprint"),
        # Lists sort by (severity_rank, id) or (first_seen, id) after the team and status
        # conditions; each index below answers those, and the counts of pages and dashboards,
        # from the index alone, so a page costs the same at a million findings as at fifty
        # (benchmarks/pages.py). The key columns come right after the equality columns so
        # that SQLite stops after a page of rows instead of sorting every match.
        Index(
            "ix_findings_service_status",
            "service_id",
            "status",
            "severity_rank",
            "id",
            "kind",
            "first_seen",
        ),
        Index(
            "ix_findings_status_rank",
            "status",
            "severity_rank",
            "id",
            "service_id",
            "kind",
            "first_seen",
        ),
        Index("ix_findings_rank", "severity_rank", "id"),
        Index("ix_findings_first_seen", "first_seen", "id", "service_id", "status"),
        Index("ix_findings_fixed_at", "fixed_at", "status", "service_id"),
        # A team's dashboard counts its services' findings by first-seen day.
        Index("ix_findings_service_first_seen", "service_id", "first_seen"),
        # The priority queues, as the severity lists above.
        Index("ix_findings_service_urgency", "service_id", "status", "urgency", "id"),
        Index("ix_findings_status_urgency", "status", "urgency", "id", "service_id"),
        Index("ix_findings_sla_due", "sla_due", "status", "service_id"),
    )
