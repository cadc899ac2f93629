"""Agreements (versioned) and their e-signatures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .requests import _in

AGREEMENT_STATUSES = {"draft": "Ready to sign", "signing": "Out for signature", "signed": "Signed",
                      "superseded": "Superseded", "void": "Void"}


class Agreement(Model):
    """One version of a deployment's agreement; changing the terms makes a new version."""

    __tablename__ = "agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    verify_token: Mapped[str] = mapped_column(String(43), unique=True)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    signed_at = mapped_column(UTCDateTime, nullable=True)
    lock_version: Mapped[int] = mapped_column(default=1)

    signatures: Mapped[list[Signature]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="Signature.signed_at"
    )

    __mapper_args__ = {"version_id_col": lock_version}
    __table_args__ = (
        UniqueConstraint("deployment_id", "version", name="uq_agreement_deployment_version"),
        CheckConstraint(_in("status", AGREEMENT_STATUSES), name="status"),
        Index("ix_agreement_content_hash", "content_hash"),
    )


class Signature(Model):
    """Evidence that one party signed exactly one version (content hash) of an agreement."""

    __tablename__ = "signature"
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    capacity: Mapped[str] = mapped_column(String(40))
    # The signatory slot filled: "leader", "director", "home_school:<school id>" or
    # "receiving:<school id>". One signature (or decline) per slot per version.
    party: Mapped[str] = mapped_column(String(40), default="", server_default="")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    decision: Mapped[str] = mapped_column(String(10), default="signed")
    typed_name: Mapped[str] = mapped_column(String(120))
    consent_text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    signed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    voided_at = mapped_column(UTCDateTime, nullable=True)
    evidence_hash: Mapped[str] = mapped_column(String(64), default="")
    # A signature the co-ordinator or director recorded for a school with no login of its own
    # (``agreements.record_on_behalf``): ``user_id`` is who recorded it, ``typed_name`` who at
    # the school agreed; these say in what role, how, and on what day. Empty otherwise.
    agreed_by_role: Mapped[str] = mapped_column(String(120), default="", server_default="")
    agreed_via: Mapped[str | None] = mapped_column(String(10))
    agreed_on: Mapped[date | None] = mapped_column()

    agreement: Mapped[Agreement] = relationship(back_populates="signatures")

    @property
    def on_behalf(self) -> bool:
        return self.agreed_via is not None

    __table_args__ = (
        UniqueConstraint("agreement_id", "user_id", "capacity", name="uq_signature_once"),
        UniqueConstraint("agreement_id", "party", name="uq_signature_party"),
        # a person's signatures across agreements, in order (subject access)
        Index("ix_signature_user_id_id", "user_id", "id"),
        CheckConstraint("decision in ('signed', 'declined')", name="decision"),
        CheckConstraint("agreed_via is null or agreed_via in ('email', 'phone', 'letter')",
                        name="agreed_via"),
    )
