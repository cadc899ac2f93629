"""The completion rules in portal.domain.evaluations, called directly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import access, workflow
from portal.domain import evaluations as ev
from portal.extensions import db
from portal.models import Evaluation, User

from ..factories import evaluations as fc

TODAY = date(2026, 11, 23)


@pytest.fixture
def cw(db):
    return fc.evaluations_world()


def u(w, role, side="a") -> User:
    return db.session.get(User, w.user(side, role).id)


def ratings(d, score=3, evidence="seen"):
    return {o.id: ev.Rating(score, evidence) for o in ev.outcomes_for(d)}


def submit(w, d=None):
    d = d or w.a.deployment
    return ev.submit_leader_evaluation(d, u(w, "sle"), ratings=ratings(d), summary="s",
                                       changes_for_teachers="t", changes_for_pupils="p",
                                       recommendations="r", exit_arrangements="e")


def sign(w, d=None, head=None):
    d = d or w.a.deployment
    return ev.sign_off_school(d, head or u(w, "headteacher"), ratings=ratings(d, 4),
                              support_quality=4, value_for_money=3, would_use_again=True,
                              summary="")


def to_signed(w):
    submit(w)
    ev.forward(w.a.deployment, u(w, "admin"))
    sign(w)


# ----------------------------------------------------------------------- leader evaluation


@pytest.mark.parametrize("role", ["headteacher", "home_school", "director", "admin", "board"])
def test_only_the_leader_submits(cw, role):
    d = cw.a.deployment
    with pytest.raises(ev.NotAllowed):
        ev.submit_leader_evaluation(d, u(cw, role), ratings=ratings(d), summary="s",
                                    changes_for_teachers="t", changes_for_pupils="p",
                                    recommendations="r", exit_arrangements="e")
    assert d.status == "active"


def test_the_other_alliances_leader_cannot_submit(cw):
    d = cw.a.deployment
    with pytest.raises(ev.NotAllowed):
        ev.submit_leader_evaluation(d, u(cw, "sle", "b"), ratings=ratings(d), summary="s",
                                    changes_for_teachers="t", changes_for_pupils="p",
                                    recommendations="r", exit_arrangements="e")


@pytest.mark.parametrize("status", ["proposed", "agreement", "completed", "ended_early",
                                    "cancelled", "declined"])
def test_submission_needs_an_active_deployment(cw, status):
    cw.a.deployment.status = status
    with pytest.raises(ev.EvaluationError):
        submit(cw)


def test_submission_moves_to_evaluation_and_rates_every_outcome(cw):
    e = submit(cw)
    assert cw.a.deployment.status == "evaluation"
    assert e.status == "submitted" and e.submitted_at is not None
    assert sorted(r.outcome_id for r in e.ratings) == sorted(
        o.id for o in ev.outcomes_for(cw.a.deployment))


@pytest.mark.parametrize(("change", "message"), [
    ("missing", "every intended outcome"), ("range", "from 1 to 4"),
    ("evidence", "evidence"), ("stranger", "not in this action plan"),
])
def test_ratings_are_checked(cw, change, message):
    d = cw.a.deployment
    given = ratings(d)
    first = next(iter(given))
    if change == "missing":
        del given[first]
    elif change == "range":
        given[first] = ev.Rating(5, "x")
    elif change == "evidence":
        given[first] = ev.Rating(3, "  ")
    else:
        given[999_999] = ev.Rating(3, "x")
    with pytest.raises(ValueError, match=message):
        ev.submit_leader_evaluation(d, u(cw, "sle"), ratings=given, summary="s",
                                    changes_for_teachers="t", changes_for_pupils="p",
                                    recommendations="r", exit_arrangements="e")


def test_a_deployment_without_outcomes_can_still_be_evaluated(db):
    from .. import factories

    w = factories.world()
    fc.live(w.a.deployment, outcomes=())
    db.session.commit()
    e = ev.submit_leader_evaluation(w.a.deployment, db.session.get(User, w.a.leader.id),
                                    ratings={}, summary="s", changes_for_teachers="t",
                                    changes_for_pupils="p", recommendations="r",
                                    exit_arrangements="e")
    assert e.ratings == [] and w.a.deployment.status == "evaluation"


def test_forwarded_evaluation_cannot_be_revised(cw):
    submit(cw)
    ev.forward(cw.a.deployment, u(cw, "admin"))
    with pytest.raises(ev.EvaluationError):
        submit(cw)


def test_revision_before_forwarding_updates_in_place(cw):
    submit(cw)
    again = submit(cw)
    assert len(ev.evaluations(cw.a.deployment, "leader")) == 1 and again.status == "submitted"


# ---------------------------------------------------------------------------- forwarding


@pytest.mark.parametrize("role", ["sle", "headteacher", "home_school", "board"])
def test_only_overseers_forward(cw, role):
    submit(cw)
    with pytest.raises(ev.NotAllowed):
        ev.forward(cw.a.deployment, u(cw, role))


def test_nothing_to_forward_before_submission_or_twice(cw):
    with pytest.raises(ev.EvaluationError):
        ev.forward(cw.a.deployment, u(cw, "admin"))
    submit(cw)
    opened = ev.forward(cw.a.deployment, u(cw, "director"))
    assert [e.school_id for e in opened] == [cw.a.receiving.id]
    with pytest.raises(ev.EvaluationError):
        ev.forward(cw.a.deployment, u(cw, "admin"))


# ----------------------------------------------------------------------- school sign-off


def test_only_a_receiving_head_signs_off(cw):
    submit(cw)
    ev.forward(cw.a.deployment, u(cw, "admin"))
    for who in (u(cw, "other_head"), u(cw, "admin"), u(cw, "sle"), u(cw, "headteacher", "b")):
        with pytest.raises(ev.NotAllowed):
            sign(cw, head=who)
    sign(cw)
    with pytest.raises(ev.EvaluationError):  # once only
        sign(cw)


def test_sign_off_needs_a_forwarded_evaluation(cw):
    submit(cw)
    with pytest.raises(ev.EvaluationError):
        sign(cw)


@pytest.mark.parametrize(("quality", "value"), [(0, 3), (3, 5)])
def test_school_scores_are_one_to_four(cw, quality, value):
    submit(cw)
    ev.forward(cw.a.deployment, u(cw, "admin"))
    d = cw.a.deployment
    with pytest.raises(ValueError, match="from 1 to 4"):
        ev.sign_off_school(d, u(cw, "headteacher"), ratings=ratings(d), support_quality=quality,
                           value_for_money=value, would_use_again=False, summary="")


def test_return_needs_a_reason_and_reopens_the_leaders_evaluation(cw):
    submit(cw)
    ev.forward(cw.a.deployment, u(cw, "admin"))
    with pytest.raises(ValueError):
        ev.return_to_leader(cw.a.deployment, u(cw, "headteacher"), reason="  ")
    with pytest.raises(ev.NotAllowed):
        ev.return_to_leader(cw.a.deployment, u(cw, "admin"), reason="x")
    e = ev.return_to_leader(cw.a.deployment, u(cw, "headteacher"), reason="Too vague")
    assert e.status == "returned" and e.return_reason == "Too vague"
    assert ev.school_evaluation(cw.a.deployment, cw.a.receiving.id).status == "returned"
    submit(cw)  # the leader revises
    assert ev.leader_evaluation(cw.a.deployment).return_reason == ""


# ------------------------------------------------------------------------------ director


def test_final_sign_off_needs_every_school_then_completes(cw):
    d = cw.a.deployment
    submit(cw)
    with pytest.raises(ev.EvaluationError, match="Every receiving school"):
        ev.final_sign_off(d, u(cw, "director"), notes="n")
    ev.forward(d, u(cw, "admin"))
    sign(cw)
    with pytest.raises(ev.NotAllowed):
        ev.final_sign_off(d, u(cw, "admin"), notes="n")
    final = ev.final_sign_off(d, u(cw, "director"), notes="Secure")
    assert d.status == "completed" and final.kind == "qa_final" and d.closed_at is not None
    with pytest.raises(ev.EvaluationError):
        ev.final_sign_off(d, u(cw, "director"), notes="again")


def test_final_sign_off_needs_the_evaluation_stage(cw):
    with pytest.raises(ev.EvaluationError):
        ev.final_sign_off(cw.a.deployment, u(cw, "director"), notes="n")


def test_qa_notes_only_by_the_director_while_in_progress(cw):
    d = cw.a.deployment
    with pytest.raises(ev.NotAllowed):
        ev.add_qa_note(d, u(cw, "admin"), is_working="y", changes="", next_steps="",
                       exit_strategy="")
    ev.add_qa_note(d, u(cw, "director"), is_working="y", changes="c", next_steps="n",
                   exit_strategy="x")
    to_signed(cw)
    ev.add_qa_note(d, u(cw, "director"), is_working="y", changes="", next_steps="",
                   exit_strategy="")
    ev.final_sign_off(d, u(cw, "director"), notes="n")
    with pytest.raises(ev.EvaluationError):
        ev.add_qa_note(d, u(cw, "director"), is_working="y", changes="", next_steps="",
                       exit_strategy="")
    assert len(ev.evaluations(d, "qa_mid")) == 2


# ------------------------------------------------------------------------------ early end


@pytest.mark.parametrize("stage", ["active", "evaluation"])
def test_end_early_from_active_or_evaluation(cw, stage):
    d = cw.a.deployment
    if stage == "evaluation":
        submit(cw)
    ev.end_early(d, u(cw, "director"), reason="Ill", last_day_delivered=TODAY,
                 half_days_delivered=3, today=TODAY)
    assert (d.status, d.half_days_delivered, d.last_day_delivered, d.end_reason) == (
        "ended_early", 3, TODAY, "Ill")


@pytest.mark.parametrize(("kw", "error"), [
    ({"reason": ""}, ValueError),
    ({"last_day_delivered": TODAY + timedelta(days=1)}, ValueError),
    ({"half_days_delivered": -1}, ValueError),
    ({"half_days_delivered": 9}, ValueError),  # 8 agreed
])
def test_end_early_checks_its_input(cw, kw, error):
    args = {"reason": "Ill", "last_day_delivered": TODAY, "half_days_delivered": 2,
            "today": TODAY, **kw}
    with pytest.raises(error):
        ev.end_early(cw.a.deployment, u(cw, "admin"), **args)
    assert cw.a.deployment.status == "active"


@pytest.mark.parametrize("role", ["sle", "headteacher", "home_school", "board"])
def test_only_overseers_end_early(cw, role):
    with pytest.raises(ev.NotAllowed):
        ev.end_early(cw.a.deployment, u(cw, role), reason="x", last_day_delivered=TODAY,
                     half_days_delivered=1, today=TODAY)


def test_a_closed_deployment_cannot_end_early(cw):
    to_signed(cw)
    ev.final_sign_off(cw.a.deployment, u(cw, "director"), notes="n")
    with pytest.raises(ev.EvaluationError):
        ev.end_early(cw.a.deployment, u(cw, "admin"), reason="x", last_day_delivered=TODAY,
                     half_days_delivered=1, today=TODAY)


def test_check_version_refuses_a_stale_form(cw):
    d = cw.a.deployment
    seen = d.version
    submit(cw)
    db.session.commit()
    with pytest.raises(workflow.Conflict):
        ev.check_version(d, seen)
    ev.check_version(d, d.version)
    # a form sent without its version is refused too: the flush only catches a change made
    # while this request runs, not one made since the form was drawn
    with pytest.raises(workflow.Conflict, match="did not say which version"):
        ev.check_version(d, None)


# ----------------------------------------------------------------------------- visibility


def visible(w, role, side="a"):
    user = u(w, role, side)
    return {(e.kind, e.status) for e in db.session.scalars(
        select(Evaluation).where(access.evaluations_visible_to(user)))}


def test_who_sees_which_evaluation(cw):
    submit(cw)
    ev.add_qa_note(cw.a.deployment, u(cw, "director"), is_working="y", changes="",
                   next_steps="", exit_strategy="")
    db.session.commit()
    assert visible(cw, "headteacher") == set()
    assert visible(cw, "sle") == {("leader", "submitted"), ("qa_mid", "submitted")}
    assert visible(cw, "admin") == visible(cw, "director") == visible(cw, "sle")
    assert visible(cw, "admin", "b") == set() and visible(cw, "home_school") == set()
    ev.forward(cw.a.deployment, u(cw, "admin"))
    db.session.commit()
    assert visible(cw, "headteacher") == {("leader", "forwarded"), ("school", "forwarded")}
    assert visible(cw, "other_head") == set()
    assert ("school", "forwarded") not in visible(cw, "sle")
    sign(cw)
    db.session.commit()
    assert ("school", "signed_off") in visible(cw, "sle")


def test_every_action_bumps_the_deployment_version_so_a_parallel_one_fails(cw):
    """A second session that loaded the deployment before our change cannot write over it."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.attributes import flag_modified
    from sqlalchemy.orm.exc import StaleDataError

    from portal.models import Deployment

    d = cw.a.deployment
    submit(cw)
    db.session.commit()
    other = Session(db.engine, expire_on_commit=False)
    try:
        stale = other.get(Deployment, d.id)
        other.commit()  # keep the loaded (soon stale) object, release SQLite's read lock
        before = d.version
        ev.forward(d, u(cw, "admin"))
        db.session.commit()
        assert d.version == before + 1
        flag_modified(stale, "status")
        with pytest.raises(StaleDataError):
            other.commit()
    finally:
        other.rollback()
        other.close()


