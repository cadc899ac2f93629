"""A Teaching School headteacher (the alliance's director) can be the commissioner (Sefton B: "a
commissioned NLE, LLE or Teaching School headteacher"): with a leader profile they are ranked
for a commission (never for ordinary support), accept it, sign as its leader and as director,
keep its plan, deploy colleagues and do its QA (``policy.acts_as_leader`` and
``policy/commissions.py`` ``may_lead``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access, agreements, brokering, commissions, plans
from portal.domain.policy import acts_as_leader, leads_or_commissions
from portal.domain.policy import agreements as agreement_policy
from portal.domain.policy import commissions as policy
from portal.domain.policy import evaluations as eval_policy
from portal.domain.policy import plans as plan_policy
from portal.extensions import db
from portal.models import Agreement, LeaderProfile, User
from tests.factories import advance, commit
from tests.factories import commissions as fc
from tests.factories.agreements import sign
from tests.factories.alliances import school
from tests.factories.people import user
from tests.policy import assert_twins_agree


def _teaching_school_head(w, designation: str = "sle") -> User:
    """Side a's director, with a leader profile at the Teaching School."""
    a = w.w.a
    director = w.w.user("a", "director")
    home = school(a.alliance, "Alpha Teaching School")
    user(a.alliance, "home_school", home, name="Alpha Teaching School Business Manager")
    db.session.add(LeaderProfile(user_id=director.id, alliance_id=a.alliance.id,
                                 home_school_id=home.id, designation=designation,
                                 phases="primary", standards_mask=1, capacity_days=10))
    db.session.flush()
    return director


@pytest.fixture()
def dw(db):
    """Side a's commission request led by its director (an SLE by profile), signed and active."""
    w = fc.commission_world(status="proposed")
    director = _teaching_school_head(w)
    d = w.commission
    d.leader_id, d.home_school_id = director.id, director.profile.home_school_id
    d.designation = "sle"
    advance(d, "active")
    commit()
    w.director = director  # type: ignore[attr-defined]
    return w


def test_the_rule_is_in_one_place():
    assert policy.may_lead("nle", "sle") and policy.may_lead("lle", "sle")
    assert policy.may_lead("sle", "director")  # the Teaching School headteacher
    assert not policy.may_lead("sle", "sle") and not policy.may_lead("non_sle", "sle")
    assert not policy.may_be_deployed("director", commission=False)
    assert policy.may_be_deployed("sle", commission=False)


def test_the_director_is_ranked_for_a_commission_only(db):
    w = fc.commission_world(status="proposed")
    director = _teaching_school_head(w)
    req = w.commission.request
    assert director.id in {m.candidate.leader_id for m in brokering.ranking(req).matches}
    req.kind = "sle_deployment"
    ranked = brokering.ranking(req)
    assert director.id not in {m.candidate.leader_id for m in ranked.matches}
    assert any(e.candidate.leader_id == director.id and "commissions only" in e.reason
               for e in ranked.exclusions)


def test_the_director_leads_signs_and_is_commissioner(dw):
    d, director = dw.commission, dw.director
    assert d.status == "active"
    signed = agreements.current(d.id)
    assert {s.party for s in signed.signatures if s.user_id == director.id} == \
        {"leader", "director"}
    assert acts_as_leader(d, director) and leads_or_commissions(d, director)
    assert policy.is_commissioner(d, director)
    assert policy.deploy(d, director).allowed
    assert plan_policy.edit_plan(d, director).allowed
    assert eval_policy.evaluate(d, director, eval_policy.facts(d)).allowed
    assert eval_policy.qa_note(d, director, eval_policy.NO_FACTS).allowed
    # another alliance's director is none of these
    other = dw.w.user("b", "director")
    assert not acts_as_leader(d, other) and not plan_policy.edit_plan(d, other).allowed


def test_the_director_deploys_a_colleague_and_keeps_their_plan(dw):
    d, director = dw.commission, dw.director
    ranked = commissions.ranking(d, 12)
    assert director.id not in {m.candidate.leader_id for m in ranked.matches}
    person = commissions.deploy(d, dw.colleague.id, 12, director)
    commit()
    assert person.commissioning_leader_id == director.id
    advance(person, "active")
    assert leads_or_commissions(person, director)
    assert plan_policy.edit_plan(person, director).allowed
    assert eval_policy.qa_note(person, director, eval_policy.NO_FACTS).allowed
    plans.log_first_contact(person, director)
    assert person.first_contact_at is not None


def test_a_director_leading_waits_to_sign_in_both_places(db):
    w = fc.commission_world(status="proposed")
    director = _teaching_school_head(w)
    d = w.commission
    d.leader_id, d.home_school_id = director.id, director.profile.home_school_id
    advance(d, "agreement")
    commit()
    users = db.session.scalars(select(User).order_by(User.id)).all()
    agreement = agreements.current(d.id)

    def agree() -> None:
        assert_twins_agree(users, Agreement, visible=access.agreements_visible_to,
                           python=agreement_policy.waiting, sql=agreement_policy.WAITING_SQL)

    agree()
    assert agreement_policy.waiting(agreement, director)["sign"]
    sign(agreement, director)  # as the leader first
    commit()
    assert agreement_policy.waiting(agreement, director)["sign"]  # and then as director
    agree()
    sign(agreement, director)
    commit()
    assert not agreement_policy.waiting(agreement, director)["sign"]
    agree()
    assert {s.party for s in agreement.signatures if s.user_id == director.id} == \
        {"leader", "director"}


def test_a_director_without_a_leader_profile_is_never_matched(db):
    """Sefton B needs the Teaching School headteacher *with* a leader profile: without one the
    director is not a candidate at all, and proposing them is refused."""
    w = fc.commission_world(status="proposed")
    director = w.w.user("a", "director")
    assert director.profile is None
    req = w.commission.request
    ranked = brokering.ranking(req)
    assert director.id not in {m.candidate.leader_id for m in ranked.matches}
    assert director.id not in {e.candidate.leader_id for e in ranked.exclusions}
    req.status = "matching"
    with pytest.raises(brokering.NotProposable):
        brokering.propose(req, director.id, w.w.user("a", "admin"))
