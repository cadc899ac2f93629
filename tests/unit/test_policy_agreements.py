"""The agreement policy: every action's decision, and the "waiting for my signature" SQL twin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access
from portal.domain import agreements as service
from portal.domain.errors import Conflict, Forbidden, NotNow
from portal.domain.policy import agreements as policy
from portal.extensions import db
from portal.models import Agreement, Deployment, User
from tests import factories
from tests.factories import agreements as fa
from tests.policy import assert_twins_agree


def _in_agreement(side, schools=None):
    """Another deployment of ``side``'s leader, every party confirmed: a drafted agreement."""
    r = factories.support_request(side.alliance, side.users["headteacher"],
                                  schools or [side.receiving], status="matching",
                                  title=f"{side.alliance.name} extra")
    d = factories.deployment(r, side.leader)
    factories.advance(d, "agreement")
    return service.current(d.id)


@pytest.fixture
def agreement_world(db):
    """Agreements at every state in two alliances: a fresh draft (ready_world's), one signed by
    the leader, one declined by the receiving head, a version 2 after a change of terms (version
    1 superseded, its signatures voided), a void one, a fully signed one amended (version 2 out
    for signature while the deployment is active), and one for two
    receiving schools signed by one of them; and an inactive signatory."""
    w = fa.ready_world()
    for s in (w.a, w.b):
        second = factories.school(s.alliance, f"{s.alliance.name} Second Primary")
        s.users["second_head"] = factories.user(s.alliance, "headteacher", second,
                                                name=f"{s.alliance.name} Second Head")
        gone = factories.user(s.alliance, "headteacher", s.receiving,
                              name=f"{s.alliance.name} Former Head")
        gone.active = False
        fa.sign(_in_agreement(s), s.leader)
        declined = _in_agreement(s)
        service.decline(declined, s.users["headteacher"], version=1,
                        seen_hash=declined.content_hash, reason="Dates clash")
        changed = _in_agreement(s)
        fa.sign(changed, s.users["home_school"])
        service.edit(changed, s.users["admin"], {"terms": "Changed."},
                     seen_hash=changed.content_hash)
        voided = _in_agreement(s)
        fa.sign(voided, s.users["director"])
        service.void(voided, s.users["admin"], "School closed")
        done = _in_agreement(s)
        for user in fa.signers(w, "a" if s is w.a else "b"):
            fa.sign(done, user)
        # an amendment of an active deployment (its signed version 1 superseded), out for
        # signature and signed by the director so far
        done = service.current(done.deployment_id)
        amended = service.edit(done, s.users["admin"], {"terms": "Amended."},
                               seen_hash=done.content_hash)
        fa.sign(amended, s.users["director"])
        fa.sign(_in_agreement(s, [s.receiving, second]), s.users["second_head"])
    factories.commit()
    return w


def test_sql_twin_agrees_with_the_python_predicate(agreement_world):
    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, Agreement, visible=access.agreements_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 80
    # and the world has agreements both waiting and not, for someone
    waiting = {a.id for u in users for a in db.session.scalars(select(Agreement).where(
        access.agreements_visible_to(u), policy.waiting_sign(u)))}
    everything = set(db.session.scalars(select(Agreement.id)))
    assert waiting and waiting != everything


def test_the_old_inbox_query_listed_agreements_to_an_inactive_signatory(agreement_world):
    """``access.agreements_awaiting`` (now gone) never asked whether the user was active, while
    ``holds`` (who may sign) does; the twin test catches the difference."""
    from sqlalchemy import and_, exists, false

    from portal.models import Signature

    def old(user):
        party = policy._party(user)
        if party is None:
            return false()
        return and_(
            exists().where(Deployment.id == Agreement.deployment_id,
                           Deployment.status == "agreement"),
            Agreement.status.in_(("draft", "signing")),
            ~exists().where(Signature.agreement_id == Agreement.id, Signature.party == party,
                            Signature.voided_at.is_(None)))

    users = db.session.scalars(select(User).where(User.active.is_(False))).all()
    assert users
    with pytest.raises(AssertionError, match="sign"):
        assert_twins_agree(users, Agreement, visible=access.agreements_visible_to,
                           python=policy.waiting, sql={"sign": old})


def test_actions_answer_every_action_with_a_reason(agreement_world):
    w = agreement_world
    agreements = db.session.scalars(select(Agreement).join(Deployment).where(
        Deployment.alliance_id == w.a.alliance.id)).all()
    assert len(agreements) >= 8
    for agreement in agreements:
        for user in w.a.users.values():
            can = policy.actions(agreement, user)
            assert set(can) == set(policy.ACTIONS)
            for name, decision in can.items():
                assert decision.allowed or decision.reason, (name, user.role, agreement.status)


