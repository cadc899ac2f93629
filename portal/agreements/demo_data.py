"""Demo data: the demo's already-active deployments get a real, fully signed agreement
(content, hash, one signature per signatory with its evidence in the alliance's audit log)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from ..domain import agreements as service
from ..domain import brokering, signing
from ..extensions import db
from ..models import Agreement, Deployment


def signed_agreements(today: date, now: datetime) -> None:
    placeholders = db.session.scalars(
        select(Agreement).where(Agreement.content_hash == "").order_by(Agreement.id)).all()
    for agreement in placeholders:
        deployment = db.session.get_one(Deployment, agreement.deployment_id)
        agreement.content = service.build_content(deployment, today)
        agreement.content_hash = signing.content_hash(agreement.content)
        agreement.verify_token = service.new_token()
        people = service.eligible_users(deployment)
        signed_at = agreement.signed_at or now
        for slot in service.slots(deployment, agreement):
            user = next((u for u in people if service.holds(slot, deployment, u)), None)
            if user is None:
                continue
            service.record_signature(deployment, agreement, slot, user, decision="signed",
                                     typed_name=user.name, signed_at=signed_at,
                                     user_agent="demo data")
        agreement.status = "signed"
        agreement.signed_at = signed_at


def agreement_being_signed(today: date, now: datetime) -> None:
    """In every alliance, one deployment whose agreement is out for signature, signed so far by
    its system leader only, so step 4 can be tried at once with the demo logins."""
    from datetime import timedelta

    from ..domain import workflow
    from ..models import (
        Alliance,
        DeploymentResponse,
        LeaderProfile,
        RequestSchool,
        SupportRequest,
        User,
        standards_to_mask,
    )

    for alliance in db.session.scalars(select(Alliance).order_by(Alliance.id)):
        head = db.session.scalar(select(User).where(
            User.alliance_id == alliance.id, User.role == "headteacher",
            User.email.like("head@%")))
        admin = db.session.scalar(select(User).where(
            User.alliance_id == alliance.id, User.role == "admin"))
        leader = db.session.scalar(select(User).where(
            User.alliance_id == alliance.id, User.role == "sle", User.email.like("sle@%")))
        if head is None or admin is None or leader is None or head.school_id is None:
            continue
        profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader.id))
        if profile is None:
            continue
        home_head = db.session.scalar(select(User).where(
            User.role == "home_school", User.school_id == profile.home_school_id))
        submitted = now - timedelta(days=3)
        req = SupportRequest(
            reference=brokering.provisional_reference(), alliance_id=alliance.id,
            requested_by_id=head.id, status="matched", kind="sle_deployment", route="school",
            title="Questioning and feedback in Key Stage 2",
            standards_mask=standards_to_mask(["TS4", "TS6"]), phase="primary",
            staff_involved="A Year 5 teacher in her second year of teaching.",
            priorities="Sharper questioning; feedback pupils act on.",
            desired_outcomes="Lessons use hinge questions; feedback is acted on in the lesson.",
            measures_of_success="Work scrutiny in the spring term shows pupils responding.",
            start_date=today + timedelta(days=14), end_date=today + timedelta(days=100),
            half_days_wanted=6, submitted_at=submitted, matched_at=submitted + timedelta(hours=20),
            created_at=submitted - timedelta(hours=1),
        )
        req.schools = [RequestSchool(school_id=head.school_id, position=0)]
        db.session.add(req)
        db.session.flush()
        req.reference = brokering.new_reference("R", req.id)
        d = Deployment(
            reference=brokering.deployment_reference(req), request_id=req.id,
            alliance_id=alliance.id, leader_id=leader.id, home_school_id=profile.home_school_id,
            designation=profile.designation, half_days_agreed=6, proposed_by_id=admin.id,
            proposed_at=req.matched_at, status="proposed",
        )
        db.session.add(d)
        db.session.flush()
        for party, school_id, who in (("receiving", head.school_id, head),
                                      ("home_school", profile.home_school_id, home_head),
                                      ("leader", profile.home_school_id, leader)):
            if who is not None:
                d.responses.append(DeploymentResponse(
                    party=party, school_id=school_id, user_id=who.id, decision="accepted",
                    decided_at=req.matched_at + timedelta(hours=6)))
        db.session.flush()
        workflow.transition(d, "agreement", None)  # drafts version 1 through the hook
        db.session.flush()
        agreement = db.session.scalar(select(Agreement).where(Agreement.deployment_id == d.id))
        if agreement is None:
            raise RuntimeError(f"no agreement was drafted for deployment {d.reference}")
        slot = next(s for s in service.slots(d, agreement) if s.kind == "leader")
        service.record_signature(d, agreement, slot, leader, decision="signed",
                                 typed_name=leader.name, signed_at=now - timedelta(hours=2),
                                 user_agent="demo data")
        agreement.status = "signing"
