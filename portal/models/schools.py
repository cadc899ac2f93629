"""Alliances (networks), local authorities, EIPs, Boards and schools."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow


class Alliance(Model):
    """A Teaching School Alliance or network; each configures its own charging model."""

    __tablename__ = "alliance"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(40), unique=True)
    lead_school: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    charging_model: Mapped[str] = mapped_column(String(20))
    agreement_terms: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("charging_model in ('east_sussex', 'sefton')", name="charging_model"),
    )


class LocalAuthority(Model):
    __tablename__ = "local_authority"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    code: Mapped[str | None] = mapped_column(String(10), unique=True)


class EIP(Model):
    """An Education Improvement Partnership: a local group of schools that can request together."""

    __tablename__ = "eip"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Optimistic locking: an edit sent from an older page is refused (409), never saved over.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Board(Model):
    """A Primary or Secondary Board that may target and subsidise deployments."""

    __tablename__ = "board"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(20))
    budget_pence: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # see EIP.version

    alliance: Mapped[Alliance] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("budget_pence >= 0", name="budget_not_negative"),)


class Trust(Model):
    """A multi-academy (or single-academy) trust, as GIAS names it (``Trusts (code)``)."""

    __tablename__ = "trust"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class School(Model):
    __tablename__ = "school"
    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    local_authority_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"))
    alliance_id: Mapped[int | None] = mapped_column(ForeignKey("alliance.id"))
    eip_id: Mapped[int | None] = mapped_column(ForeignKey("eip.id"))
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    # GIAS says the establishment has closed: kept (its history stays), never offered anew
    closed: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # see EIP.version

    local_authority: Mapped[LocalAuthority | None] = relationship()
    alliance: Mapped[Alliance | None] = relationship()
    eip: Mapped[EIP | None] = relationship()
    trust: Mapped[Trust | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_school_alliance_name", "alliance_id", "name"),
        Index("ix_school_local_authority_id", "local_authority_id"),
    )
