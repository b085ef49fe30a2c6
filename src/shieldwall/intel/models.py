"""The local intelligence store: advisories, their alias groups, KEV and EPSS.

Enrichment is stored once per vulnerability id and joined when a finding is prioritised or
shown, never copied onto findings (DESIGN.md, "Performance rules").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shieldwall.db.base import Base, JSONType, UTCDateTime


class Advisory(Base):
    """One OSV record, as the database that published it wrote it."""

    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vuln_id: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSONType)
    summary: Mapped[str | None] = mapped_column(String(1000))
    details: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cvss_vector: Mapped[str | None] = mapped_column(String(300))
    """The newest CVSS standard the record gives (v4, else v3.x, else v2)."""
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cwe_ids: Mapped[list[str]] = mapped_column(JSONType)
    references: Mapped[list[str]] = mapped_column(JSONType)
    exploit_references: Mapped[list[str]] = mapped_column(JSONType)
    """References that point at a public exploit or proof of concept."""
    digest: Mapped[str] = mapped_column(String(32))
    """Of the record's content: an unchanged record is skipped when loaded again."""
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdvisoryPackage(Base):
    """A package an advisory affects, with its ranges, indexed for matching."""

    __tablename__ = "advisory_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    ecosystem: Mapped[str] = mapped_column(String(100))
    """As the record writes it ("PyPI", "Debian:11")."""
    family: Mapped[str] = mapped_column(String(100))
    """The ecosystem without its release ("Debian"): what a component is looked up by."""
    name: Mapped[str] = mapped_column(String(1000))
    name_key: Mapped[str] = mapped_column(String(1000))
    purl: Mapped[str | None] = mapped_column(String(2048))
    ranges: Mapped[list[dict[str, object]]] = mapped_column(JSONType)
    versions: Mapped[list[str]] = mapped_column(JSONType)

    __table_args__ = (
        Index("ix_advisory_packages_lookup", "family", "name_key"),
        Index("ix_advisory_packages_advisory", "advisory_id"),
    )


class VulnAlias(Base):
    """Every id of a vulnerability (CVE, GHSA, PYSEC, GO, RUSTSEC...) and the group it
    belongs to: the oldest CVE of the group, else its first id (the same rule as a finding's
    canonical id)."""

    __tablename__ = "vuln_aliases"

    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(200), index=True)


class KevEntry(Base):
    """CISA's Known Exploited Vulnerabilities catalog: a row is a listed CVE; a CVE removed
    from the catalog loses its row, and with it the flag."""

    __tablename__ = "kev_entries"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vendor: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(500))
    date_added: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    ransomware: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)


class EpssScore(Base):
    """FIRST's EPSS: the probability of exploitation activity in the next 30 days."""

    __tablename__ = "epss_scores"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    score_date: Mapped[date | None] = mapped_column(Date)


class IntelFeed(Base):
    """What each feed last loaded: for ``intel status`` and the age warnings."""

    __tablename__ = "intel_feeds"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    """``kev``, ``epss``, or ``osv:<ecosystem>``."""
    origin: Mapped[str] = mapped_column(String(2048))
    version: Mapped[str | None] = mapped_column(String(100))
    data_date: Mapped[date | None] = mapped_column(Date)
    records: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
