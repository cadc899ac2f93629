"""Demo data for step 6: in every alliance, one finished deployment with its action-plan
outcomes, the leader's and the school's evaluations and the director's quality assurance, so the
impact reports have something to show."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..domain import brokering
from ..extensions import db
from ..models import (
    ActionPlan,
    Alliance,
    Board,
    Deployment,
    Evaluation,
    LeaderProfile,
    Outcome,
    OutcomeRating,
    RequestSchool,
    SupportRequest,
    User,
    standards_to_mask,
)


def _first(stmt):
    return db.session.scalars(stmt.limit(1)).first()


def completed_deployments(today: date, now: datetime) -> None:
    for alliance in db.session.scalars(select(Alliance).order_by(Alliance.id)).all():
        head = _first(select(User).where(User.alliance_id == alliance.id,
                                         User.role == "headteacher").order_by(User.id))
        director = _first(select(User).where(User.alliance_id == alliance.id,
                                             User.role == "director").order_by(User.id))
        profile = _first(select(LeaderProfile).where(LeaderProfile.alliance_id == alliance.id)
                         .order_by(LeaderProfile.id))
        if head is None or director is None or profile is None or head.school is None:
            continue
        board = _first(select(Board).where(Board.alliance_id == alliance.id).order_by(Board.id))
        submitted = now - timedelta(days=120)
        matched = submitted + timedelta(hours=26)
        req = SupportRequest(
            reference=brokering.provisional_reference(), alliance_id=alliance.id,
            requested_by_id=head.id, status="matched", route="board" if board else "school",
            board_id=board.id if board else None, title="Reading fluency in Year 3",
            standards_mask=standards_to_mask(["TS3", "TS4"]), phase=head.school.phase,
            staff_involved="Two Year 3 teachers", priorities="Fluency below national",
            desired_outcomes="Pupils read with fluency and expression", half_days_wanted=6,
            submitted_at=submitted, matched_at=matched, created_at=submitted,
            start_date=(matched + timedelta(days=5)).date(),
            end_date=(now - timedelta(days=12)).date(),
        )
        req.schools = [RequestSchool(school_id=head.school_id, position=0)]
        db.session.add(req)
        db.session.flush()
        req.reference = brokering.new_reference("R", req.id)
        d = Deployment(
            reference=brokering.deployment_reference(req), request_id=req.id,
            alliance_id=alliance.id, leader_id=profile.user_id,
            home_school_id=profile.home_school_id, designation=profile.designation,
            status="completed", half_days_agreed=6, half_days_delivered=6,
            targeted=board is not None, proposed_at=matched,
            board_approved_at=matched + timedelta(days=1) if board is not None else None,
            confirmed_at=matched + timedelta(days=2), active_at=matched + timedelta(days=4),
            first_contact_at=matched + timedelta(days=5), closed_at=now - timedelta(days=10),
        )
        db.session.add(d)
        db.session.flush()
        plan = ActionPlan(deployment_id=d.id, next_steps="Sustain through the English lead")
        plan.outcomes = [
            Outcome(text="Teachers model fluent reading daily", standard="TS3", position=0),
            Outcome(text="Lessons build in repeated reading", standard="TS4", position=1),
        ]
        db.session.add(plan)
        db.session.flush()
        leader_ev = Evaluation(
            deployment_id=d.id, kind="leader", author_id=profile.user_id, status="forwarded",
            summary="Fluency routines are embedded in both classes.",
            changes_for_teachers="Both teachers model and coach fluency every day.",
            changes_for_pupils="Most pupils now read age-appropriate texts fluently.",
            recommendations="Extend the approach to Year 4.",
            exit_arrangements="The English lead observes each term.",
            submitted_at=now - timedelta(days=20))
        school_ev = Evaluation(
            deployment_id=d.id, kind="school", school_id=head.school_id, author_id=head.id,
            status="signed_off", support_quality=4, value_for_money=3, would_use_again=True,
            summary="Practical and well received.", submitted_at=now - timedelta(days=15))
        for e, scores in ((leader_ev, (3, 4)), (school_ev, (4, 3))):
            e.ratings = [OutcomeRating(outcome_id=o.id, rating=s, evidence="Lesson visits")
                         for o, s in zip(plan.outcomes, scores, strict=True)]
        db.session.add_all([
            leader_ev, school_ev,
            Evaluation(deployment_id=d.id, kind="qa_mid", author_id=director.id,
                       status="submitted", summary="Working: routines in place by week 3.",
                       recommendations="Add a second joint observation.",
                       submitted_at=now - timedelta(days=60)),
            Evaluation(deployment_id=d.id, kind="qa_final", author_id=director.id,
                       status="signed_off", summary="Impact secure; exit plan sound.",
                       submitted_at=now - timedelta(days=10)),
        ])
