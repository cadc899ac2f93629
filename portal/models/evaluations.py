"""Evaluations by the leader and the receiving schools, and the director's quality assurance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .requests import _in

if TYPE_CHECKING:
    from .deployments import Deployment

EVALUATION_KINDS = {"leader": "System leader's evaluation", "school": "School's evaluation",
                    "group": "Group's evaluation",
                    "qa_mid": "Mid-point quality assurance", "qa_final": "Final quality assurance"}
EVALUATION_STATUSES = {"draft": "Draft", "submitted": "Submitted", "forwarded": "Forwarded",
                       "signed_off": "Signed off", "returned": "Returned"}
RATINGS = {1: "No impact", 2: "Some impact", 3: "Good impact", 4: "Outstanding impact"}


class Evaluation(Model):
    __tablename__ = "evaluation"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    summary: Mapped[str] = mapped_column(Text, default="")
    changes_for_teachers: Mapped[str] = mapped_column(Text, default="")
    changes_for_pupils: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    exit_arrangements: Mapped[str] = mapped_column(Text, default="")
    support_quality: Mapped[int | None]
    value_for_money: Mapped[int | None]
    would_use_again: Mapped[bool | None]
    return_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    ratings: Mapped[list[OutcomeRating]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )
    # on a commission's evaluation by the supported school: each person deployed under it
    people: Mapped[list[PersonRating]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan",
        order_by="PersonRating.deployment_id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("kind", EVALUATION_KINDS), name="kind"),
        CheckConstraint(_in("status", EVALUATION_STATUSES), name="status"),
        Index("ix_evaluation_deployment_kind", "deployment_id", "kind"),
        # the evaluations a person wrote, in order (subject access)
        Index("ix_evaluation_author_id_id", "author_id", "id"),
    )


class OutcomeRating(Model):
    __tablename__ = "outcome_rating"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome.id", ondelete="CASCADE"))
    rating: Mapped[int]
    evidence: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="ratings")

    __table_args__ = (
        UniqueConstraint("evaluation_id", "outcome_id", name="uq_outcome_rating_once"),
        CheckConstraint("rating between 1 and 4", name="rating_range"),
    )


class PersonRating(Model):
    """The supported school's rating of one person deployed under a commission, part of its
    evaluation of the commission as a whole (Sefton D, E)."""

    __tablename__ = "person_rating"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="people")
    deployment: Mapped[Deployment] = relationship()

    __table_args__ = (
        UniqueConstraint("evaluation_id", "deployment_id", name="uq_person_rating_once"),
        CheckConstraint("rating between 1 and 4", name="rating_range"),
    )


class EvaluationDraft(Model):
    """What someone has typed so far into a leader's final evaluation, a school's or a group's
    evaluation or a QA note, saved to finish later. Private to its author (only they load it),
    kept apart from :class:`Evaluation` so nothing counts it as submitted; sending the form
    (fully validated) removes it."""

    __tablename__ = "evaluation_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("deployment_id", "kind", "author_id", name="uq_evaluation_draft_once"),
        CheckConstraint(_in("kind", EVALUATION_KINDS), name="kind"),
    )
