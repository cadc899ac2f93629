"""Step 6 over HTTP: evaluate, forward, sign off, QA sign-off, early end; who may do each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import evaluations as ev
from portal.domain import workflow
from portal.extensions import db
from portal.models import AuditEvent, Deployment, Evaluation, Notification, OutboxEmail

from ..factories import evaluations as fc

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.fixture
def cw(db):
    w = fc.evaluations_world()
    # the workflow that made the deployments live told people too: the tests count only what
    # they are told afterwards
    w.told_before = {m: db.session.scalar(select(func.max(m.id))) or 0
                     for m in (Notification, OutboxEmail)}
    return w


def since(w, model):
    return model.id > w.told_before[model]


@pytest.fixture
def client_for(client_for):
    """Several users in one test: the test body's app context (and so ``g``) outlives each
    request, and Flask-Login caches the signed-in user in ``g``; forget it before every call."""
    from flask import g

    def make(user=None):
        c = client_for(user)
        for name in ("get", "post", "htmx_get"):
            method = getattr(c, name)

            def fresh(*a, _m=method, **kw):
                g.pop("_login_user", None)
                return _m(*a, **kw)

            setattr(c, name, fresh)
        return c

    return make


def url(w, side="a", path=""):
    return f"/deployments/{getattr(w, side).deployment.id}/evaluations{path}"


def d_of(w, side="a") -> Deployment:
    db.session.expire_all()
    return db.session.get(Deployment, getattr(w, side).deployment.id)


def leader_data(w, side="a", **over):
    d = d_of(w, side)
    data = {"version": d.version, "summary": "Clear gains in reasoning",
            "changes_for_teachers": "Both teachers now plan in sequences",
            "changes_for_pupils": "Pupils explain their reasoning",
            "recommendations": "Keep moderating termly",
            "exit_arrangements": "Maths lead continues coaching"}
    for o in ev.outcomes_for(d):
        data[f"rating_{o.id}"] = "3"
        data[f"evidence_{o.id}"] = f"Book scrutiny for {o.standard}"
    data.update(over)
    return data


def school_data(w, side="a", **over):
    d = d_of(w, side)
    data = {"version": d.version, "support_quality": "4", "value_for_money": "3",
            "would_use_again": "yes", "summary": "Very helpful"}
    for o in ev.outcomes_for(d):
        data[f"rating_{o.id}"] = "4"
    data.update(over)
    return data


def submit(w, client_for, side="a"):
    r = client_for(w.user(side, "sle")).post(url(w, side, "/evaluation"), leader_data(w, side))
    assert r.status_code == 303, r.data[:2000]
    return r


def forward(w, client_for, side="a"):
    r = client_for(w.user(side, "admin")).post(url(w, side, "/forward"),
                                               {"version": d_of(w, side).version})
    assert r.status_code == 303
    return r


def sign_school(w, client_for, side="a"):
    r = client_for(w.user(side, "headteacher")).post(url(w, side, "/school"),
                                                     school_data(w, side))
    assert r.status_code == 303, r.data[:2000]
    return r


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --------------------------------------------------------------------------- the whole path


def test_the_whole_completion_path(cw, client_for):
    leader = client_for(cw.user("a", "sle"))
    assert b"Write the final evaluation" in leader.get(
        f"/deployments/{cw.a.deployment.id}").data
    submit(cw, client_for)
    d = d_of(cw)
    assert d.status == "evaluation"
    lead_ev = ev.leader_evaluation(d)
    assert lead_ev.status == "submitted" and len(lead_ev.ratings) == 2
    assert lead_ev.changes_for_pupils == "Pupils explain their reasoning"
    admin = cw.user("a", "admin")
    assert count(Notification, Notification.user_id == admin.id, since(cw, Notification)) == 1
    assert count(OutboxEmail, OutboxEmail.to == admin.email, since(cw, OutboxEmail)) == 1

    # the head cannot see it before the admin forwards it
    head = client_for(cw.user("a", "headteacher"))
    assert b"Clear gains in reasoning" not in head.get(f"/deployments/{d.id}").data
    assert head.get(url(cw, path="/school")).status_code == 409
    assert b"Forward to the receiving school" in client_for(admin).get(
        f"/deployments/{d.id}").data
    forward(cw, client_for)
    page = head.get(f"/deployments/{d.id}").data.decode()
    assert "Clear gains in reasoning" in page and "Add your school's evaluation" in page
    assert count(Notification, Notification.user_id == cw.user("a", "headteacher").id,
                 since(cw, Notification)) == 1

    director = client_for(cw.user("a", "director"))
    assert director.get(url(cw, path="/sign-off")).status_code == 409  # school not signed yet
    sign_school(cw, client_for)
    school_ev = ev.school_evaluation(d_of(cw), cw.a.receiving.id)
    assert school_ev.status == "signed_off" and school_ev.would_use_again is True
    assert school_ev.author_id == cw.user("a", "headteacher").id
    assert {r.rating for r in school_ev.ratings} == {4}

    assert director.get(url(cw, path="/sign-off")).status_code == 200
    r = director.post(url(cw, path="/sign-off"), {"version": d_of(cw).version,
                                                  "notes": "Impact secure"})
    assert r.status_code == 303
    d = d_of(cw)
    assert d.status == "completed" and d.closed_at is not None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"deployment.evaluation", "evaluation.submitted", "evaluation.forwarded",
            "evaluation.signed_off", "deployment.completed"} <= actions
    body = head.get(f"/deployments/{d.id}").data.decode()
    assert "Impact secure" in body and "Complete." in body


def test_bad_evaluation_is_refused_beside_the_field_and_nothing_saved(cw, client_for):
    c = client_for(cw.user("a", "sle"))
    data = leader_data(cw)
    outcome = ev.outcomes_for(d_of(cw))[0]
    data[f"rating_{outcome.id}"] = ""
    data["changes_for_pupils"] = ""
    r = c.post(url(cw, path="/evaluation"), data)
    assert r.status_code == 422
    body = r.data.decode()
    assert "Choose the impact on outcome 1." in body and "Say what changed for the pupils." in body
    assert 'aria-invalid="true"' in body
    assert d_of(cw).status == "active" and count(Evaluation) == 0


def test_rating_out_of_range_is_refused(cw, client_for):
    data = leader_data(cw)
    outcome = ev.outcomes_for(d_of(cw))[0]
    data[f"rating_{outcome.id}"] = "9"
    r = client_for(cw.user("a", "sle")).post(url(cw, path="/evaluation"), data)
    assert r.status_code == 422 and count(Evaluation) == 0


def test_a_double_submission_makes_one_evaluation(cw, client_for):
    c = client_for(cw.user("a", "sle"))
    data = leader_data(cw)
    assert c.post(url(cw, path="/evaluation"), data).status_code == 303
    again = c.post(url(cw, path="/evaluation"), data)  # the same form, the old version
    assert again.status_code == 409
    assert count(Evaluation, Evaluation.kind == "leader") == 1


def test_a_double_forward_opens_one_school_evaluation(cw, client_for):
    submit(cw, client_for)
    admin = client_for(cw.user("a", "admin"))
    version = d_of(cw).version
    assert admin.post(url(cw, path="/forward"), {"version": version}).status_code == 303
    assert admin.post(url(cw, path="/forward"), {"version": version}).status_code == 409
    assert count(Evaluation, Evaluation.kind == "school") == 1


def test_two_people_at_once_conflict_in_the_domain(cw):
    """Two sessions load the same deployment; the second to commit gets Conflict."""
    from portal.models import User

    d = d_of(cw)
    leader = db.session.get(User, cw.user("a", "sle").id)
    seen = d.version
    ev.check_version(d, seen)
    ev.submit_leader_evaluation(d, leader, ratings={o.id: ev.Rating(3, "x") for o in
                                                    ev.outcomes_for(d)},
                                summary="a", changes_for_teachers="b", changes_for_pupils="c",
                                recommendations="d", exit_arrangements="e")
    workflow.commit_or_conflict()
    with pytest.raises(workflow.Conflict):
        ev.check_version(d_of(cw), seen)


def test_return_with_reason_then_revise_and_forward_again(cw, client_for):
    submit(cw, client_for)
    forward(cw, client_for)
    head = client_for(cw.user("a", "headteacher"))
    r = head.post(url(cw, path="/school/return"), {"version": d_of(cw).version, "reason": ""})
    assert r.status_code == 422 and "Say why you are returning" in r.data.decode()
    r = head.post(url(cw, path="/school/return"),
                  {"version": d_of(cw).version, "reason": "Outcome 2 evidence is thin"})
    assert r.status_code == 303
    lead_ev = ev.leader_evaluation(d_of(cw))
    assert lead_ev.status == "returned" and lead_ev.return_reason == "Outcome 2 evidence is thin"
    leader = client_for(cw.user("a", "sle"))
    page = leader.get(url(cw, path="/evaluation"))
    assert page.status_code == 200 and "Outcome 2 evidence is thin" in page.data.decode()
    assert "Clear gains in reasoning" in page.data.decode()  # the form keeps what was written
    r = leader.post(url(cw, path="/evaluation"), leader_data(cw, summary="Revised summary"))
    assert r.status_code == 303
    assert count(Evaluation, Evaluation.kind == "leader") == 1
    assert ev.leader_evaluation(d_of(cw)).summary == "Revised summary"
    forward(cw, client_for)
    assert ev.school_evaluation(d_of(cw), cw.a.receiving.id).status == "forwarded"
    sign_school(cw, client_for)
    assert ev.all_schools_signed_off(d_of(cw))


def test_every_receiving_school_must_sign_off(cw, client_for):
    from portal.models import RequestSchool

    from .. import factories

    second_head = factories.user(cw.a.alliance, "headteacher", cw.a.other, name="Second Head")
    db.session.add(RequestSchool(request_id=cw.a.request.id, school_id=cw.a.other.id,
                                 position=1))
    db.session.commit()
    submit(cw, client_for)
    forward(cw, client_for)
    assert count(Evaluation, Evaluation.kind == "school") == 2
    sign_school(cw, client_for)
    director = client_for(cw.user("a", "director"))
    assert director.post(url(cw, path="/sign-off"), {"version": d_of(cw).version,
                                                     "notes": "x"}).status_code == 409
    assert d_of(cw).status == "evaluation"
    r = client_for(second_head).post(url(cw, path="/school"), school_data(cw))
    assert r.status_code == 303
    assert director.post(url(cw, path="/sign-off"), {"version": d_of(cw).version,
                                                     "notes": "x"}).status_code == 303
    assert d_of(cw).status == "completed"


def test_school_sign_off_needs_its_scores(cw, client_for):
    submit(cw, client_for)
    forward(cw, client_for)
    r = client_for(cw.user("a", "headteacher")).post(
        url(cw, path="/school"), school_data(cw, value_for_money="", would_use_again=""))
    assert r.status_code == 422
    assert "Score the value for money." in r.data.decode()
    assert ev.school_evaluation(d_of(cw), cw.a.receiving.id).status == "forwarded"


def test_qa_notes_during_the_commission(cw, client_for):
    director = client_for(cw.user("a", "director"))
    assert director.post(url(cw, path="/qa"), {"version": d_of(cw).version,
                                               "is_working": ""}).status_code == 422
    r = director.post(url(cw, path="/qa"), {
        "version": d_of(cw).version, "is_working": "Yes, routines are embedding",
        "changes": "More modelling", "next_steps": "Joint observation",
        "exit_strategy": "Hand over to the maths lead"})
    assert r.status_code == 303
    assert count(Evaluation, Evaluation.kind == "qa_mid") == 1
    assert d_of(cw).status == "active"
    d_id = cw.a.deployment.id
    assert b"Yes, routines are embedding" in client_for(cw.user("a", "sle")).get(
        f"/deployments/{d_id}").data
    assert b"Yes, routines are embedding" not in client_for(cw.user("a", "headteacher")).get(
        f"/deployments/{d_id}").data


@pytest.mark.parametrize("role", ["admin", "director"])
def test_end_early_records_reason_last_day_and_days(cw, client_for, role):
    c = client_for(cw.user("a", role))
    page = c.get(url(cw, path="/end-early"))
    assert page.status_code == 200 and 'value="6"' in page.data.decode()
    last = date.today() - timedelta(days=1)
    r = c.post(url(cw, path="/end-early"), {"version": d_of(cw).version,
                                            "reason": "Leader is on long-term sick leave",
                                            "last_day_delivered": last.isoformat(),
                                            "half_days_delivered": "4"})
    assert r.status_code == 303
    d = d_of(cw)
    assert d.status == "ended_early" and d.end_reason == "Leader is on long-term sick leave"
    assert d.last_day_delivered == last and d.half_days_delivered == 4
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                       "deployment.ended_early"))
    assert event.detail["half_days_delivered"] == 4
    assert event.detail["reason"] == "Leader is on long-term sick leave"
    assert count(Notification, Notification.user_id == cw.user("a", "sle").id,
                 since(cw, Notification)) == 1


def test_end_early_runs_the_charging_hooks(cw, client_for):
    seen = []

    def hook(d, actor, reason):
        seen.append((d.status, d.half_days_delivered, reason))

    workflow.on_enter(Deployment, "ended_early")(hook)
    try:
        c = client_for(cw.user("a", "admin"))
        c.post(url(cw, path="/end-early"), {
            "version": d_of(cw).version, "reason": "Moved school",
            "last_day_delivered": date.today().isoformat(), "half_days_delivered": "2"})
    finally:
        workflow._HOOKS[(Deployment, "ended_early")].remove(hook)
    assert seen == [("ended_early", 2, "Moved school")]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("half_days_delivered", "99", "cannot be more than the 8 agreed"),
    ("half_days_delivered", "-1", "cannot be negative"),
    ("last_day_delivered", (date.today() + timedelta(days=3)).isoformat(), "in the future"),
    ("last_day_delivered", "not a date", "Enter the date as day, month and year"),
    ("last_day_delivered", "31/02/2026", "that day is not in the month"),
    ("reason", "", "Say why the deployment is ending early"),
])
def test_end_early_bad_input(cw, client_for, field, value, message):
    data = {"version": d_of(cw).version, "reason": "Ill",
            "last_day_delivered": date.today().isoformat(), "half_days_delivered": "2"}
    data[field] = value
    r = client_for(cw.user("a", "admin")).post(url(cw, path="/end-early"), data)
    assert r.status_code == 422 and message in r.data.decode()
    assert d_of(cw).status == "active"


def test_no_evaluation_after_ending_early(cw, client_for):
    client_for(cw.user("a", "director")).post(url(cw, path="/end-early"), {
        "version": d_of(cw).version, "reason": "Ill",
        "last_day_delivered": date.today().isoformat(), "half_days_delivered": "2"})
    r = client_for(cw.user("a", "sle")).post(url(cw, path="/evaluation"), leader_data(cw))
    assert r.status_code == 409 and count(Evaluation) == 0


# ------------------------------------------------------------------------------- access


GET_PAGES = {  # path: roles allowed (others 403)
    "/evaluation": {"sle"},
    "/qa": {"director"},
    "/end-early": {"admin", "director"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(GET_PAGES))
def test_get_pages_by_role(cw, client_for, role, path):
    r = client_for(cw.user("a", role)).get(url(cw, path=path))
    if role == "board":  # the Board did not target this deployment: it cannot see it at all
        expected = 403
    else:
        expected = 200 if role in GET_PAGES[path] else 403
    assert r.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_school_and_sign_off_pages_by_role(cw, client_for, role):
    submit(cw, client_for)
    forward(cw, client_for)
    c = client_for(cw.user("a", role))
    assert c.get(url(cw, path="/school")).status_code == (200 if role == "headteacher" else 403)
    # not ready: the director is told why; everyone else is refused
    assert c.get(url(cw, path="/sign-off")).status_code == (409 if role == "director" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_posts_by_the_wrong_role_change_nothing(cw, client_for, role):
    submit(cw, client_for)
    c = client_for(cw.user("a", role))
    v = d_of(cw).version
    r = c.post(url(cw, path="/forward"), {"version": v})
    assert r.status_code == (303 if role in ("admin", "director") else 403)
    if role not in ("admin", "director"):
        assert count(Evaluation, Evaluation.kind == "school") == 0
    r = c.post(url(cw, path="/school/return"), {"version": d_of(cw).version, "reason": "x"})
    assert r.status_code in ((303, 409) if role == "headteacher" else (403,))


@pytest.mark.parametrize("path", ["/evaluation", "/qa", "/end-early", "/school", "/sign-off"])
def test_strangers_are_sent_to_sign_in(cw, anon, path):
    assert anon.get(url(cw, path=path)).status_code == 302
    assert anon.post(url(cw, path="/forward"), {}).status_code in (302, 400)


@pytest.mark.parametrize(("role", "path", "method"), [
    ("sle", "/evaluation", "get"), ("director", "/qa", "get"), ("admin", "/end-early", "get"),
    ("director", "/end-early", "get"), ("director", "/sign-off", "get"),
    ("headteacher", "/school", "get"), ("admin", "/forward", "post"),
    ("headteacher", "/school/return", "post"), ("sle", "/evaluation", "post"),
    ("director", "/sign-off", "post"),
])
def test_another_alliances_deployment_answers_404(cw, client_for, role, path, method):
    c = client_for(cw.user("a", role))
    r = getattr(c, method)(url(cw, "b", path), **({"data": {"version": 1}}
                                                  if method == "post" else {}))
    assert r.status_code == 404


def test_a_headteacher_of_another_school_gets_404(cw, client_for):
    submit(cw, client_for)
    forward(cw, client_for)
    c = client_for(cw.user("a", "other_head"))
    assert c.get(url(cw, path="/school")).status_code == 404
    assert c.post(url(cw, path="/school"), school_data(cw)).status_code == 404


def test_a_commissioning_colleague_cannot_write_the_leaders_evaluation(cw, client_for):
    from .. import factories

    other = factories.leader(cw.a.alliance, cw.a.home, name="Commissioner")
    d = d_of(cw)
    d.commissioning_leader_id = other.id
    db.session.commit()
    c = client_for(other)
    assert c.get(f"/deployments/{d.id}").status_code == 200
    assert c.get(url(cw, path="/evaluation")).status_code == 403
    assert c.post(url(cw, path="/evaluation"), leader_data(cw)).status_code == 403
    assert count(Evaluation) == 0


def test_panel_shows_nothing_before_the_deployment_is_live(db, client_for):
    from .. import factories

    w = factories.world()  # deployments still "proposed"
    body = client_for(w.user("a", "admin")).get(f"/deployments/{w.a.deployment.id}").data
    assert b"panel-evaluations-title" not in body


def test_home_page_lists_the_evaluations_waiting_for_each_role(cw, client_for):
    ref = cw.a.deployment.reference

    def home(role):
        return client_for(cw.user("a", role)).get("/").data.decode()

    assert "Write the final evaluation when the work is done" in home("sle")
    submit(cw, client_for)
    assert "Review and forward" in home("admin") and ref in home("admin")
    assert "Evaluations waiting for you" not in home("headteacher")
    forward(cw, client_for)
    assert "Add your school&#39;s evaluation" in home("headteacher") or \
        "Add your school's evaluation" in home("headteacher")
    assert "Evaluations waiting for you" not in home("other_head")
    assert "Final quality-assurance sign-off" not in home("director")
    sign_school(cw, client_for)
    assert "Final quality-assurance sign-off" in home("director")
    assert "Evaluations waiting for you" not in client_for(cw.user("b", "director")).get(
        "/").data.decode()


def test_a_sign_off_on_another_deployment_does_not_count_on_the_directors_home(cw,
                                                                                 client_for):
    """Issue 20: the home panel's sign-off clause must read each school's evaluation *of this
    deployment*. ``both`` receives two schools and only the first has signed it off; the second
    school signed off ``other`` (its only receiving school). Only ``other`` waits for the
    director; an uncorrelated EXISTS listed ``both`` too."""
    import re

    from .. import factories

    s = cw.a
    second = factories.school(s.alliance, "Second Primary")
    factories.user(s.alliance, "headteacher", second, name="Second Head")  # confirms, signs
    head = s.users["headteacher"]

    def evaluating(schools, signed):
        r = factories.support_request(s.alliance, head, schools, status="matching")
        d = factories.advance(factories.deployment(r, s.leader), "evaluation", delivered=2)
        for school in signed:
            db.session.add(Evaluation(deployment_id=d.id, kind="school", school_id=school.id,
                                      author_id=s.users["admin"].id, status="signed_off"))
        return d

    both = evaluating([s.receiving, second], signed=[s.receiving])
    other = evaluating([second], signed=[second])
    db.session.commit()
    body = client_for(s.users["director"]).get("/").data.decode()
    panel = re.search(r'id="panel-evaluations-title".*?</ul>', body, re.S).group(0)
    waiting = re.findall(r'>([^<:]+): [^<]*</a> – ([^<]+)</li>', panel)
    sign_off = "Final quality-assurance sign-off"
    assert (other.reference, sign_off) in waiting
    assert (both.reference, sign_off) not in waiting, waiting