def test_a_board_member_sees_the_evaluations_of_its_targeted_deployments(cw):
    board = fc.board_for(cw.a)
    cw.a.request.board_id = board.id
    db.session.commit()
    submit(cw)
    db.session.commit()
    assert visible(cw, "board") == set()  # not yet forwarded
    ev.forward(cw.a.deployment, u(cw, "admin"))
    sign(cw)
    db.session.commit()
    assert visible(cw, "board") == {("leader", "forwarded"), ("school", "signed_off")}
    assert visible(cw, "board", "b") == set()


def test_the_commands_refuse_a_version_the_user_did_not_see(cw):
    """Given the version a form was drawn from, the command itself refuses a missing or
    moved-on one (409) and changes nothing; the right one goes through."""
    from portal.domain import errors

    d = cw.a.deployment
    submit(cw)
    admin = u(cw, "admin")
    for seen in (None, d.version - 1, d.version + 1):
        with pytest.raises(errors.Conflict):
            ev.forward(d, admin, seen_version=seen)
    assert ev.leader_evaluation(d).status == "submitted"
    ev.forward(d, admin, seen_version=d.version)
    assert ev.leader_evaluation(d).status == "forwarded"
    school = ev.school_evaluation(d, u(cw, "headteacher").school_id)
    before = school.status if school is not None else None
    with pytest.raises(errors.Conflict):
        ev.sign_off_school(d, u(cw, "headteacher"), ratings=ratings(d, 4), support_quality=4,
                           value_for_money=3, would_use_again=True, summary="",
                           seen_version=d.version - 1)
    school = ev.school_evaluation(d, u(cw, "headteacher").school_id)
    assert (school.status if school is not None else None) == before
