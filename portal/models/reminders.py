"""Reminders already sent (so none goes twice) and each alliance's reminder settings."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class ReminderSent(Model):
    """One reminder (kind, object, step) told to one user. The unique key is what makes every
    sweep idempotent: a sweep inserts with ON CONFLICT DO NOTHING and tells only the users whose
    row it inserted, in the same transaction as the notification."""

    __tablename__ = "reminder_sent"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    step: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    sent_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("kind", "object_type", "object_id", "step", "user_id",
                         name="uq_reminder_sent_once"),
        Index("ix_reminder_sent_object", "object_type", "object_id", "sent_at"),
    )


# (column, default, lowest, highest, label) of every per-alliance reminder setting
SETTINGS = (
    ("payment_terms_days", 30, 1, 120, "Payment terms (days)"),
    ("match_remind_hours", 36, 1, 240,
     "Remind the co-ordinator of an unmatched request after (hours)"),
    ("match_overdue_hours", 48, 1, 240,
     "Escalate an unmatched request to the director after (hours)"),
    ("response_remind_working_days", 2, 1, 20,
     "Remind a party of an unanswered proposal after (working days)"),
    ("response_escalate_working_days", 4, 1, 30,
     "Tell the co-ordinator of an unanswered proposal after (working days)"),
    ("sign_remind_days", 3, 1, 30, "Remind awaited signatories every (days)"),
    ("sign_escalate_days", 14, 1, 90,
     "Tell the co-ordinator of an unsigned agreement after (days)"),
    ("contact_remind_days", 5, 1, 30, "Remind the leader of first contact on day"),
    ("contact_escalate_days", 7, 1, 30, "Escalate missing first contact on day"),
    ("evaluation_days", 10, 1, 60, "Remind of a pending evaluation, sign-off or QA after (days)"),
)
DEFAULTS = {name: default for name, default, *_ in SETTINGS}


class AllianceSettings(Model):
    """An alliance's reminder thresholds and payment terms; an alliance without a row uses
    :data:`DEFAULTS`."""

    __tablename__ = "alliance_settings"
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id", ondelete="CASCADE"),
                                             primary_key=True)
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    match_remind_hours: Mapped[int] = mapped_column(default=36)
    match_overdue_hours: Mapped[int] = mapped_column(default=48)
    response_remind_working_days: Mapped[int] = mapped_column(default=2)
    response_escalate_working_days: Mapped[int] = mapped_column(default=4)
    sign_remind_days: Mapped[int] = mapped_column(default=3)
    sign_escalate_days: Mapped[int] = mapped_column(default=14)
    contact_remind_days: Mapped[int] = mapped_column(default=5)
    contact_escalate_days: Mapped[int] = mapped_column(default=7)
    evaluation_days: Mapped[int] = mapped_column(default=10)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = tuple(
        CheckConstraint(f"{name} between {low} and {high}", name=f"{name}_range")
        for name, _d, low, high, _l in SETTINGS
    ) + (
        CheckConstraint("match_remind_hours <= match_overdue_hours", name="match_order"),
        CheckConstraint("response_remind_working_days <= response_escalate_working_days",
                        name="response_order"),
        CheckConstraint("contact_remind_days <= contact_escalate_days", name="contact_order"),
    )
