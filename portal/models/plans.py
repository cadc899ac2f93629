"""The live action plan: outcomes, actions and every revision."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .requests import _in

if TYPE_CHECKING:
    from .deployments import Deployment
    from .people import User

ACTION_STATUSES = {"not_started": "Not started", "on_track": "On track", "at_risk": "At risk",
                   "done": "Done"}


class ActionPlan(Model):
    __tablename__ = "action_plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), unique=True
    )
    next_steps: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every change to the plan or any of its rows: viewers poll with the one they have.
    revision: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)
    # Optimistic lock for next_steps and notes alone (``version`` moves with every row edit).
    text_version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    deployment: Mapped[Deployment] = relationship()
    outcomes: Mapped[list[Outcome]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Outcome.position"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Action.position"
    )

    __mapper_args__ = {"version_id_col": version}


class Outcome(Model):
    __tablename__ = "outcome"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    standard: Mapped[str | None] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(default=1)

    plan: Mapped[ActionPlan] = relationship(back_populates="outcomes")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_outcome_plan_position", "plan_id", "position"),)


class Action(Model):
    __tablename__ = "action"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id", ondelete="CASCADE"))
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcome.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="not_started")
    success_criteria: Mapped[str] = mapped_column(Text, default="")
    between_visits: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    plan: Mapped[ActionPlan] = relationship(back_populates="actions")
    outcome: Mapped[Outcome | None] = relationship()

    @property
    def status_label(self) -> str:
        return ACTION_STATUSES[self.status]

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        Index("ix_action_plan_position", "plan_id", "position"),
    )


class PlanRevision(Model):
    """Before and after of every change to a plan, for the revision history."""

    __tablename__ = "plan_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id", ondelete="CASCADE"))
    revision: Mapped[int]
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int | None]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_plan_revision_plan_revision", "plan_id", "revision"),
        Index("ix_plan_revision_entity", "entity", "entity_id"),
    )