def test_forbidden_for_the_wrong_part_not_now_for_the_wrong_moment(agreement_world):
    w = agreement_world
    fresh = service.current(w.a.deployment.id)
    assert fresh.status == "draft"
    admin, head, other = w.user("a", "admin"), w.user("a", "headteacher"), \
        w.user("a", "other_head")
    assert policy.actions(fresh, admin)["edit"].allowed
    assert policy.actions(fresh, admin)["void"].allowed
    assert policy.actions(fresh, admin)["sign"].forbidden  # no signatory slot
    assert policy.actions(fresh, head)["sign"].allowed
    assert policy.actions(fresh, head)["decline"].allowed
    assert policy.actions(fresh, head)["edit"].forbidden
    assert policy.actions(fresh, other)["sign"].forbidden  # not a receiving school
    fa.sign(fresh, head)
    again = policy.actions(fresh, head)["sign"]
    assert not again and not again.forbidden and "already signed" in again.reason
    service.void(fresh, admin, "Changed plans")
    for user, name in ((admin, "edit"), (admin, "void"), (w.user("a", "sle"), "sign")):
        closed = policy.actions(fresh, user)[name]
        assert not closed and not closed.forbidden, name


def test_domain_commands_require_the_policy(agreement_world):
    w = agreement_world
    ag = service.current(w.a.deployment.id)
    head, admin, sle = w.user("a", "headteacher"), w.user("a", "admin"), w.user("a", "sle")
    # the wrong part: 403, with the policy's reason, and nothing done
    with pytest.raises(Forbidden) as refused:
        service.edit(ag, head, {"terms": "Mine now."}, seen_hash=ag.content_hash)
    assert refused.value.status == 403
    assert str(refused.value) == policy.actions(ag, head)["edit"].reason
    assert service.current(w.a.deployment.id).content["terms"] != "Mine now."
    with pytest.raises(Forbidden) as refused:
        service.void(ag, sle, "I am off")
    assert refused.value.status == 403 and ag.status == "draft"
    with pytest.raises(Forbidden) as refused:
        service.sign(ag, admin, version=ag.version, seen_hash=ag.content_hash,
                     typed_name=admin.name)
    assert refused.value.status == 403
    # the right part at the wrong moment: 409, with the policy's reason
    fa.sign(ag, sle)
    with pytest.raises(NotNow) as later:
        fa.sign(ag, sle)
    assert later.value.status == 409 and isinstance(later.value, NotNow)
    assert str(later.value) == policy.actions(ag, sle)["sign"].reason
    service.void(ag, admin, "Changed plans")
    for attempt in (lambda: service.void(ag, admin, "again"),
                    lambda: service.edit(ag, admin, {"terms": "x"}, seen_hash=ag.content_hash),
                    lambda: fa.sign(ag, head),
                    lambda: service.decline(ag, head, version=ag.version,
                                            seen_hash=ag.content_hash, reason="No")):
        with pytest.raises(NotNow) as later:
            attempt()
        assert later.value.status == 409
        assert not isinstance(later.value, Conflict)  # closed, not a lost race


def test_the_home_panel_lists_what_the_policy_says(agreement_world, client_for):
    w = agreement_world
    head = w.user("a", "headteacher")
    expected = [a for a in db.session.scalars(select(Agreement).order_by(Agreement.id))
                if policy.waiting(a, head)["sign"]]
    assert expected
    page = client_for(head).get("/").get_data(as_text=True)
    for agreement in expected:
        ref = db.session.get(Deployment, agreement.deployment_id).reference
        assert ref in page.split("Agreements waiting for your signature", 1)[1]


def test_a_closed_agreement_shows_why_it_cannot_be_edited(agreement_world, client_for):
    w = agreement_world
    ag = service.current(w.a.deployment.id)
    service.void(ag, w.user("a", "admin"), "Changed plans")
    factories.commit()
    client = client_for(w.user("a", "director"))
    page = client.get(f"/deployments/{w.a.deployment.id}/agreement").get_data(as_text=True)
    reason = policy.actions(ag, w.user("a", "director"))["edit"].reason
    assert 'aria-disabled="true">Edit the terms' in page and reason in page
    response = client.get(f"/deployments/{w.a.deployment.id}/agreement/edit")
    assert response.status_code == 409 and reason in response.get_data(as_text=True)
    head = client_for(w.user("a", "headteacher"))
    assert head.get(f"/deployments/{w.a.deployment.id}/agreement/edit").status_code == 403


def test_save_terms_requires_the_policy_and_the_text_seen(agreement_world):
    """The alliance's terms: only its own co-ordinator or director (403 otherwise, also from
    the command called directly), against the text they saw (409 if it moved on)."""
    from portal.models import Alliance

    w = agreement_world
    alliance = db.session.get(Alliance, w.a.alliance.id)
    seen = service.terms_hash(alliance.agreement_terms)
    for who in (w.a.users["sle"], w.a.users["headteacher"], w.b.users["admin"]):
        with pytest.raises(Forbidden):
            service.save_terms(alliance, who, "Mine now.", seen_hash=seen)
    assert alliance.agreement_terms != "Mine now."
    with pytest.raises(Conflict):
        service.save_terms(alliance, w.a.users["admin"], "Stale.", seen_hash="0" * 64)
    assert service.save_terms(alliance, w.a.users["director"], "New terms.\r\n", seen_hash=seen)
    assert alliance.agreement_terms == "New terms."
    assert not service.save_terms(alliance, w.a.users["admin"], "New terms.",
                                  seen_hash=service.terms_hash("New terms."))
