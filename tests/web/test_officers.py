"""Officers for a group of schools (Sefton A.1, East Sussex step 2): an EIP or local authority
officer files a request on behalf of schools of their group, follows it and evaluates the whole
group; each school's headteacher confirms, signs and evaluates for their own school."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.domain import brokering
from portal.domain import evaluations as ev
from portal.extensions import db
from portal.models import AuditEvent, Evaluation, SupportRequest
from tests import factories
from tests.factories.requests import form_data


@pytest.fixture
def client_for(client_for):
    """Several users in one test: forget the cached signed-in user before every call."""
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


def _requests() -> int:
    return db.session.scalar(select(func.count(SupportRequest.id))) or 0


def _file(client, school_ids, **over):
    spec = factories.specialism()
    db.session.commit()
    return client.post("/requests/new", data=form_data(school_ids, spec.id,
                                                       **{"route": "eip", "submit_now": "1",
                                                          **over}))


def test_an_eip_officer_files_a_request_for_schools_of_their_group(world, client_for):
    s = world.a
    officer = s.users["officer"]
    r = _file(client_for(officer), [s.receiving.id, s.other.id])
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    req = db.session.scalars(select(SupportRequest).where(
        SupportRequest.requested_by_id == officer.id)).one()
    assert req.route == "eip" and req.status == "submitted"
    assert [rs.school_id for rs in req.schools] == [s.receiving.id, s.other.id]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "supportrequest.created", AuditEvent.object_id == req.id)) == 1


def test_the_officer_may_name_only_schools_of_their_group(world, client_for):
    s = world.a
    before = _requests()
    c = client_for(s.users["officer"])
    page = c.get("/requests/new").get_data(as_text=True)
    assert s.receiving.name in page and s.other.name in page
    assert s.home.name not in page  # not in the EIP
    for outside in ([s.home.id], [s.receiving.id, s.home.id], [world.b.receiving.id]):
        r = _file(c, outside)
        assert r.status_code == 422
        assert "Choose" in r.get_data(as_text=True)
    assert _requests() == before


def test_the_domain_refuses_a_school_outside_the_group_whatever_the_form(world):
    from portal.domain.errors import Invalid

    s = world.a
    with pytest.raises(Invalid) as refused:
        brokering.create_request(s.users["officer"], school_ids=[s.home.id], title="x",
                                 kind="sle_deployment", route="school", phase="primary")
    assert refused.value.field == "school_ids"
    with pytest.raises(Invalid):
        brokering.create_request(s.users["officer"], school_ids=[], title="x",
                                 kind="sle_deployment", route="school", phase="primary")


def test_a_local_authority_officer_asks_for_the_authoritys_schools(world, client_for):
    s = world.a
    la = factories.local_authority("Seaside Council")
    s.home.local_authority_id = la.id
    officer = factories.officer(s.alliance, la=la, name="Seaside Officer")
    db.session.commit()
    c = client_for(officer)
    page = c.get("/").get_data(as_text=True)
    assert "Seaside Council School Improvement Service" in page and s.home.name in page
    assert _file(c, [s.receiving.id], route="la").status_code == 422  # not the LA's
    r = _file(c, [s.home.id], route="la")
    assert r.status_code == 303
    req = db.session.scalars(select(SupportRequest).where(
        SupportRequest.requested_by_id == officer.id)).one()
    assert req.route == "la"
    assert officer.role_label == "Local authority officer"


def test_an_officer_with_no_group_cannot_file(world, client_for):
    lonely = factories.officer(world.a.alliance)
    db.session.commit()
    assert client_for(lonely).get("/requests/new").status_code == 403


def test_the_officer_sees_only_the_requests_they_filed(world, client_for):
    s = world.a
    mine = factories.support_request(s.alliance, s.users["officer"], [s.receiving, s.other],
                                     title="Group phonics")
    db.session.commit()
    c = client_for(s.users["officer"])
    assert c.get(f"/requests/{mine.id}").status_code == 200
    assert c.get(f"/requests/{s.request.id}").status_code == 404  # a head's, of a group school
    listing = c.get("/requests/").get_data(as_text=True)
    assert "Group phonics" in listing and s.request.title not in listing
    # the head of a school in it sees it too; a head of a school not in it does not
    assert client_for(s.users["headteacher"]).get(f"/requests/{mine.id}").status_code == 200
    assert client_for(s.users["home_school"]).get(f"/requests/{mine.id}").status_code == 404
    assert client_for(world.b.users["officer"]).get(f"/requests/{mine.id}").status_code == 404


def test_each_headteacher_confirms_for_their_own_school_not_the_officer(world, client_for):
    s = world.a
    req = factories.support_request(s.alliance, s.users["officer"], [s.receiving, s.other],
                                    status="matching")
    d = factories.deployment(req, s.leader)
    db.session.commit()
    officer = client_for(s.users["officer"])
    assert officer.get(f"/deployments/{d.id}").status_code == 200  # follows it
    assert officer.post(f"/deployments/{d.id}/respond",
                        data={"decision": "accepted"}).status_code == 403
    r = client_for(s.users["headteacher"]).post(f"/deployments/{d.id}/respond",
                                                data={"decision": "accepted"})
    assert r.status_code in (302, 303)
    db.session.expire_all()
    parties = {(x.party, x.school_id) for x in d.responses if x.decision == "accepted"}
    assert ("receiving", s.receiving.id) in parties
    assert ("receiving", s.other.id) not in parties  # the other school answers for itself


def test_the_officer_evaluates_the_group_and_the_sign_off_waits_for_it(world, client_for):
    s = world.a
    req = factories.support_request(s.alliance, s.users["officer"], [s.receiving],
                                    status="matching")
    d = factories.advance(factories.deployment(req, s.leader), "evaluation", delivered=2)
    ev.forward(d, s.users["admin"])
    db.session.commit()
    group = db.session.scalars(select(Evaluation).where(Evaluation.deployment_id == d.id,
                                                        Evaluation.kind == "group")).one()
    assert group.status == "forwarded"
    officer = client_for(s.users["officer"])
    home = officer.get("/").get_data(as_text=True)
    assert "Evaluate the support to your group of schools" in home
    assert client_for(s.users["headteacher"]).get(
        f"/deployments/{d.id}/evaluations/group").status_code == 403
    page = officer.get(f"/deployments/{d.id}/evaluations/group")
    assert page.status_code == 200 and s.alliance.short_name in page.get_data(as_text=True)
    outcomes = ev.outcomes_for(d)
    data = {"version": str(d.version), "support_quality": "3", "value_for_money": "4",
            "would_use_again": "yes", "summary": "Both schools moved on."}
    data |= {f"rating_{o.id}": "3" for o in outcomes}
    bad = officer.post(f"/deployments/{d.id}/evaluations/group",
                       data={**data, "support_quality": ""})
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.get(Evaluation, group.id).status == "forwarded"
    # the school signs for itself; the director still waits for the group
    head_ev = ev.school_evaluation(d, s.receiving.id)
    head_ev.status = "signed_off"
    db.session.commit()
    assert not ev.policy.actions(d, s.users["director"])["sign_off"].allowed
    r = officer.post(f"/deployments/{d.id}/evaluations/group", data=data)
    assert r.status_code == 303
    db.session.expire_all()
    group = db.session.get(Evaluation, group.id)
    assert group.status == "signed_off" and group.author_id == s.users["officer"].id
    assert ev.policy.actions(d, s.users["director"])["sign_off"].allowed
    shown = client_for(s.users["director"]).get(f"/deployments/{d.id}").get_data(as_text=True)
    assert "the group&#39;s evaluation" in shown or "the group's evaluation" in shown


def test_the_coordinator_invites_an_officer_for_an_eip_or_an_authority(world, client_for):
    s = world.a
    la = factories.local_authority("Harbour Council")
    s.receiving.local_authority_id = la.id
    elsewhere = factories.local_authority("Faraway Council")  # no school of the alliance
    db.session.commit()
    group = s.users["officer"].eip_id
    c = client_for(s.users["admin"])
    page = c.get("/admin/users/invite").get_data(as_text=True)
    assert "Alpha EIP" in page and "Harbour Council (local authority)" in page
    assert "Faraway Council" not in page and "Beta EIP" not in page

    def invite(**over):
        data = {"email": "officer.new@alpha.example.org", "name": "New Officer",
                "role": "officer", "school_id": "", "board_id": "", "designation": "sle",
                "job_title": "Adviser", "group": f"eip:{group}"}
        return c.post("/admin/users/invite", data | over)

    from portal.models import User

    before = db.session.scalar(select(func.count(User.id)))
    assert invite(group="").status_code == 422
    assert invite(group=f"la:{elsewhere.id}").status_code == 422
    assert invite(group=f"eip:{world.b.users['officer'].eip_id}").status_code == 422
    assert db.session.scalar(select(func.count(User.id))) == before
    assert invite(group=f"la:{la.id}").status_code == 303
    made = db.session.scalar(select(User).where(User.email == "officer.new@alpha.example.org"))
    assert (made.eip_id, made.local_authority_id, made.officer_route) == (None, la.id, "la")
    # moved to the EIP: the account page shows and saves the group
    edit = {"name": "New Officer", "role": "officer", "school_id": "", "board_id": "",
            "designation": "sle", "job_title": "Adviser", "group": f"eip:{group}"}
    assert c.post(f"/admin/users/{made.id}", edit).status_code == 303
    db.session.expire_all()
    made = db.session.get(User, made.id)
    assert (made.eip_id, made.local_authority_id) == (group, None)
    import re

    shown = c.get(f"/admin/users/{made.id}").get_data(as_text=True)
    assert re.search(rf'<option (selected value="eip:{group}"|value="eip:{group}" selected)',
                     shown)
    # a headteacher keeps no group, whatever the form sends
    head = s.users["other_head"]
    c.post(f"/admin/users/{head.id}", {**edit, "name": head.name, "role": "headteacher",
                                        "school_id": str(s.other.id)})
    db.session.expire_all()
    assert db.session.get(User, head.id).eip_id is None


@pytest.mark.parametrize("stage", ["proposed", "agreement", "active", "evaluation", "completed"])
def test_every_page_of_the_officers_own_deployment_answers_without_a_server_error(
        app, world, client_for, stage):
    """The access matrix's world gives the officer nothing of their own to see: here every GET
    route on a request and deployment they filed answers, at each stage, without a 500."""
    s = world.a
    req = factories.support_request(s.alliance, s.users["officer"], [s.receiving, s.other],
                                    status="matching")
    d = factories.deployment(req, s.leader)
    if stage != "proposed":
        factories.advance(d, stage)
    db.session.commit()
    c = client_for(s.users["officer"])
    values = {"request_id": req.id, "deployment_id": d.id}
    wrong = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not set(rule.arguments) <= set(values) \
                or not rule.arguments:
            continue
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if allowed is not None and "officer" not in allowed and "public" not in allowed:
            continue
        path = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        for htmx in (False, True):
            status = (c.htmx_get(path) if htmx else c.get(path)).status_code
            if status >= 500:
                wrong.append(f"{path} {status}")
    assert wrong == []
    assert c.get(f"/deployments/{d.id}").status_code == 200
