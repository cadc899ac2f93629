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


TEACHING_SCHOOL_HEAD_NETWORK = "CAPITAL TSA"  # not Holy Rosary's: its demo picks stay as they are
SUPPORTED = "Waterloo Park Primary School"  # a school of CAPITAL TSA with no login


def teaching_school_head_commission(today: date, now: datetime) -> None:
    """In CAPITAL TSA, the Teaching School headteacher (Helen Marsh, the director) is given a
    leader profile by the co-ordinator, charged as an NLE (Sefton B), and matched to lead an
    NLE/LLE commission for Waterloo Park Primary School (which has no login: the co-ordinator
    filed the request and records its answers). Everyone has agreed, the agreement is drafted
    for signing and she has proposed one colleague under it. Runs after every other demo step,
    so no other step's pick (the first profile of an alliance ...) changes."""
    from ..domain import admin as admin_commands
    from ..domain import profiles
    from ..models import School

    alliance = _one(select(Alliance).where(Alliance.short_name == TEACHING_SCHOOL_HEAD_NETWORK))
    if alliance is None:
        return
    admin, director = _user(alliance, "admin"), _user(alliance, "director")
    school = _one(select(School).where(School.alliance_id == alliance.id,
                                       School.name == SUPPORTED))
    if not (admin and director and school and director.school_id):
        return
    # the co-ordinator gives her a leader profile at her Teaching School (the account page)
    admin_commands.update_user(admin, director, name=director.name, role="director",
                               school_id=director.school_id, job_title=director.job_title,
                               leader_profile="nle", ip="127.0.0.1")
    db.session.flush()
    db.session.refresh(director)
    profile = director.profile
    assert profile is not None
    leadership = _one(select(Specialism).where(Specialism.code == "leadership"))
    # and she fills it in herself (the directory's "My profile")
    profiles.save_profile(
        director, profile, phases=["primary"], standards=["TS1", "TS4", "TS8"],
        specialisms=[leadership] if leadership else [],
        bio=f"{director.name} leads the Teaching School and takes on NLE/LLE commissions for "
            "primary schools, drawing on the alliance's SLEs for subject work.",
        autumn_days=4, spring_days=4, summer_days=3, accepting=True, ip="127.0.0.1")
    submitted = now - timedelta(days=6)
    req = SupportRequest(
        reference=brokering.provisional_reference(), alliance_id=alliance.id,
        requested_by_id=admin.id, status="matching", kind="commission", route="direct",
        title="Leadership capacity after a change of headteacher",
        standards_mask=standards_to_mask(["TS1", "TS4", "TS8"]), phase=school.phase,
        specialism_id=leadership.id if leadership else None,
        staff_involved="The acting headteacher, the deputy and the three phase leaders.",
        priorities="A shared improvement plan the governors own; phase leaders who lead.",
        desired_outcomes="The senior team monitors teaching and acts on it; the governors hold "
                         "them to account against the plan.",
        measures_of_success="Termly monitoring reports to governors; the summer review finds "
                            "the plan on track.",
        start_date=today + timedelta(days=7), end_date=today + timedelta(days=120),
        half_days_wanted=8, submitted_at=submitted, created_at=submitted - timedelta(hours=1))
    req.schools = [RequestSchool(school_id=school.id, position=0)]
    db.session.add(req)
    db.session.flush()
    req.reference = brokering.new_reference("R", req.id)
    # matched to her: she is ranked for a commission (never for ordinary support)
    root = brokering.propose(req, director.id, admin, ip="127.0.0.1")
    for party, school_id, name in (("receiving", school.id, "Mrs Alison Kerr"),
                                   ("home_school", root.home_school_id, "Mr David Loy")):
        brokering.respond_on_behalf(
            root, admin, party=party, school_id=school_id, decision="accepted",
            agreed_by_name=name, agreed_by_role="Headteacher" if party == "receiving"
            else "Chair of governors", agreed_via="email", agreed_on=today, today=today,
            ip="127.0.0.1")
    brokering.respond(root, director, "accepted", ip="127.0.0.1")
    assert root.status == "agreement"
    agreements.draft(root, admin)
    # she proposes one colleague under it (the ranked list, scoped to her partnership)
    ranked = [m.candidate for m in commissions.ranking(root, 4).matches
              if m.candidate.leader_id != director.id]
    colleague = next((c for c in ranked if c.designation == "sle"), ranked[0]).leader_id
    commissions.deploy(root, colleague, 4, director, ip="127.0.0.1")
