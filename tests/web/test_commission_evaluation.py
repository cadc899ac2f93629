"""The supported school evaluates the commission as a whole (Sefton D, E): one form for the
receiving headteacher, the overall answers and a rating and comment of each person deployed
under the commission, saved as a draft and finished later; the commission's final sign-off
waits for it. Strangers get 404, other roles are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.domain import evaluations as ev
from portal.domain.policy import evaluations as eval_policy
from portal.extensions import db
from portal.models import EvaluationDraft, PersonRating
from tests.factories import advance, commit
from tests.factories import commissions as fc


@pytest.fixture()
def cw(db):
    """A commission under evaluation, its leader's evaluation forwarded to the school, with one
    colleague deployed under it whose own work is complete."""
    w = fc.commission_world()
    person = fc.deploy(w)
    advance(person, "completed", delivered=12)
    advance(w.commission, "evaluation", delivered=8)
    ev.forward(w.commission, w.w.user("a", "admin"))
    commit()
    w.person = person  # type: ignore[attr-defined]
    return w


def _url(cw) -> str:
    return f"/deployments/{cw.commission.id}/evaluations/school"


def _answers(cw, **over: str) -> dict[str, str]:
    data = {"version": str(cw.commission.version), "support_quality": "4",
            "value_for_money": "3", "would_use_again": "yes",
            "summary": "The commission lifted reasoning across the school.",
            f"person_{cw.person.id}_rating": "3",
            f"person_{cw.person.id}_comment": "Alpha Colleague coached our Year 5 team well."}
    for o in ev.outcomes_for(cw.commission):
        data[f"rating_{o.id}"] = "3"
    data.update(over)
    return data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_school_rates_each_person_and_the_whole(cw, client_for):
    head = client_for(cw.w.user("a", "headteacher"))
    page = head.get(_url(cw)).get_data(as_text=True)
    assert "Each person deployed under the commission" in page
    assert f'name="person_{cw.person.id}_rating"' in page and cw.colleague.name in page
    # the commission's sign-off waits for the school
    director = cw.w.user("a", "director")
    assert not eval_policy.sign_off(cw.commission, director,
                                    eval_policy.facts(cw.commission)).allowed
    # every person must be rated
    missing = _answers(cw)
    del missing[f"person_{cw.person.id}_rating"]
    r = head.post(_url(cw), missing)
    assert r.status_code == 422 and "Score the quality of Alpha Colleague" in r.get_data(
        as_text=True)
    r = head.post(_url(cw), _answers(cw))
    assert r.status_code == 303
    rows = db.session.scalars(select(PersonRating)).all()
    assert [(p.deployment_id, p.rating, p.comment) for p in rows] == [
        (cw.person.id, 3, "Alpha Colleague coached our Year 5 team well.")]
    shown = head.get(f"/deployments/{cw.commission.id}").get_data(as_text=True)
    assert "Alpha Colleague coached our Year 5 team well." in shown
    assert eval_policy.sign_off(cw.commission, director,
                                eval_policy.facts(cw.commission)).allowed


def test_a_draft_keeps_the_people_ratings(cw, client_for):
    head = client_for(cw.w.user("a", "headteacher"))
    r = head.post(_url(cw), {"version": str(cw.commission.version), "save_draft": "1",
                             f"person_{cw.person.id}_comment": "Half-written thoughts"})
    assert r.status_code == 303
    assert _count(EvaluationDraft) == 1 and _count(PersonRating) == 0
    page = head.get(_url(cw)).get_data(as_text=True)
    assert "Half-written thoughts" in page and "Only you can see it" in page
    assert head.post(_url(cw), _answers(cw)).status_code == 303
    assert _count(EvaluationDraft) == 0 and _count(PersonRating) == 1


def test_a_rating_of_someone_not_on_the_commission_is_refused(cw):
    head = cw.w.user("a", "headteacher")
    with pytest.raises(ev.errors.Invalid):
        ev.sign_off_school(cw.commission, head, ratings={}, support_quality=4,
                           value_for_money=4, would_use_again=True, summary="",
                           people={cw.person.id: ev.Rating(3), cw.w.b.deployment.id: ev.Rating(3)})


def test_strangers_get_404(cw, client_for):
    for user in (cw.w.user("b", "headteacher"), cw.w.user("a", "other_head")):
        client = client_for(user)
        assert client.get(_url(cw)).status_code == 404
        assert client.post(_url(cw), _answers(cw)).status_code == 404
    assert _count(PersonRating) == 0


@pytest.mark.parametrize("who", ["commissioner", "colleague", "director", "admin", "home_school"])
def test_other_roles_are_refused(cw, client_for, who):
    user = {"commissioner": cw.commissioner, "colleague": cw.colleague,
            "home_school": cw.colleague_home_head}.get(who) or cw.w.user("a", who)
    client = client_for(user)
    assert client.get(_url(cw)).status_code in (403, 404)
    assert client.post(_url(cw), _answers(cw)).status_code in (403, 404)
    assert _count(PersonRating) == 0
