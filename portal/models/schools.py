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
    # the street address GIAS gives (Street, Locality, Address3, Town): the payer's address
    # on an invoice
    address_line1: Mapped[str] = mapped_column(String(100), default="", server_default="")
    address_line2: Mapped[str] = mapped_column(String(100), default="", server_default="")
    address_line3: Mapped[str] = mapped_column(String(100), default="", server_default="")
    town: Mapped[str] = mapped_column(String(100), default="", server_default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    local_authority_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"))
    # the home network; every network the school is in (the home one too) is a SchoolNetwork
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

    @property
    def address_lines(self) -> list[str]:
        """The street address, line by line, without the empty lines (postcode last)."""
        return [line for line in (self.address_line1, self.address_line2, self.address_line3,
                                  self.town, self.postcode) if line]


class SchoolNetwork(Model):
    """A school's membership of a network (alliance): a school may be in several. Whether a
    school is in a network, and a network's list of schools, read these rows
    (``domain.access.in_network``); requests, deployments and invoices keep their own
    alliance."""

    __tablename__ = "school_network"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"), primary_key=True)

    alliance: Mapped[Alliance] = relationship()

    __table_args__ = (Index("ix_school_network_alliance_school", "alliance_id", "school_id"),)
