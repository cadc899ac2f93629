"""The live action plan, first contact, visits and variations over HTTP."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import g
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import select

from portal.extensions import db
from portal.models import Action, AuditEvent, Deployment, PlanRevision, Variation, Visit
from tests import factories
from tests.factories import plans as fd

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
SEES_PLAN = {"headteacher": True, "sle": True, "home_school": False, "director": True,
             "admin": True, "board": False, "other_head": False}


@pytest.fixture
def plan_world(world):
    plan, o, a1, a2 = fd.plans_world(world)
    return world, plan, o, a1, a2


def _action_data(a: Action, **changes) -> dict:
    values = {"description": a.description, "owner": a.owner,
              "due_date": a.due_date.isoformat() if a.due_date else "", "status": a.status,
              "success_criteria": a.success_criteria,
              "outcome_id": str(a.outcome_id or ""), "version": str(a.version)}
    values.update(changes)
    data = {f"a{a.id}-{k}": v for k, v in values.items()}
    if a.between_visits:
        data[f"a{a.id}-between_visits"] = "y"
    return data


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# ------------------------------------------------------------------------------ access


def _read_urls(w, plan, a1):
    d = w.a.deployment.id
    return [f"/deployments/{d}/plan", f"/deployments/{d}/plan/print",
            f"/deployments/{d}/plan/history", f"/plans/{plan.id}/poll?since=0",
            f"/plans/action/{a1.id}"]


@pytest.mark.parametrize(("role", "allowed"), SEES_PLAN.items())
def test_plan_pages_are_scoped(plan_world, client_for, role, allowed):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.user("a", role))
    for url in _read_urls(w, plan, a1):
        r = c.get(url, headers={"HX-Request": "true"} if "/plans/action" in url else {})
        assert r.status_code == (200 if allowed else 404), url


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
def test_other_alliances_plans_answer_404(plan_world, client_for, role):
    w, *_ = plan_world
    plan_b = fd.plan_of(w.b.deployment)
    a_b = fd.action(plan_b)
    db.session.commit()
    c = client_for(w.user("a", role))
    for url in _read_urls(w, plan_b, a_b):
        url = url.replace(f"/deployments/{w.a.deployment.id}/",
                          f"/deployments/{w.b.deployment.id}/")
        assert c.get(url).status_code == 404, url
    # a director may lead a commission, so uses the plan's routes too (issue 16)
    expected = 404 if role in ("sle", "director") else 403
    assert c.post(f"/plans/action/{a_b.id}", _action_data(a_b, owner="x")).status_code \
        == expected
    assert c.get(f"/plans/action/{a_b.id}/edit").status_code == expected


@pytest.mark.parametrize("role", ["headteacher", "home_school", "director", "admin", "board"])
def test_only_the_leader_may_change_the_plan(plan_world, client_for, role):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.user("a", role))
    assert c.get(f"/plans/action/{a1.id}/edit").status_code == 403
    assert c.post(f"/plans/action/{a1.id}", _action_data(a1, owner="Hacker")).status_code == 403
    assert c.post(f"/plans/action/{a1.id}/delete", {"version": "1"}).status_code == 403
    assert c.post(f"/plans/action/{a1.id}/move", {"direction": "up"}).status_code == 403
    assert c.post(f"/plans/{plan.id}/actions", {"new-action-description": "x"}).status_code \
        == 403
    assert c.post(f"/plans/{plan.id}/text", {"text-notes": "x", "text-version": "1"}) \
        .status_code == 403
    assert c.post(f"/deployments/{w.a.deployment.id}/first-contact").status_code == 403
    assert c.get(f"/deployments/{w.a.deployment.id}/visits/new").status_code == 403
    assert _fresh(Action, a1.id).owner == "Class teacher"
    assert _fresh(Deployment, w.a.deployment.id).first_contact_at is None


@pytest.mark.parametrize("url", ["/deployments/{d}/plan", "/plans/{p}/poll?since=1",
                                 "/deployments/{d}/plan/history"])
def test_strangers_are_sent_to_sign_in(plan_world, anon, url):
    w, plan, *_ = plan_world
    r = anon.get(url.format(d=w.a.deployment.id, p=plan.id))
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_strangers_cannot_post(plan_world, anon):
    w, plan, o, a1, _ = plan_world
    r = anon.post(f"/plans/action/{a1.id}", _action_data(a1, owner="x"))
    assert r.status_code == 302
    assert _fresh(Action, a1.id).owner == "Class teacher"


def test_missing_csrf_changes_nothing(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    r = client_for(w.a.leader).post(f"/plans/action/{a1.id}", _action_data(a1, owner="x"),
                                    csrf=False)
    # nothing saved; what was typed is kept for the leader to check and send again
    assert r.status_code == 303 and _fresh(Action, a1.id).owner == "Class teacher"
    assert "portal_draft=" in r.headers.get("Set-Cookie", "")


# ------------------------------------------------------------------------- editing


def test_leader_page_has_edit_controls_viewer_page_polls(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    body = client_for(w.a.leader).get(f"/deployments/{w.a.deployment.id}/plan").data.decode()
    assert f'hx-get="/plans/action/{a1.id}/edit"' in body and "every 3s" not in body
    head = client_for(w.user("a", "headteacher")).get(
        f"/deployments/{w.a.deployment.id}/plan").data.decode()
    assert f"/plans/action/{a1.id}/edit" not in head
    assert f'hx-get="/plans/{plan.id}/poll?since={plan.revision}"' in head
    assert 'hx-trigger="every 3s"' in head and "Model reasoning talk in Year 4" in head


def test_htmx_edit_then_save_without_reload(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    form = c.htmx_get(f"/plans/action/{a1.id}/edit")
    assert form.status_code == 200
    text = form.data.decode()
    assert "<html" not in text and f'id="action-{a1.id}"' in text
    assert f'name="a{a1.id}-version" type="hidden" value="1"' in text
    r = c.post(f"/plans/action/{a1.id}", _action_data(a1, status="on_track", owner="Ms Khan"),
               htmx=True)
    assert r.status_code == 200
    row = r.data.decode()
    assert "<html" not in row and "Ms Khan" in row and "On track" in row
    saved = _fresh(Action, a1.id)
    assert saved.owner == "Ms Khan" and saved.status == "on_track" and saved.version == 2


def test_no_js_edit_page_and_save_redirect(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    page = c.get(f"/plans/action/{a1.id}/edit")
    assert page.status_code == 200 and "<html" in page.data.decode()
    r = c.post(f"/plans/action/{a1.id}", _action_data(a1, owner="Mr Patel"))
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/deployments/{w.a.deployment.id}/plan#action-{a1.id}")
    assert _fresh(Action, a1.id).owner == "Mr Patel"


def test_bad_input_is_422_beside_the_field_and_nothing_saved(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    r = client_for(w.a.leader).post(f"/plans/action/{a1.id}",
                                    _action_data(a1, description="", owner="Changed"), htmx=True)
    assert r.status_code == 422
    body = r.data.decode()
    assert "Describe the action" in body and f'id="a{a1.id}-description-error"' in body
    assert _fresh(Action, a1.id).owner == "Class teacher"


def test_stale_save_answers_409_with_both_texts(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    tab1, tab2 = client_for(w.a.leader), client_for(w.a.leader)
    stale = _action_data(a1, description="Tab two: model talk with sentence stems")
    r1 = tab1.post(f"/plans/action/{a1.id}",
                   _action_data(a1, description="Tab one: model talk in Year 4 and 5"), htmx=True)
    assert r1.status_code == 200
    r2 = tab2.post(f"/plans/action/{a1.id}", stale, htmx=True)
    assert r2.status_code == 409
    body = r2.data.decode()
    assert "Tab one: model talk in Year 4 and 5" in body  # the newer saved text ...
    assert "Tab two: model talk with sentence stems" in body  # ... beside mine
    assert f'name="a{a1.id}-version" type="hidden" value="2"' in body  # merge on the new one
    assert _fresh(Action, a1.id).description == "Tab one: model talk in Year 4 and 5"
    # saving the merge on the new version works
    merged = _action_data(_fresh(Action, a1.id), description="Merged words")
    assert tab2.post(f"/plans/action/{a1.id}", merged, htmx=True).status_code == 200
    assert _fresh(Action, a1.id).description == "Merged words"


def test_stale_save_without_js_also_shows_the_merge(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    first, second = _action_data(a1, owner="First"), _action_data(a1, owner="Second")
    c.post(f"/plans/action/{a1.id}", first)
    r = c.post(f"/plans/action/{a1.id}", second)
    assert r.status_code == 409 and "<html" in r.data.decode()
    assert "First" in r.data.decode() and "Second" in r.data.decode()


def test_save_of_a_removed_row_is_409_and_keeps_my_text(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    data = _action_data(a1, description="My careful words")
    assert c.post(f"/plans/action/{a1.id}/delete", {"version": "1"}, htmx=True).status_code \
        == 200
    r = c.post(f"/plans/action/{a1.id}", data, htmx=True)
    assert r.status_code == 409  # gone: never a silent success, and my words come back
    body = r.data.decode()
    assert "removed this action" in body and "My careful words" in body
    # a leader of another alliance learns nothing about it
    other = client_for(w.user("b", "sle")).post(f"/plans/action/{a1.id}", data, htmx=True)
    assert other.status_code == 404


def test_two_browsers_editing_different_rows_both_save(plan_world, client_for):
    w, plan, o, a1, a2 = plan_world
    tab1, tab2 = client_for(w.a.leader), client_for(w.a.leader)
    d1, d2 = _action_data(a1, owner="One"), _action_data(a2, owner="Two")
    assert tab1.post(f"/plans/action/{a1.id}", d1, htmx=True).status_code == 200
    assert tab2.post(f"/plans/action/{a2.id}", d2, htmx=True).status_code == 200
    assert _fresh(Action, a1.id).owner == "One" and _fresh(Action, a2.id).owner == "Two"


def test_add_row_htmx_appends_and_resets_the_form(plan_world, client_for):
    w, plan, o, a1, a2 = plan_world
    r = client_for(w.a.leader).post(
        f"/plans/{plan.id}/actions",
        {"new-action-description": "Scrutinise books", "new-action-status": "on_track",
         "new-action-owner": "Head", "new-action-outcome_id": str(o.id)}, htmx=True)
    assert r.status_code == 200
    body = r.data.decode()
    assert 'id="add-action"' in body and 'hx-swap-oob="beforeend:#actions-body"' in body
    assert "Scrutinise books" in body
    new = db.session.scalar(select(Action).where(Action.description == "Scrutinise books"))
    assert new.position == a2.position + 1 and new.outcome_id == o.id


def test_add_row_bad_input_422(plan_world, client_for):
    w, plan, *_ = plan_world
    c = client_for(w.a.leader)
    r = c.post(f"/plans/{plan.id}/actions", {"new-action-description": ""}, htmx=True)
    assert r.status_code == 422 and "Describe the action" in r.data.decode()
    r = c.post(f"/plans/{plan.id}/outcomes", {"new-outcome-text": ""})
    assert r.status_code == 422 and "<html" in r.data.decode()
    assert db.session.scalar(select(PlanRevision.id)) is None


def test_add_outcome_without_js(plan_world, client_for):
    w, plan, *_ = plan_world
    r = client_for(w.a.leader).post(f"/plans/{plan.id}/outcomes",
                                    {"new-outcome-text": "Better feedback",
                                     "new-outcome-standard": "TS6"})
    assert r.status_code == 303
    db.session.expire_all()
    assert [o.text for o in fd.plan_of(w.a.deployment).outcomes][-1] == "Better feedback"


def test_move_and_delete(plan_world, client_for):
    w, plan, o, a1, a2 = plan_world
    c = client_for(w.a.leader)
    r = c.post(f"/plans/action/{a2.id}/move", {"direction": "up"}, htmx=True)
    assert r.status_code == 200
    body = r.data.decode()
    assert body.index(f'id="action-{a2.id}"') < body.index(f'id="action-{a1.id}"')
    r = c.post(f"/plans/action/{a1.id}/delete", {"version": "1", "confirmed": "yes"})
    assert r.status_code == 303 and _fresh(Action, a1.id) is None


def test_remove_without_javascript_asks_first(plan_world, client_for):
    """With JavaScript the button's data-confirm asks; without it, Remove shows a page that
    asks, and only its "Yes, remove it" removes the row (issue 18, item 7)."""
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    r = c.post(f"/plans/action/{a1.id}/delete", {"version": "1"})
    body = r.data.decode()
    assert r.status_code == 200 and "Remove this action from the plan?" in body
    assert "Model reasoning talk in Year 4" in body and 'name="confirmed" value="yes"' in body
    assert _fresh(Action, a1.id) is not None  # nothing removed yet
    r = c.post(f"/plans/action/{a1.id}/delete", {"version": "1", "confirmed": "yes"})
    assert r.status_code == 303 and _fresh(Action, a1.id) is None


def test_remove_confirmation_is_for_the_leader_only(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    r = client_for(w.b.leader).post(f"/plans/action/{a1.id}/delete", {"version": "1"})
    assert r.status_code == 404 and _fresh(Action, a1.id) is not None


def test_stale_delete_is_409_and_removes_nothing(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    c = client_for(w.a.leader)
    c.post(f"/plans/action/{a1.id}", _action_data(a1, owner="Changed"), htmx=True)
    r = c.post(f"/plans/action/{a1.id}/delete", {"version": "1"}, htmx=True)
    assert r.status_code == 409 and "changed since you loaded it" in r.data.decode()
    assert _fresh(Action, a1.id) is not None


def test_text_save_and_conflict(plan_world, client_for):
    w, plan, *_ = plan_world
    c = client_for(w.a.leader)
    r = c.post(f"/plans/{plan.id}/text", {"text-next_steps": "Observe Y4", "text-notes": "",
                                          "text-version": "1"}, htmx=True)
    assert r.status_code == 200 and "Saved." in r.data.decode()
    r = c.post(f"/plans/{plan.id}/text", {"text-next_steps": "Stale words", "text-notes": "",
                                          "text-version": "1"}, htmx=True)
    assert r.status_code == 409
    assert "Observe Y4" in r.data.decode() and "Stale words" in r.data.decode()


def test_plan_frozen_once_not_active(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    factories.advance(w.a.deployment, "evaluation")
    db.session.commit()
    c = client_for(w.a.leader)
    assert c.post(f"/plans/action/{a1.id}", _action_data(a1, owner="x")).status_code == 409
    body = c.get(f"/deployments/{w.a.deployment.id}/plan").data.decode()
    assert "every 3s" in body and "only while the deployment is active" in body


# ---------------------------------------------------------------------- live polling


def test_poll_is_204_with_one_plan_query_when_nothing_changed(plan_world, client_for):
    w, plan, *_ = plan_world
    c = client_for(w.user("a", "headteacher"))
    url = f"/plans/{plan.id}/poll?since={plan.revision}"
    c.get(url)  # warm up
    g.pop("_sqlalchemy_queries", None)
    r = c.get(url, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.data == b""
    queries = [q.statement for q in get_recorded_queries()]
    plan_queries = [q for q in queries if "action_plan" in q]
    assert len(plan_queries) == 1, queries
    assert len(queries) <= 2, queries  # the signed-in user, and the plan's revision


def test_poll_returns_the_changed_plan(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    since = plan.revision
    client_for(w.a.leader).post(f"/plans/action/{a1.id}",
                                _action_data(a1, description="Changed during the visit"),
                                htmx=True)
    r = client_for(w.user("a", "headteacher")).get(f"/plans/{plan.id}/poll?since={since}",
                                                   headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.data.decode()
    assert "<html" not in body and "Changed during the visit" in body
    assert f"since={since + 1}" in body and 'hx-trigger="every 3s"' in body


# ----------------------------------------------------------------- history and print


def test_history_shows_who_when_before_after(plan_world, client_for):
    w, plan, o, a1, _ = plan_world
    client_for(w.a.leader).post(f"/plans/action/{a1.id}", _action_data(a1, owner="Ms Khan"))
    body = client_for(w.user("a", "director")).get(
        f"/deployments/{w.a.deployment.id}/plan/history").data.decode()
    assert "Alpha Leader" in body and "Class teacher" in body and "Ms Khan" in body
    assert "Changed an action" in body


def test_print_view(plan_world, client_for):
    w, *_ = plan_world
    body = client_for(w.user("a", "headteacher")).get(
        f"/deployments/{w.a.deployment.id}/plan/print").data.decode()
    assert 'class="print-plan"' in body and "Model reasoning talk in Year 4" in body
    assert "Printable version" not in body


def test_print_css_hides_the_chrome():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/portal.css").read_text()
    assert "@media print" in css and ".site-header" in css.split("@media print", 1)[1]


# ---------------------------------------------------------- the panel, contact, visits


@pytest.mark.parametrize(("role", "clock"), [("sle", True), ("admin", True), ("director", True),
                                             ("headteacher", False), ("home_school", False)])
def test_panel_shows_contact_clock_and_days(plan_world, client_for, role, clock):
    w, *_ = plan_world
    body = client_for(w.user("a", role)).get(f"/deployments/{w.a.deployment.id}").data.decode()
    assert 'id="panel-plans-title"' in body
    assert re.search(r'id="delivery-days">0 days of 4 days agreed', body)
    assert ("Target: within 7 days" in body) is clock
    assert ("Open the action plan" in body) is SEES_PLAN[role]


def test_overdue_first_contact_is_flagged(world, client_for):
    factories.advance(world.a.deployment, "active", confirmed_days_ago=9)
    db.session.commit()
    body = client_for(world.user("a", "admin")).get(
        f"/deployments/{world.a.deployment.id}").data.decode()
    assert "badge-overdue" in body and "Overdue by 2 days" in body


def test_log_first_contact_once(plan_world, client_for):
    w, *_ = plan_world
    c = client_for(w.a.leader)
    url = f"/deployments/{w.a.deployment.id}/first-contact"
    assert c.post(url, {"note": "Phoned"}).status_code == 303
    first = _fresh(Deployment, w.a.deployment.id).first_contact_at
    assert first is not None
    assert c.post(url).status_code == 303  # a double click changes nothing
    assert _fresh(Deployment, w.a.deployment.id).first_contact_at == first
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "deployment.first_contact")).all()
    assert len(events) == 1
    body = client_for(w.user("a", "director")).get(
        f"/deployments/{w.a.deployment.id}").data.decode()
    assert "badge-met" in body and "Met in" in body


def test_log_visit_and_days_shown(plan_world, client_for):
    w, plan, o, a1, a2 = plan_world
    c = client_for(w.a.leader)
    url = f"/deployments/{w.a.deployment.id}/visits/new"
    assert c.get(url).status_code == 200
    r = c.post(url, {"visit_date": date.today().isoformat(), "half_days": "2",
                     "notes": "Observed two lessons", "actions": [str(a1.id)],
                     f"status-{a1.id}": "at_risk", f"status-{a2.id}": "done"})
    assert r.status_code == 303
    v = db.session.scalar(select(Visit))
    assert v.half_days == 2 and [a.id for a in v.actions] == [a1.id]
    assert _fresh(Action, a1.id).status == "at_risk"  # linked and updated
    assert _fresh(Action, a2.id).status == "not_started"  # not worked on: left alone
    assert c.post(url, {"visit_date": date.today().isoformat(), "half_days": "1"}) \
        .status_code == 422  # same day again: refused
    assert _fresh(Deployment, w.a.deployment.id).half_days_delivered == 2
    for role in ("sle", "headteacher", "home_school"):
        body = client_for(w.user("a", role)).get(
            f"/deployments/{w.a.deployment.id}").data.decode()
        assert "1 day of 4 days agreed" in body
    listing = client_for(w.user("a", "admin")).get("/deployments/").data.decode()
    assert "1 day of 4 days" in listing


def test_visit_beyond_agreed_days_is_422_and_points_to_a_variation(plan_world, client_for):
    w, *_ = plan_world
    w.a.deployment.half_days_agreed = 1
    db.session.commit()
    r = client_for(w.a.leader).post(f"/deployments/{w.a.deployment.id}/visits/new",
                                    {"visit_date": date.today().isoformat(), "half_days": "2"})
    assert r.status_code == 422 and "variation" in r.data.decode()
    assert db.session.scalar(select(Visit.id)) is None


def test_visit_bad_input(plan_world, client_for):
    w, *_ = plan_world
    r = client_for(w.a.leader).post(
        f"/deployments/{w.a.deployment.id}/visits/new",
        {"visit_date": (date.today() + timedelta(days=3)).isoformat(), "half_days": "2"})
    assert r.status_code == 422 and "cannot be in the future" in r.data.decode()


def test_variation_flow(plan_world, client_for):
    w, *_ = plan_world
    d = w.a.deployment
    leader = client_for(w.a.leader)
    assert leader.post(f"/deployments/{d.id}/variations/new",
                       {"half_days": "0", "reason": ""}).status_code == 422
    assert leader.post(f"/deployments/{d.id}/variations/new",
                       {"half_days": "4", "reason": "Two more coaching days"}).status_code == 303
    v = db.session.scalar(select(Variation))
    head, director = client_for(w.user("a", "headteacher")), client_for(w.user("a", "director"))
    page = head.get(f"/deployments/{d.id}").data.decode()
    assert "Approve the extra days" in page
    assert client_for(w.user("a", "admin")).post(
        f"/variations/{v.id}/approve").status_code == 403
    assert client_for(w.user("a", "other_head")).post(
        f"/variations/{v.id}/approve").status_code == 404
    assert client_for(w.user("b", "director")).post(
        f"/variations/{v.id}/approve").status_code == 404
    assert head.post(f"/variations/{v.id}/approve").status_code == 303
    assert head.post(f"/variations/{v.id}/approve").status_code == 303  # double click
    assert _fresh(Deployment, d.id).half_days_agreed == 8
    assert director.post(f"/variations/{v.id}/approve").status_code == 303
    assert _fresh(Variation, v.id).status == "approved"
    # approved, the days wait for every party to sign version 2 of the agreement
    assert _fresh(Deployment, d.id).half_days_agreed == 8
    assert _fresh(Deployment, d.id).status == "active"
    page = leader.get(f"/deployments/{d.id}").data.decode()
    assert 'id="days-waiting"' in page and "waiting for every party" in page
    assert "version 2" in page
    page = leader.get(f"/deployments/{d.id}/visits/new").data.decode()
    assert 'id="days-waiting"' in page
    page = head.get(f"/deployments/{d.id}/agreement").data.decode()
    assert 'id="amendment-waiting"' in page and "Until then version 1" in page
    changes = page[page.index('id="changes"'):page.index("</table>", page.index('id="changes"'))]
    assert "What changed from version 1" in changes
    assert re.search(r"<th scope=\"row\">Days</th><td>4 days</td><td>6 days</td>", changes)
    assert "Total cost" in changes and "£" in changes
    assert "Start date" not in changes  # only what changed
    printed = head.get(f"/deployments/{d.id}/agreement/print?version=1").data.decode()
    assert "Signed by every party, and since replaced by a later version." in printed
    from portal.domain.agreements import current
    for role in ("sle", "home_school", "director", "headteacher"):
        user = w.user("a", role)
        ag = current(d.id)
        assert client_for(user).post(
            f"/deployments/{d.id}/agreement/sign",
            {"version": ag.version, "content_hash": ag.content_hash,
             "typed_name": user.name}).status_code in (200, 303)
    assert _fresh(Deployment, d.id).half_days_agreed == 12
    page = leader.get(f"/deployments/{d.id}").data.decode()
    assert 'id="days-waiting"' not in page
    page = head.get(f"/deployments/{d.id}/agreement").data.decode()
    assert 'id="amendment-waiting"' not in page and "What changed from version 1" in page
    # another alliance's users see no amendment
    assert client_for(w.user("b", "director")).get(
        f"/deployments/{d.id}/agreement").status_code == 404


def test_variation_decline(plan_world, client_for):
    w, *_ = plan_world
    d = w.a.deployment
    client_for(w.user("a", "admin")).post(f"/deployments/{d.id}/variations/new",
                                          {"half_days": "2", "reason": "More"})
    v = db.session.scalar(select(Variation))
    director = client_for(w.user("a", "director"))
    director.post(f"/variations/{v.id}/decline", {f"v{v.id}-reason": ""})
    assert _fresh(Variation, v.id).status == "pending"
    director.post(f"/variations/{v.id}/decline", {f"v{v.id}-reason": "No budget"})
    assert _fresh(Variation, v.id).status == "declined"
    assert _fresh(Deployment, d.id).half_days_agreed == 8


@pytest.mark.parametrize("role", ["headteacher", "home_school", "board"])
def test_variation_request_forbidden_roles(plan_world, client_for, role):
    w, *_ = plan_world
    r = client_for(w.user("a", role)).post(f"/deployments/{w.a.deployment.id}/variations/new",
                                           {"half_days": "2", "reason": "x"})
    assert r.status_code == 403
    assert db.session.scalar(select(Variation.id)) is None


def test_start_plan_when_missing(world, client_for):
    fd.without_plan(factories.advance(world.a.deployment, "active"))
    db.session.commit()
    c = client_for(world.a.leader)
    assert "Start the action plan" in c.get(
        f"/deployments/{world.a.deployment.id}/plan").data.decode()
    assert client_for(world.user("a", "headteacher")).post(
        f"/deployments/{world.a.deployment.id}/plan").status_code == 403
    assert c.post(f"/deployments/{world.a.deployment.id}/plan").status_code == 303
    assert c.post(f"/deployments/{world.a.deployment.id}/plan").status_code == 303
    assert fd.plan_of(world.a.deployment) is not None


# ------------------------------------------------------------ truly at the same time


def _race(app, leader, posts):
    """Send each (url, data) from its own client and thread, released together."""
    import threading

    from tests.conftest import PortalClient, csrf_token

    clients = [PortalClient(app, leader) for _ in posts]
    tokens = [csrf_token(c.http, app) for c in clients]
    db.session.remove()  # let the threads have the database
    barrier = threading.Barrier(len(posts))
    results: list[int] = [0] * len(posts)

    def run(i):
        url, data = posts[i]
        barrier.wait()
        r = clients[i].http.post(url, data={**data, "csrf_token": tokens[i]},
                                 headers={"HX-Request": "true"})
        results[i] = r.status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_browsers_saving_the_same_row_at_once_one_wins_one_merges(app, plan_world):
    w, plan, o, a1, _ = plan_world
    url = f"/plans/action/{a1.id}"
    one, two = _action_data(a1, owner="Racer one"), _action_data(a1, owner="Racer two")
    leader = w.a.leader
    results = _race(app, leader, [(url, one), (url, two)])
    assert sorted(results) == [200, 409]
    saved = _fresh(Action, a1.id)
    assert saved.version == 2 and saved.owner in ("Racer one", "Racer two")
    assert db.session.scalar(select(PlanRevision.id).where(PlanRevision.entity_id == a1.id))


def test_two_browsers_saving_different_rows_at_once_both_win(app, plan_world):
    w, plan, o, a1, a2 = plan_world
    one, two = _action_data(a1, owner="Racer one"), _action_data(a2, owner="Racer two")
    leader = w.a.leader
    start = plan.revision
    results = _race(app, leader, [(f"/plans/action/{a1.id}", one),
                                  (f"/plans/action/{a2.id}", two)])
    assert results == [200, 200]
    assert _fresh(Action, a1.id).owner == "Racer one"
    assert _fresh(Action, a2.id).owner == "Racer two"
    revisions = db.session.scalars(select(PlanRevision.revision)
                                   .where(PlanRevision.plan_id == plan.id)).all()
    assert sorted(revisions) == [start + 1, start + 2]  # each change its own revision


def test_demo_gives_active_deployments_a_started_plan(app, db):
    from portal.models import ActionPlan

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    active = db.session.scalars(select(Deployment).where(Deployment.status == "active")).all()
    assert active
    for d in active:
        plan = db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == d.id))
        assert plan is not None and plan.actions and plan.outcomes and plan.next_steps


@pytest.mark.parametrize(("role", "shown"), [("sle", True), ("admin", True), ("director", True),
                                             ("headteacher", False), ("home_school", False)])
def test_home_lists_deployments_awaiting_first_contact(world, client_for, role, shown):
    factories.advance(world.a.deployment, "active", confirmed_days_ago=9)
    factories.advance(world.b.deployment, "active", confirmed_days_ago=9)
    db.session.commit()
    body = client_for(world.user("a", role)).get("/").data.decode()
    assert ("Waiting for first contact" in body) is shown
    assert world.b.deployment.reference not in body
    if shown:
        assert "Overdue by 2 days" in body and world.a.deployment.reference in body
    world.a.deployment.first_contact_at = world.a.deployment.confirmed_at
    db.session.commit()
    assert "Waiting for first contact" not in client_for(world.user("a", role)).get("/").data \
        .decode()


def test_a_refused_add_keeps_the_saved_notes_on_the_page(plan_world, client_for):
    w, plan, *_ = plan_world
    c = client_for(w.a.leader)
    c.post(f"/plans/{plan.id}/text", {"text-next_steps": "Keep me", "text-notes": "Me too",
                                      "text-version": "1"})
    r = c.post(f"/plans/{plan.id}/actions", {"new-action-description": ""})
    assert r.status_code == 422
    body = r.data.decode()
    assert "Keep me</textarea>" in body and "Me too</textarea>" in body


def _write_urls(w, plan, a1, v=None):
    d = w.a.deployment.id
    urls = [f"/deployments/{d}/plan", f"/plans/{plan.id}/actions", f"/plans/{plan.id}/outcomes",
            f"/plans/action/{a1.id}", f"/plans/action/{a1.id}/delete",
            f"/plans/action/{a1.id}/move", f"/plans/{plan.id}/text",
            f"/deployments/{d}/first-contact", f"/deployments/{d}/visits/new",
            f"/deployments/{d}/variations/new"]
    if v is not None:
        urls += [f"/variations/{v.id}/approve", f"/variations/{v.id}/decline"]
    return urls


def test_every_write_route_hides_another_alliances_objects(plan_world, client_for, anon):
    from portal.domain import plans as domain

    w, plan, o, a1, _ = plan_world
    v = domain.request_variation(w.a.deployment, w.a.leader, 2, "More")
    db.session.commit()
    before = db.session.scalar(select(PlanRevision.id).order_by(PlanRevision.id.desc()))
    for url in _write_urls(w, plan, a1, v):
        for role in ("sle", "director", "headteacher"):
            r = client_for(w.user("b", role)).post(url, {"direction": "up", "version": "1"})
            decides = url.startswith("/variations/")
            # the director may lead a commission, so uses the leader's routes too (issue 16)
            may_use = role in ("sle", "director") if not decides \
                else role in ("director", "headteacher")
            if url.endswith("/variations/new"):
                may_use = role in ("sle", "director")
            # a role that may use the route still cannot see B's objects: 404, never 403
            assert r.status_code == (404 if may_use else 403), (url, role, r.status_code)
        assert anon.post(url).status_code == 302, url
    assert db.session.scalar(select(PlanRevision.id).order_by(PlanRevision.id.desc())) == before
    assert _fresh(Variation, v.id).status == "pending"
    assert _fresh(Deployment, w.a.deployment.id).first_contact_at is None


def test_starting_a_plan_is_audited(world, client_for):
    fd.without_plan(factories.advance(world.a.deployment, "active"))
    db.session.commit()
    client_for(world.a.leader).post(f"/deployments/{world.a.deployment.id}/plan")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.started"))


def test_history_reads_in_words_not_codes(plan_world, client_for):
    """Issue 15, item 10: no "not_started", no "Between visits False", dates as 23 Nov 2026."""
    w, plan, o, a1, _ = plan_world
    client_for(w.a.leader).post(f"/plans/action/{a1.id}",
                                _action_data(a1, status="on_track", owner="Ms Khan"))
    body = client_for(w.user("a", "headteacher")).get(
        f"/deployments/{w.a.deployment.id}/plan/history").data.decode()
    assert "On track" in body and "Changed an action" in body
    for code in ("not_started", "on_track", "False", "True", "Outcome id", "outcome_id"):
        assert code not in body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body)


# ------------------------------------------------------- visits planned ahead (issue 15, 6)


def test_plan_a_visit_ahead_then_log_it_as_delivered(plan_world, client_for):
    w, plan, o, a1, a2 = plan_world
    d = w.a.deployment
    leader = client_for(w.a.leader)
    when = date.today() + timedelta(days=6)
    assert leader.get(f"/deployments/{d.id}/visits/plan").status_code == 200
    r = leader.post(f"/deployments/{d.id}/visits/plan",
                    {"visit_date": when.isoformat(), "half_days": "1",
                     "notes": "Observe Year 4 maths"})
    assert r.status_code == 303
    v = db.session.scalar(select(Visit))
    assert v.status == "planned" and _fresh(Deployment, d.id).half_days_delivered == 0
    # the school and the leader see it, in words
    for role in ("headteacher", "sle"):
        body = client_for(w.user("a", role)).get(f"/deployments/{d.id}").data.decode()
        planned = body[body.index("Planned visits"):body.index("Visits delivered")]
        assert f"{when.day} {when:%b %Y}" in planned and "half a day" in planned
        assert "Observe Year 4 maths" in planned
    head_page = client_for(w.user("a", "headteacher")).get(f"/deployments/{d.id}").data.decode()
    assert "Log as delivered" not in head_page and f"/visits/{v.id}/cancel" not in head_page
    # not before the day
    early = leader.get(f"/visits/{v.id}/delivered")
    assert early.status_code == 409 and "logged as delivered from" in early.data.decode()
    assert leader.post(f"/visits/{v.id}/delivered", {"notes": "early"}).status_code == 409
    # a visit planned for today can be logged as delivered today
    leader.post(f"/deployments/{d.id}/visits/plan",
                {"visit_date": date.today().isoformat(), "half_days": "1"})
    v = db.session.scalar(select(Visit).where(Visit.visit_date == date.today()))
    assert leader.get(f"/visits/{v.id}/delivered").status_code == 200
    r = leader.post(f"/visits/{v.id}/delivered", {"notes": "Team-taught",
                                                  "actions": [str(a1.id)],
                                                  f"status-{a1.id}": "on_track"})
    assert r.status_code == 303
    v = _fresh(Visit, v.id)
    assert v.status == "delivered" and v.notes == "Team-taught"
    assert _fresh(Deployment, d.id).half_days_delivered == 1
    assert _fresh(Action, a1.id).status == "on_track"
    again = leader.post(f"/visits/{v.id}/delivered", {"notes": "twice"})
    assert again.status_code == 409 and _fresh(Deployment, d.id).half_days_delivered == 1


def test_planning_in_the_past_is_refused_beside_the_field(plan_world, client_for):
    w, *_ = plan_world
    r = client_for(w.a.leader).post(
        f"/deployments/{w.a.deployment.id}/visits/plan",
        {"visit_date": (date.today() - timedelta(days=1)).isoformat(), "half_days": "2"})
    body = r.data.decode()
    assert r.status_code == 422 and "today or later" in body and 'id="visit_date-error"' in body
    assert db.session.scalar(select(Visit.id)) is None


def test_cancel_a_planned_visit(plan_world, client_for):
    w, *_ = plan_world
    leader = client_for(w.a.leader)
    leader.post(f"/deployments/{w.a.deployment.id}/visits/plan",
                {"visit_date": (date.today() + timedelta(days=2)).isoformat(), "half_days": "2"})
    v = db.session.scalar(select(Visit))
    assert client_for(w.user("a", "headteacher")).post(f"/visits/{v.id}/cancel").status_code \
        == 403
    assert client_for(w.b.leader).post(f"/visits/{v.id}/cancel").status_code in (403, 404)
    assert leader.post(f"/visits/{v.id}/cancel").status_code == 303
    assert db.session.scalar(select(Visit.id)) is None
    assert leader.post(f"/visits/{v.id}/cancel").status_code == 404


def _autocommit_of_each_statement(run) -> list[bool]:
    """Whether each statement ``run()`` issues goes out in autocommit (PostgreSQL's
    connections say so; SQLite's: never, here)."""
    from sqlalchemy import event

    seen: list[bool] = []

    def note(conn, *_args) -> None:
        seen.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen


def _autocommit_in_request(client, url: str, status: int) -> list[bool]:
    from tests.querycount import request_queries

    return _autocommit_of_each_statement(
        lambda: request_queries(client, url, status=status, htmx=True))


def test_the_poll_runs_outside_a_transaction_on_postgresql(plan_world, client_for):
    """Issue 20: on PostgreSQL the BEGIN and ROLLBACK round trips were two of the unchanged
    poll's five (with the pool's ping and its two queries); the poll only reads, so its
    statements run in autocommit. Any other page keeps its transaction."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the poll keeps its transaction (no round trips to save)")
    w, plan, _o, a1, _a2 = plan_world
    c = client_for(w.user("a", "headteacher"))
    poll = _autocommit_in_request(c, f"/plans/{plan.id}/poll?since={plan.revision}", 204)
    assert poll and all(poll), poll
    row = _autocommit_in_request(c, f"/plans/action/{a1.id}", 200)  # one row, drawn again
    assert row and all(row), row
    page = _autocommit_in_request(c, f"/deployments/{w.a.deployment.id}/plan", 200)
    assert page and not any(page), page


def test_a_view_that_only_reads_cannot_write(plan_world):
    """A view marked reads_only runs without a transaction: a flush there would be written at
    once and could never be rolled back, so it raises instead."""
    from portal import unit_of_work

    w, plan, *_ = plan_world
    session = db.session()
    session.info[unit_of_work._READS_ONLY] = True
    try:
        plan.notes = "Changed by a read"
        with pytest.raises(RuntimeError, match="reads_only"):
            session.flush()
    finally:
        session.info.pop(unit_of_work._READS_ONLY)
        session.rollback()


def test_after_the_poll_the_session_is_back_in_transactions(plan_world, client_for):
    """A later request on the same session (a test's shares one) must not write in autocommit:
    the poll hands its connection back as it ends."""
    from sqlalchemy import text

    from portal import unit_of_work

    w, plan, *_ = plan_world
    c = client_for(w.user("a", "headteacher"))
    url = f"/plans/{plan.id}/poll?since={plan.revision}"
    db.session.commit()  # the poll then starts the session's transaction itself
    assert c.get(url, headers={"HX-Request": "true"}).status_code == 204
    assert unit_of_work._READS_ONLY not in db.session().info
    seen = _autocommit_of_each_statement(lambda: db.session.execute(text("SELECT 1")))
    assert seen == [False]
