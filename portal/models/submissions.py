"""What the web layer keeps about forms sent to it: one-time keys of creation forms, and the
answers of a form that arrived after its sender's session had ended."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class IdempotencyKey(Model):
    """A creation form's one-time key, claimed by the first POST that carried it.

    A later POST with the same key (a double click, a resend) answers with a redirect to
    ``url``, where what the first one made is shown. See ``portal/idempotency.py``.
    """

    __tablename__ = "idempotency_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(80))  # the endpoint whose form carried the key
    url: Mapped[str] = mapped_column(String(500), default="")
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("user_id", "key"),)


class FormDraft(Model):
    """The answers of a form sent after the session ended, kept for its owner to check and send
    again once signed in. Only the SHA-256 of the browser's token is stored; no passwords, no
    files. See ``portal/drafts.py``."""

    __tablename__ = "form_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(500))  # the path the form was sent to
    page: Mapped[str] = mapped_column(String(500))  # the page the form was on
    fields: Mapped[list] = mapped_column(JSON)  # [[name, value], ...] in the order sent
    signed_out: Mapped[bool] = mapped_column(default=True)  # or only the form had expired
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
