"""NLE/LLE commissions (Sefton B-F): who leads them, deploying colleagues under them, the
commission's agreement as people come and go, QA by the commissioner, and one set of invoices at
the end holding the worked example to the penny."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access, agreements, brokering, commissions, errors, evaluations, finance
from portal.domain.policy import commissions as policy
from portal.domain.policy import evaluations as eval_policy
from portal.extensions import db
from portal.models import AuditEvent, Deployment, Invoice, User
from tests.factories import advance, commit, leader
from tests.factories import commissions as fc
from tests.factories.agreements import sign_all


@pytest.fixture()
def cw(db):
    return fc.commission_world()


def _invoices(d: Deployment) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id)
                                   .order_by(Invoice.sequence)))


# ------------------------------------------------------------------ matching the commissioner


def test_a_commission_is_matched_only_to_an_nle_or_lle(db):
    w = fc.commission_world(status="proposed")
    req = w.commission.request
    ranked = brokering.ranking(req)
    assert {m.candidate.designation for m in ranked.matches} <= {"nle", "lle"}
    assert w.commissioner.id in {m.candidate.leader_id for m in ranked.matches}
    sle = next(e for e in ranked.exclusions if e.candidate.leader_id == w.colleague.id)
    assert "led by an NLE, an LLE or the Teaching School headteacher" in sle.reason
    req.kind = "sle_deployment"
    assert w.colleague.id in {m.candidate.leader_id for m in brokering.ranking(req).matches}


# ------------------------------------------------------------------------ deploying a colleague


def test_the_commissioner_deploys_a_colleague_at_their_own_rate(cw):
    before = agreements.current(cw.commission.id)
    assert before.status == "signed"
    person = fc.deploy(cw)
    assert person.commission_id == cw.commission.id
    assert person.commissioning_leader_id == cw.commissioner.id
    assert (person.designation, person.half_days_agreed, person.status) == ("sle", 12, "proposed")
    assert person.request_id == cw.commission.request_id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "commission.deployed"))
    assert event is not None and event.actor_id == cw.commissioner.id
    # the commission's agreement names and prices them: a new version for every party to sign
    after = agreements.current(cw.commission.id)
    assert after.version == before.version + 1 and after.content_hash != before.content_hash
    assert agreements.last_signed(cw.commission.id).id == before.id
    names = [p["name"] for p in after.content["commission"]["people"]]
    assert names == [cw.commissioner.name, cw.colleague.name]
    charges = after.content["charges"]
    assert (charges["commission_cost"], charges["brokerage_fee"], charges["school_pays"]) == \
        (390_000, 39_000, 429_000)
    assert any(c.term == "People" for c in agreements.changes_between(before, after))
    # every commission plan carries its exit arrangements and terms (Sefton G)
    assert after.content["exit_arrangements"] == agreements.COMMISSION_EXIT
    assert "point of contact" in after.content["exit_arrangements"]
    assert after.content["terms"]
    sign_all(cw.commission)
    assert agreements.current(cw.commission.id).status == "signed"


def test_the_person_then_agrees_and_signs_like_any_deployment(cw):
    person = fc.deploy(cw)
    advance(person, "active")
    commit()
    assert person.status == "active"
    answered = {r.party for r in person.responses}
    assert answered == {"receiving", "home_school", "leader"}  # the supported school agreed (C)
    charges = agreements.current(person.id).content["charges"]
    assert charges["commission_cost"] == 210_000 and charges["brokerage_fee"] == 0
    assert charges["in_commission"] == cw.commission.reference
    content = agreements.current(person.id).content
    assert content["commission"]["commissioner"]["name"] == cw.commissioner.name
    assert "people" not in content["commission"]  # the commission's own agreement names them
    assert content["exit_arrangements"] == agreements.COMMISSION_EXIT


def test_the_commissioner_sees_everyone_on_the_commission(cw):
    person = fc.deploy(cw)
    assert access.get_deployment(cw.commissioner, person.id) == person
    listed = commissions.members(cw.commission, cw.commissioner)
    assert [m.deployment for m in listed] == [cw.commission, person]
    assert listed[0].is_commissioner and not listed[1].is_commissioner
    # the colleague sees their own part, not the commissioner's deployment
    assert [m.deployment for m in commissions.members(cw.commission, cw.colleague)] == [person]
    # another leader of the alliance sees neither
    other = leader(cw.w.a.alliance, cw.w.a.other, name="Someone Else")
    with pytest.raises(errors.NotVisible):
        access.get_deployment(other, person.id)


@pytest.mark.parametrize("role", ["headteacher", "home_school", "board", "other_head"])
def test_only_the_commissioner_or_overseers_deploy(cw, role):
    actor = cw.w.user("a", role)
    assert policy.deploy(cw.commission, actor).forbidden
    with pytest.raises(errors.Forbidden):
        commissions.deploy(cw.commission, cw.colleague.id, 4, actor)


def test_a_colleague_under_the_commission_cannot_deploy_others(cw):
    fc.deploy(cw)
    assert policy.deploy(cw.commission, cw.colleague).forbidden


def test_another_alliance_cannot_deploy(cw):
    assert policy.deploy(cw.commission, cw.w.user("b", "director")).forbidden
    assert policy.deploy(cw.commission, cw.w.user("a", "director")).allowed


def test_not_before_the_commission_is_confirmed(db):
    w = fc.commission_world(status="proposed")
    decision = policy.deploy(w.commission, w.commissioner)
    assert not decision.allowed and not decision.forbidden


def test_not_on_an_ordinary_deployment(cw):
    d = cw.w.b.deployment
    assert not policy.deploy(d, cw.w.user("b", "sle")).allowed


def test_only_a_ranked_colleague(cw):
    with pytest.raises(brokering.NotProposable):
        commissions.deploy(cw.commission, cw.commissioner.id, 4, cw.commissioner)
    fc.deploy(cw)
    with pytest.raises(brokering.NotProposable):  # already on it
        commissions.deploy(cw.commission, cw.colleague.id, 4, cw.commissioner)
    with pytest.raises(brokering.NotProposable):  # another alliance's leader
        commissions.deploy(cw.commission, cw.w.b.leader.id, 4, cw.commissioner)


@pytest.mark.parametrize("half_days", [0, -2, 201, True, "4"])
def test_the_days_must_make_sense(cw, half_days):
    with pytest.raises(errors.Invalid) as caught:
        commissions.deploy(cw.commission, cw.colleague.id, half_days, cw.commissioner)
    assert caught.value.field == "days"
    assert db.session.scalar(select(Deployment).where(Deployment.commission_id.is_not(None))) \
        is None


# ------------------------------------------------------------------------- taking someone off


def test_taking_someone_off_changes_the_agreement_again(cw):
    person = fc.deploy(cw)
    sign_all(cw.commission)
    signed = agreements.current(cw.commission.id)
    commissions.remove(person, cw.commissioner, reason="Needed at their own school")
    commit()
    assert person.status == "cancelled"
    latest = agreements.current(cw.commission.id)
    assert latest.version == signed.version + 1
    assert [p["name"] for p in latest.content["commission"]["people"]] == [cw.commissioner.name]
    assert latest.content["charges"]["school_pays"] == 198_000  # the LLE's £1,800 + £180


def test_taking_off_needs_a_reason_and_is_the_commissioners(cw):
    person = fc.deploy(cw)
    with pytest.raises(errors.Invalid):
        commissions.remove(person, cw.commissioner, reason=" ")
    with pytest.raises(errors.Forbidden):
        commissions.remove(person, cw.colleague, reason="No")
    assert policy.remove(cw.commission, cw.commissioner).allowed is False


def test_someone_working_ends_early_instead(cw):
    person = fc.deploy(cw)
    advance(person, "active")
    decision = policy.remove(person, cw.commissioner)
    assert not decision.allowed and not decision.forbidden


def test_a_decline_leaves_the_commission_matched(cw):
    person = fc.deploy(cw)
    head = cw.w.user("a", "headteacher")
    brokering.respond(person, head, "declined", "We'd rather keep to the LLE")
    commit()
    assert person.status == "declined"
    assert cw.commission.request.status == "matched"
    people = agreements.current(cw.commission.id).content["commission"]["people"]
    names = [p["name"] for p in people]
    assert names == [cw.commissioner.name]


# ---------------------------------------------------------------------------------- QA (D)


def test_the_commissioner_does_qa_during_and_at_the_end(cw):
    person = fc.deploy(cw)
    advance(person, "active", delivered=2)
    note = evaluations.add_qa_note(person, cw.commissioner, is_working="Good start",
                                   changes="", next_steps="Observe again", exit_strategy="")
    assert note.kind == "qa_mid" and note.author_id == cw.commissioner.id
    assert not eval_policy.qa_note(person, cw.colleague, eval_policy.NO_FACTS).allowed
    assert not eval_policy.qa_note(person, cw.w.user("b", "sle"), eval_policy.NO_FACTS).allowed
    assert eval_policy.qa_note(cw.commission, cw.commissioner, eval_policy.NO_FACTS).allowed


def test_the_commission_closes_only_after_everyone_on_it(cw):
    person = fc.deploy(cw)
    advance(person, "active", delivered=12)
    advance(cw.commission, "evaluation", delivered=8)
    evaluations.forward(cw.commission, cw.w.user("a", "admin"))
    evaluations.sign_off_school(cw.commission, cw.w.user("a", "headteacher"), ratings={},
                                support_quality=4, value_for_money=4, would_use_again=True,
                                summary="The commission as a whole worked.",
                                people={person.id: evaluations.Rating(4, "Strong")})
    director = cw.w.user("a", "director")
    decision = eval_policy.sign_off(cw.commission, director, eval_policy.facts(cw.commission))
    assert not decision.allowed and "Everyone deployed" in decision.reason
    advance(person, "completed")
    assert eval_policy.sign_off(cw.commission, director,
                                eval_policy.facts(cw.commission)).allowed


def test_the_commissioner_signs_off_each_person(cw):
    person = fc.deploy(cw)
    advance(person, "evaluation", delivered=12)
    evaluations.forward(person, cw.w.user("a", "admin"))
    evaluations.sign_off_school(person, cw.w.user("a", "headteacher"), ratings={},
                                support_quality=4, value_for_money=4, would_use_again=True,
                                summary="Good.")
    f = eval_policy.facts(person)
    assert eval_policy.sign_off(person, cw.commissioner, f).allowed
    assert eval_policy.sign_off(person, cw.colleague, f).forbidden
    evaluations.final_sign_off(person, cw.commissioner, notes="End-of-work QA: targets met.")
    assert person.status == "completed"
    assert _invoices(person) == []  # invoiced with the commission, at its end


def test_waiting_sign_off_twins_agree(cw):
    from tests.policy import assert_twins_agree

    person = fc.deploy(cw)
    advance(person, "evaluation", delivered=12)
    evaluations.forward(person, cw.w.user("a", "admin"))
    evaluations.sign_off_school(person, cw.w.user("a", "headteacher"), ratings={},
                                support_quality=4, value_for_money=4, would_use_again=True,
                                summary="Good.")
    advance(cw.commission, "evaluation", delivered=8)
    evaluations.forward(cw.commission, cw.w.user("a", "admin"))
    evaluations.sign_off_school(cw.commission, cw.w.user("a", "headteacher"), ratings={},
                                support_quality=4, value_for_money=4, would_use_again=True,
                                summary="Good.", people={person.id: evaluations.Rating(3)})
    commit()
    users = db.session.scalars(select(User).order_by(User.id)).all()
    assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                       python=eval_policy.waiting, sql=eval_policy.WAITING_SQL)
    assert eval_policy.waiting(person, cw.commissioner)["sign_off"]
    assert not eval_policy.waiting(cw.commission, cw.w.user("a", "director"))["sign_off"]


# ----------------------------------------------------------------------------- charging (F)


def _finish(cw, person: Deployment, delivered: int) -> None:
    if delivered < person.half_days_agreed:
        advance(person, "ended_early", delivered=delivered, reason="The SLE moved school")
    else:
        advance(person, "completed", delivered=delivered)
    advance(cw.commission, "completed", delivered=8)
    commit()


def _school_invoice(cw) -> Invoice:
    return next(i for i in _invoices(cw.commission) if i.payer == "school")


def test_worked_example_invoiced_at_the_end(cw):
    person = fc.deploy(cw)
    advance(person, "active", delivered=6)
    assert _invoices(cw.commission) == [] and _invoices(person) == []
    _finish(cw, person, 12)
    inv = _school_invoice(cw)
    assert inv.total_pence == 429_000
    assert [line.amount_pence for line in inv.lines] == [180_000, 210_000, 39_000]
    assert "cost of the whole commission" in inv.lines[2].description
    cover = {i.payee_school_id: i.total_pence for i in _invoices(cw.commission)
             if i.payer == "teaching_school"}
    assert cover == {cw.commission.home_school_id: 180_000, person.home_school_id: 210_000}
    assert _invoices(person) == []
    # the early-end settlement is raised once: closing again changes nothing
    assert finance.settle_commission(cw.commission, None) == []


def test_worked_example_the_sle_stops_after_two_days(cw):
    person = fc.deploy(cw)
    _finish(cw, person, 4)
    inv = _school_invoice(cw)
    assert [line.amount_pence for line in inv.lines] == [180_000, 70_000, 25_000]
    assert inv.total_pence == 275_000
    assert "Alpha Colleague 2 days of 6 days" in inv.note


def test_a_commission_ending_early_ends_everyone_on_it(cw):
    person = fc.deploy(cw)
    advance(person, "active", delivered=4)
    second = fc.deploy(cw, 4, leader(cw.w.a.alliance, cw.w.a.home, name="Second SLE",
                                        standards=("TS2",)))
    advance(cw.commission, "ended_early", delivered=8, reason="The school joined a trust")
    commit()
    assert person.status == "ended_early" and second.status == "cancelled"
    assert _school_invoice(cw).total_pence == 275_000


def test_no_invoices_in_advance_on_a_commission(cw):
    from portal.domain.policy import finance as finance_policy

    person = fc.deploy(cw)
    admin = cw.w.user("a", "admin")
    for d in (cw.commission, person):
        decision = finance_policy.raise_in_advance(d, admin, invoiced=False)
        assert not decision.allowed and "at its end" in decision.reason
