"""In-portal notifications and the email outbox."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class Notification(Model):
    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    message: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300), default="")
    read_at = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_notification_user_read_at", "user_id", "read_at", "at"),)


class OutboxEmail(Model):
    """Every email the portal sends, kept so the co-ordinator can read what went out.

    Delivery (``domain.notify``, run by the job worker): a row is *sent* (``sent_at``),
    *failed* (``failed_at``: it will not be tried again unless someone resends it; ``error``
    says why) or *pending*, waiting for its next try (``next_attempt_at``, empty = at once).
    A worker *claims* a row before sending it (``claimed_by`` until ``claimed_until``, a lease):
    one UPDATE that only one worker can win, so an email is never sent twice, and one whose
    worker died is claimable again once the lease runs out. ``attempts`` counts the tries.

    An email that carries a set-password link names its kind in ``link_kind`` and its owner in
    ``link_user_id``; the body holds a placeholder, and the link is made only as the email is
    sent (``domain.notify.outgoing_body``), so no reader of the outbox can use it."""

    __tablename__ = "outbox_email"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int | None] = mapped_column(ForeignKey("alliance.id"), index=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    link_kind: Mapped[str] = mapped_column(String(10), default="", server_default="")
    link_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    claimed_until = mapped_column(UTCDateTime, nullable=True)
    failed_at = mapped_column(UTCDateTime, nullable=True)
    # What the email carries, named, not stored: a PDF ("agreement:<agreement id>",
    # "invoice:<invoice id>") or a visit's calendar invitation ("visit:<visit id>"); made from
    # the stored rows as the email goes out (``domain.notify.attachment_for``,
    # ``calendar_invitation``), so the outbox never holds a copy that could drift (no foreign
    # key: a visit cancelled before the email goes leaves the email without its invitation)
    attachment: Mapped[str] = mapped_column(String(40), default="", server_default="")

    # the worker's sweep and /healthz look for unsent rows: sent_at IS NULL AND failed_at IS NULL
    # and a person's own emails, in order, are found by their address (subject access)
    __table_args__ = (Index("ix_outbox_email_unsent", "sent_at", "failed_at", "next_attempt_at"),
                      Index("ix_outbox_email_to_id", "to", "id"))

    @property
    def attachment_label(self) -> str:
        """What the email carries, in words ("" for none)."""
        kind = self.attachment.partition(":")[0]
        return {"agreement": "The signed agreement, as a PDF made when the email is sent",
                "invoice": "The invoice or credit note, as a PDF made when the email is sent",
                "visit": "An invitation to the visit, for the recipient's calendar",
                }.get(kind, "")

    @property
    def status(self) -> str:
        """"sent", "failed" or "pending" (never a template's business to work out)."""
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.failed_at is not None else "pending"


class WorkerHeartbeat(Model):
    """A job worker's last sign of life (a periodic task writes it; ``/healthz`` reads it)."""

    __tablename__ = "worker_heartbeat"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at = mapped_column(UTCDateTime, nullable=False)
