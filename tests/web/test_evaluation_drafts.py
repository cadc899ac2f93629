"""Issue 16, item 4: a leader's final evaluation, a school's evaluation and a QA note saved as a
draft and finished later. A draft is private to its author, audited, never counted as submitted,
and sending the form still validates it in full; "Save as draft" is a plain submit button."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.dashboard import actions
from portal.extensions import db
from portal.models import AuditEvent, Evaluation, EvaluationDraft, Notification
from tests.factories import evaluations as fc

from .test_evaluations import client_for, d_of, forward, leader_data, school_data, submit, url

__all__ = ["client_for"]  # the fixture, re-used


@pytest.fixture
def cw(db):
    return fc.evaluations_world()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _drafts_audited() -> int:
    return _count(AuditEvent, AuditEvent.action == "evaluation.draft_saved")


def test_the_leader_saves_a_draft_and_finishes_it_later(cw, client_for):
    leader = client_for(cw.user("a", "sle"))
    half = {"version": str(d_of(cw).version), "summary": "Early gains in reasoning so far",
            "save_draft": "1"}  # most required answers still missing
    told = _count(Notification)
    r = leader.post(url(cw, path="/evaluation"), half)
    assert r.status_code == 303 and r.headers["Location"].endswith("/evaluation")
    d = d_of(cw)
    assert d.status == "active"  # nothing submitted: the deployment has not moved on
    assert _count(Evaluation, Evaluation.deployment_id == d.id,
                  Evaluation.kind == "leader") == 0
    assert _drafts_audited() == 1 and _count(Notification) == told  # nobody is told
    page = leader.get(url(cw, path="/evaluation")).get_data(as_text=True)
    assert "Early gains in reasoning so far" in page and "Only you can see it" in page
    assert 'name="save_draft"' in page
    # still waiting to be written, for the leader's "Needs your action"
    with leader.http.application.test_request_context("/"):
        kinds = {i.kind for i in actions.for_user(cw.user("a", "sle")).items}
    assert "write" in kinds
    # sending it still validates in full
    bad = leader.post(url(cw, path="/evaluation"), {"version": str(d.version),
                                                     "summary": "Only this"})
    assert bad.status_code == 422
    assert d_of(cw).status == "active"
    submit(cw, client_for)
    d = d_of(cw)
    assert d.status == "evaluation"
    assert _count(EvaluationDraft) == 0  # done with


def test_nobody_else_sees_a_draft(cw, client_for):
    leader = client_for(cw.user("a", "sle"))
    leader.post(url(cw, path="/evaluation"), {"version": str(d_of(cw).version),
                                              "summary": "Private musings", "save_draft": "1"})
    for role in ("admin", "director", "headteacher"):
        shown = client_for(cw.user("a", role)).get(
            f"/deployments/{cw.a.deployment.id}").get_data(as_text=True)
        assert "Private musings" not in shown, role
    # another system leader of the alliance may not save one on a deployment not theirs
    before = _count(EvaluationDraft)
    stranger = client_for(cw.user("b", "sle"))
    assert stranger.post(url(cw, path="/evaluation"), {"summary": "x", "save_draft": "1"}
                         ).status_code == 404
    assert _count(EvaluationDraft) == before


def test_a_school_saves_its_evaluation_as_a_draft(cw, client_for):
    submit(cw, client_for)
    forward(cw, client_for)
    head = client_for(cw.user("a", "headteacher"))
    r = head.post(url(cw, path="/school"), school_data(cw, support_quality="",
                                                       summary="Half written",
                                                       save_draft="1"))
    assert r.status_code == 303
    own = db.session.scalar(select(Evaluation).where(
        Evaluation.deployment_id == cw.a.deployment.id, Evaluation.kind == "school"))
    assert own.status == "forwarded" and own.summary == ""  # not signed off, nothing in it
    page = head.get(url(cw, path="/school")).get_data(as_text=True)
    assert "Half written" in page
    assert head.post(url(cw, path="/school"), school_data(cw, support_quality="")
                     ).status_code == 422
    assert head.post(url(cw, path="/school"), school_data(cw)).status_code == 303
    db.session.expire_all()
    assert db.session.get(Evaluation, own.id).status == "signed_off"
    assert _count(EvaluationDraft) == 0
    # the head of a school not receiving the support cannot keep one here
    other = client_for(cw.user("a", "other_head"))
    assert other.post(url(cw, path="/school"), {"summary": "x", "save_draft": "1"}
                      ).status_code in (403, 404)
    assert _count(EvaluationDraft) == 0


def test_the_director_saves_a_qa_note_as_a_draft(cw, client_for):
    director = client_for(cw.user("a", "director"))
    d = cw.a.deployment
    r = director.post(url(cw, path="/qa"), {"version": str(d_of(cw).version),
                                            "changes": "Thinking about it", "save_draft": "1"})
    assert r.status_code == 303
    assert _count(Evaluation, Evaluation.deployment_id == d.id,
                  Evaluation.kind == "qa_mid") == 0
    assert "Thinking about it" in director.get(url(cw, path="/qa")).get_data(as_text=True)
    # the draft is the author's own: another director of the alliance does not get it
    from tests import factories

    colleague = factories.user(cw.a.alliance, "director", name="Second Director")
    db.session.commit()
    assert "Thinking about it" not in client_for(colleague).get(
        url(cw, path="/qa")).get_data(as_text=True)
    # sending it needs "Is it working?"
    assert director.post(url(cw, path="/qa"), {"version": str(d_of(cw).version),
                                               "changes": "Thinking about it"}
                         ).status_code == 422
    assert _count(Evaluation, Evaluation.deployment_id == d.id,
                  Evaluation.kind == "qa_mid") == 0
    assert _drafts_audited() == 1


def test_an_overlong_draft_is_refused_beside_nothing_saved(cw, client_for):
    leader = client_for(cw.user("a", "sle"))
    r = leader.post(url(cw, path="/evaluation"), {"version": str(d_of(cw).version),
                                                  "summary": "x" * 20_001, "save_draft": "1"})
    assert r.status_code == 422 and "longer than" in r.get_data(as_text=True)
    assert _count(EvaluationDraft) == 0 and _drafts_audited() == 0


def test_leader_data_still_submits_in_one_go(cw, client_for):
    """The draft button is an extra: the form sent without it behaves as before."""
    r = client_for(cw.user("a", "sle")).post(url(cw, path="/evaluation"), leader_data(cw))
    assert r.status_code == 303
    assert _count(EvaluationDraft) == 0 and _drafts_audited() == 0
