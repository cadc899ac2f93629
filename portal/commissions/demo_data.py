"""Demo data: in the Holy Rosary TSA (the first Sefton-model alliance), an LLE commission led by
Dr Ruth Haldane with two colleagues deployed under it at different stages: Chidi Okafor (SLE)
agreed, signed and working, with the commissioner's mid-point QA note and 2 extra days approved
that wait for every party to sign again; Priya Raman (non-SLE working as SLE) waiting for the
school to agree. Adding Chidi made version 2 of the commission's agreement, which every party
signed again; his extra days made version 3, being signed. Built with the domain commands, so
the audit trail, agreements and notifications are the real ones."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..domain import agreements, brokering, commissions, evaluations, plans
from ..extensions import db
from ..models import (
    Agreement,
    Alliance,
    Deployment,
    DeploymentResponse,
    LeaderProfile,
    RequestSchool,
    Specialism,
    SupportRequest,
    User,
    standards_to_mask,
)


def _one(stmt):
    return db.session.scalars(stmt.limit(1)).first()


def _user(alliance: Alliance, role: str, local: str | None = None) -> User | None:
    query = select(User).where(User.alliance_id == alliance.id, User.role == role)
    if local:
        query = query.where(User.email.like(f"{local}@%"))
    return _one(query.order_by(User.id))


def _leader(alliance: Alliance, designation: str) -> User | None:
    return _one(select(User).join(LeaderProfile, LeaderProfile.user_id == User.id)
                .where(LeaderProfile.alliance_id == alliance.id,
                       LeaderProfile.designation == designation).order_by(User.id))


def _sign_all(d: Deployment, signers: list[User]) -> None:
    for user in signers:
        latest = agreements.current(d.id)
        if latest is None or latest.status == "signed":
            return
        slot = agreements.slot_for(d, latest, user)
        if slot is None or slot.signed:
            continue
        agreements.sign(latest, user, version=latest.version, seen_hash=latest.content_hash,
                        typed_name=user.name, ip="127.0.0.1", user_agent="demo")


def commission(today: date, now: datetime) -> None:
    alliance = _one(select(Alliance).where(Alliance.charging_model == "sefton")
                    .order_by(Alliance.id))
    if alliance is None:
        return
    admin, director = _user(alliance, "admin"), _user(alliance, "director")
    head, home_head = _user(alliance, "headteacher", "head"), _user(alliance, "home_school")
    lle, sle, non_sle = (_leader(alliance, d) for d in ("lle", "sle", "non_sle"))
    if not (admin and director and head and home_head and lle and sle and non_sle) \
            or head.school is None:
        return
    submitted = now - timedelta(days=21)
    req = SupportRequest(
        reference=brokering.provisional_reference(), alliance_id=alliance.id,
        requested_by_id=head.id, status="matched", kind="commission", route="direct",
        title="Leadership of teaching and learning across the school",
        standards_mask=standards_to_mask(["TS1", "TS2", "TS4"]), phase=head.school.phase,
        specialism_id=db.session.scalar(select(Specialism.id).where(
            Specialism.code == "leadership")),
        staff_involved="Senior leaders and the Year 5 and 6 teachers.",
        priorities="Consistent expectations in every class; middle leaders who check learning.",
        desired_outcomes="Leaders monitor teaching and act on what they find; pupils in Years 5 "
                         "and 6 make good progress in reading and mathematics.",
        measures_of_success="Monitoring records show follow-up within two weeks; the spring "
                            "data drop shows progress in line with the network's.",
        start_date=today - timedelta(days=14), end_date=today + timedelta(days=90),
        half_days_wanted=8, submitted_at=submitted, matched_at=submitted + timedelta(hours=20),
        created_at=submitted - timedelta(hours=1))
    req.schools = [RequestSchool(school_id=head.school_id, position=0)]
    db.session.add(req)
    db.session.flush()
    req.reference = brokering.new_reference("R", req.id)
    lle_profile = lle.profile
    assert lle_profile is not None
    # The commission itself: Dr Ruth Haldane (LLE), confirmed and signed a fortnight ago.
    root = Deployment(
        reference=brokering.deployment_reference(req), request_id=req.id,
        alliance_id=alliance.id, leader_id=lle.id, home_school_id=lle_profile.home_school_id,
        designation="lle", half_days_agreed=8, proposed_by_id=admin.id,
        proposed_at=req.matched_at, status="agreement",
        confirmed_at=req.matched_at + timedelta(days=1))
    db.session.add(root)
    db.session.flush()
    for party, school_id, who in (("receiving", head.school_id, head),
                                  ("home_school", lle_profile.home_school_id, admin),
                                  ("leader", lle_profile.home_school_id, lle)):
        root.responses.append(DeploymentResponse(
            party=party, school_id=school_id, user_id=who.id, decision="accepted",
            decided_at=root.confirmed_at,
            **({"agreed_by_name": "Fr Michael Byrne", "agreed_by_role": "Headteacher",
                "agreed_via": "email", "agreed_on": root.confirmed_at.date()}
               if party == "home_school" else {})))
    def sign_commission() -> None:
        latest = agreements.current(root.id)
        assert latest is not None
        # the commissioner's home school has no login: the co-ordinator records its signature
        agreements.record_on_behalf(
            latest, admin, party=f"home_school:{root.home_school_id}", version=latest.version,
            seen_hash=latest.content_hash, agreed_by_name="Fr Michael Byrne",
            agreed_by_role="Headteacher", agreed_via="email", agreed_on=today, today=today,
            ip="127.0.0.1", user_agent="demo")
        _sign_all(root, [lle, director, head])

    agreements.draft(root, admin)
    sign_commission()
    assert root.status == "active"
    root.first_contact_at = now
    db.session.flush()
    # Chidi Okafor (SLE): deployed under it, agreed by the school and his home school, signed.
    person = commissions.deploy(root, sle.id, 12, lle)
    for who in (head, home_head, sle):
        brokering.respond(person, who, "accepted")
    _sign_all(person, [sle, home_head, director, head])
    # adding him made version 2 of the commission's agreement: every party signed it again
    sign_commission()
    # then 2 extra days for him were approved: his agreement and the commission's change again
    # (version 3), and the extra days wait until everyone has signed both; he and his parties
    # have signed his
    extra = plans.request_variation(person, sle, 4, "Two more days to coach the Year 6 team "
                                    "after the book look showed less challenge there.")
    plans.approve_variation(extra, head)
    plans.approve_variation(extra, director)
    _sign_all(person, [sle, home_head, director, head])  # his own: signed, the commission's not
    evaluations.add_qa_note(
        person, lle, is_working="Yes: the Year 5 team now plan reasoning into every lesson.",
        changes="Year 6 books show less challenge than Year 5's.",
        next_steps="Joint book look with the maths lead before the next visit.",
        exit_strategy="The maths lead takes over the book looks from February.")
    # Priya Raman (non-SLE working as SLE): proposed, waiting for the school to agree.
    commissions.deploy(root, non_sle.id, 4, lle)
    latest = db.session.scalar(select(Agreement).where(Agreement.deployment_id == root.id)
                               .order_by(Agreement.version.desc()).limit(1))
    # version 2 signed by all (an amendment), version 3 for the extra days being signed
    assert latest is not None and latest.version == 3
    signed = agreements.last_signed(root.id)
    assert signed is not None and signed.version == 2
