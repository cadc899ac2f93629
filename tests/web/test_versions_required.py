"""An edit form sent without the version it was drawn from is refused with a message, never
saved over a newer version: the request form, plan rows and text, the deployment's completion
forms, a leader's profile and the alliance's agreement terms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Action, ActionPlan, Alliance, Evaluation, LeaderProfile, SupportRequest
from tests.factories import evaluations as fc
from tests.factories import plans as fd
from tests.factories import requests as fr

NO_VERSION = "did not say which version"


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# ---------------------------------------------------------------------------------- requests


def test_a_request_edit_without_its_version_is_refused(world, client_for):
    spec = fr.specialism()
    db.session.commit()
    draft = world.a.draft
    c = client_for(world.user("a", "headteacher"))
    r = c.post(f"/requests/{draft.id}/edit",
               fr.form_data([world.a.receiving.id], spec.id, title="Overwritten", save="1"))
    assert r.status_code == 409 and NO_VERSION in r.data.decode()
    assert fresh(SupportRequest, draft.id).title == "Alpha draft request"


def test_a_request_edit_with_its_version_is_saved_and_a_stale_one_is_refused(world,
                                                                             client_for):
    spec = fr.specialism()
    db.session.commit()
    draft = world.a.draft
    c = client_for(world.user("a", "headteacher"))
    page = c.get(f"/requests/{draft.id}/edit").data.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = fr.form_data([world.a.receiving.id], spec.id, title="Mine", save="1",
                        version=version)
    assert c.post(f"/requests/{draft.id}/edit", data).status_code == 303
    again = c.post(f"/requests/{draft.id}/edit", {**data, "title": "Older"})
    assert again.status_code == 409 and "Someone changed this request" in again.data.decode()
    assert fresh(SupportRequest, draft.id).title == "Mine"


# ------------------------------------------------------------------------------------ plans


@pytest.fixture
def plan_world(world):
    plan, o, a1, a2 = fd.plans_world(world)
    return world, plan, a1


def test_a_plan_row_saved_without_its_version_is_refused(plan_world, client_for):
    w, plan, a1 = plan_world
    c = client_for(w.a.leader)
    data = {f"a{a1.id}-description": "Overwritten", f"a{a1.id}-status": "done"}
    for htmx in (False, True):
        r = c.post(f"/plans/action/{a1.id}", data, htmx=htmx)
        assert r.status_code == 409 and NO_VERSION in r.data.decode()
    assert fresh(Action, a1.id).description == "Model reasoning talk in Year 4"


def test_a_plan_row_removed_without_its_version_is_refused(plan_world, client_for):
    w, plan, a1 = plan_world
    r = client_for(w.a.leader).post(f"/plans/action/{a1.id}/delete", {})
    assert r.status_code == 409 and NO_VERSION in r.data.decode()
    assert fresh(Action, a1.id) is not None


def test_plan_text_saved_without_its_version_is_refused(plan_world, client_for):
    w, plan, a1 = plan_world
    r = client_for(w.a.leader).post(f"/plans/{plan.id}/text",
                                    {"text-next_steps": "Overwritten", "text-notes": ""})
    assert r.status_code == 409 and NO_VERSION in r.data.decode()
    assert fresh(ActionPlan, plan.id).next_steps == ""


# ------------------------------------------------------------------------------- completion


@pytest.fixture
def cw(db):
    return fc.evaluations_world()


def _completion(cw, path):
    return f"/deployments/{cw.a.deployment.id}/evaluations{path}"


def test_a_qa_note_without_the_deployment_version_is_refused(cw, client_for):
    r = client_for(cw.user("a", "director")).post(_completion(cw, "/qa"),
                                                  {"is_working": "Yes"})
    assert r.status_code == 409 and NO_VERSION in r.data.decode()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Evaluation.id))) == 0


def test_an_early_end_without_the_deployment_version_is_refused(cw, client_for):
    from datetime import date

    r = client_for(cw.user("a", "admin")).post(_completion(cw, "/end-early"), {
        "reason": "Moved school", "last_day_delivered": date.today().isoformat(),
        "half_days_delivered": "2"})
    assert r.status_code == 409 and NO_VERSION in r.data.decode()
    db.session.expire_all()
    assert db.session.get(type(cw.a.deployment), cw.a.deployment.id).status == "active"


# ---------------------------------------------------------------------- profile and terms


def test_a_profile_saved_without_its_version_is_refused(world, client_for):
    leader = world.a.leader
    r = client_for(leader).post("/directory/me", {
        "bio": "Overwritten", "autumn_days": "1", "spring_days": "1", "summer_days": "1"})
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(LeaderProfile.bio).where(
        LeaderProfile.user_id == leader.id)) != "Overwritten"


@pytest.mark.parametrize(("url", "field"), [("/admin/agreement-template", "agreement_terms"),
                                            ("/agreements/terms", "terms")])
def test_the_terms_saved_without_what_was_seen_are_refused(world, client_for, url, field):
    alliance = db.session.get(Alliance, world.a.alliance.id)
    alliance.agreement_terms = "1. Be kind."
    db.session.commit()
    c = client_for(world.user("a", "admin"))
    r = c.post(url, {field: "Overwritten."})
    assert r.status_code == 409 and "1. Be kind." in r.data.decode()
    assert fresh(Alliance, world.a.alliance.id).agreement_terms == "1. Be kind."


def test_the_template_page_refuses_a_stale_save_and_then_saves_on_purpose(world, client_for):
    c = client_for(world.user("a", "admin"))
    page = c.get("/admin/agreement-template").data.decode()
    seen = re.search(r'name="seen_hash" type="hidden" value="([0-9a-f]{64})"', page).group(1)
    alliance = db.session.get(Alliance, world.a.alliance.id)
    alliance.agreement_terms = "Someone else's terms."  # saved meanwhile
    db.session.commit()
    r = c.post("/admin/agreement-template", {"agreement_terms": "Mine.", "seen_hash": seen})
    body = r.data.decode()
    assert r.status_code == 409 and "Someone else&#39;s terms." in body and "Mine." in body
    assert fresh(Alliance, world.a.alliance.id).agreement_terms == "Someone else's terms."
    now = re.search(r'name="seen_hash" type="hidden" value="([0-9a-f]{64})"', body).group(1)
    r = c.post("/admin/agreement-template", {"agreement_terms": "Mine.", "seen_hash": now})
    assert r.status_code == 303
    assert fresh(Alliance, world.a.alliance.id).agreement_terms == "Mine."
