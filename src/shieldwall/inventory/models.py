from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shieldwall.db.base import Base, JSONType, UTCDateTime
from shieldwall.inventory.vocabulary import Exposure, Lifecycle

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    champion_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    manager: Mapped[Person | None] = relationship(foreign_keys=[manager_id])
    champion: Mapped[Person | None] = relationship(foreign_keys=[champion_id])
    members: Mapped[list[Person]] = relationship(secondary=team_members, order_by=Person.email)


_EXPOSURES = ", ".join(f"'{e.value}'" for e in Exposure)
_LIFECYCLES = ", ".join(f"'{v.value}'" for v in Lifecycle)


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    repository: Mapped[str | None] = mapped_column(String(2048))
    tier: Mapped[int] = mapped_column(SmallInteger)
    exposure: Mapped[str] = mapped_column(String(16))
    data_classes: Mapped[list[str]] = mapped_column(JSONType)
    lifecycle: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    team: Mapped[Team] = relationship()

    __table_args__ = (
        CheckConstraint("tier IN (0, 1, 2)", name="tier"),
        CheckConstraint(f"exposure IN ({_EXPOSURES})", name="exposure"),
        CheckConstraint(f"lifecycle IN ({_LIFECYCLES})", name="lifecycle"),
    )
