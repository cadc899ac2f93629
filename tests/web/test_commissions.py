"""The commission pages: the commissioner deploys and takes off colleagues, everyone sees the
people they may see, strangers get 404, nothing changes without CSRF, bad input is refused
beside its field, a double click deploys once, and the invoices show the worked example."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Deployment, Invoice
from tests.factories import advance, commit
from tests.factories import commissions as fc


@pytest.fixture()
def cw(db):
    return fc.commission_world()


def _people() -> int:
    return db.session.scalar(select(func.count(Deployment.id))
                             .where(Deployment.commission_id.is_not(None))) or 0


def _url(cw, tail: str = "") -> str:
    return f"/commissions/{cw.commission.id}{tail}"


def test_the_commissioner_sees_the_ranked_colleagues_and_deploys_one(cw, client_for):
    client = client_for(cw.commissioner)
    page = client.get(_url(cw))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Deploy a colleague" in html and f"colleague-{cw.colleague.id}" in html
    assert "£4,290.00" not in html  # a system leader sees no money
    r = client.post(_url(cw, "/deploy"), data={"leader_id": cw.colleague.id, "days": "6"})
    assert r.status_code == 303 and r.headers["Location"].endswith(_url(cw))
    person = db.session.scalar(select(Deployment).where(Deployment.commission_id.is_not(None)))
    assert (person.leader_id, person.half_days_agreed) == (cw.colleague.id, 12)
    html = client.get(_url(cw)).get_data(as_text=True)
    assert f"person-{person.id}" in html and "Waiting for the school" in html
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "commission.deployed")) is not None


def test_a_double_click_deploys_once(cw, client_for):
    from portal.idempotency import new_key

    client = client_for(cw.commissioner)
    key = new_key()
    data = {"leader_id": cw.colleague.id, "days": "6", "idempotency_key": key}
    first = client.post(_url(cw, "/deploy"), data=data)
    second = client.post(_url(cw, "/deploy"), data=data)
    assert first.status_code == 303 and second.status_code in (302, 303)
    assert _people() == 1


def test_without_csrf_nothing_is_deployed(cw, client_for):
    r = client_for(cw.commissioner).post(_url(cw, "/deploy"), csrf=False,
                                         data={"leader_id": cw.colleague.id, "days": "6"})
    assert r.status_code in (303, 400)  # the CSRF handler sends the browser back
    assert _people() == 0


@pytest.mark.parametrize("days, message", [
    ("", "Enter the days asked of them"), ("0", "between 0.5 and 100"),
    ("2.25", "Whole or half days"), ("lots", "Enter the days asked of them"),
])
def test_bad_days_are_refused_beside_the_field(cw, client_for, days, message):
    r = client_for(cw.commissioner).post(_url(cw, "/deploy"),
                                         data={"leader_id": cw.colleague.id, "days": days})
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert _people() == 0


def test_someone_not_ranked_is_refused(cw, client_for):
    r = client_for(cw.commissioner).post(_url(cw, "/deploy"),
                                         data={"leader_id": cw.w.b.leader.id, "days": "2"})
    assert r.status_code == 422
    assert "cannot be deployed on this commission" in r.get_data(as_text=True)
    assert _people() == 0


@pytest.mark.parametrize("role", ["headteacher", "director", "admin", "home_school"])
def test_every_role_of_the_alliance_sees_whom_they_may(cw, client_for, role):
    person = fc.deploy(cw)
    html = client_for(cw.w.user("a", role)).get(_url(cw)).get_data(as_text=True)
    overseer = role in ("director", "admin")
    assert (f"person-{person.id}" in html) == (role != "home_school" or
                                               cw.w.a.home.id == person.home_school_id)
    assert ("Deploy a colleague" in html) == overseer


def test_the_supported_school_sees_the_cost_but_cannot_deploy(cw, client_for):
    fc.deploy(cw)
    client = client_for(cw.w.user("a", "headteacher"))
    html = client.get(_url(cw)).get_data(as_text=True)
    assert "£4,290.00" in html and "£390.00" in html
    r = client.post(_url(cw, "/deploy"), data={"leader_id": cw.colleague.id, "days": "2"})
    assert r.status_code == 403
    assert _people() == 1


@pytest.mark.parametrize("role", ["headteacher", "sle", "director", "admin", "home_school",
                                  "board"])
def test_another_alliance_gets_404(cw, client_for, role):
    person = fc.deploy(cw)
    client = client_for(cw.w.user("b", role))
    assert client.get(_url(cw)).status_code == 404
    assert client.post(_url(cw, "/deploy"),
                       data={"leader_id": cw.colleague.id, "days": "2"}).status_code in (403, 404)
    assert client.post(f"/commissions/people/{person.id}/remove",
                       data={"reason": "x"}).status_code in (403, 404)
    assert _people() == 1 and person.status == "proposed"


def test_an_ordinary_deployment_has_no_commission_page(cw, client_for):
    assert client_for(cw.w.user("a", "director")).get(
        f"/commissions/{cw.w.a.deployment.id + 1}").status_code == 404


def test_taking_someone_off(cw, client_for):
    person = fc.deploy(cw)
    client = client_for(cw.commissioner)
    empty = client.post(f"/commissions/people/{person.id}/remove", data={"reason": ""})
    assert empty.status_code == 422 and "Say why" in empty.get_data(as_text=True)
    db.session.refresh(person)
    assert person.status == "proposed"
    r = client.post(f"/commissions/people/{person.id}/remove", data={"reason": "Not needed"})
    assert r.status_code == 303
    db.session.refresh(person)
    assert person.status == "cancelled"
    assert client.post(f"/commissions/people/{person.id}/remove",
                       data={"reason": "Again"}).status_code == 409


def test_the_deployment_page_links_the_commission(cw, client_for):
    person = fc.deploy(cw)
    html = client_for(cw.colleague).get(f"/deployments/{person.id}").get_data(as_text=True)
    assert "Part of a commission" in html and cw.commissioner.name in html


def test_the_commissioner_adds_a_qa_note_through_the_qa_page(cw, client_for):
    person = fc.deploy(cw)
    advance(person, "active", delivered=2)
    commit()
    client = client_for(cw.commissioner)
    url = f"/deployments/{person.id}/evaluations/qa"
    assert client.get(url).status_code == 200
    r = client.post(url, data={"version": person.version, "is_working": "A good start",
                               "changes": "", "next_steps": "Observe again",
                               "exit_strategy": ""})
    assert r.status_code == 303
    html = client.get(_url(cw)).get_data(as_text=True)
    assert "Mid-point review of Alpha Colleague" in html and "A good start" in html
    assert client_for(cw.colleague).get(url).status_code == 403  # not their own QA
    other = client_for(cw.w.user("b", "sle")).get(url)
    assert other.status_code == 404


def test_the_invoice_pages_show_the_worked_example(cw, client_for):
    person = fc.deploy(cw)
    advance(person, "completed", delivered=12)
    advance(cw.commission, "completed", delivered=8)
    commit()
    inv = db.session.scalar(select(Invoice).where(Invoice.deployment_id == cw.commission.id,
                                                  Invoice.payer == "school"))
    html = client_for(cw.w.user("a", "admin")).get(
        f"/finance/invoices/{inv.id}").get_data(as_text=True)
    for amount in ("£1,800.00", "£2,100.00", "£390.00", "£4,290.00"):
        assert amount in html
    assert client_for(cw.w.user("b", "admin")).get(
        f"/finance/invoices/{inv.id}").status_code == 404


def test_the_demo_commission_has_an_amended_agreement(app, db, client_for):
    from portal.domain import agreements, finance
    from portal.models import User

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    root = db.session.scalar(select(Deployment).join(Deployment.request).where(
        Deployment.commission_id.is_(None), Deployment.request.has(kind="commission"))
        .order_by(Deployment.id).limit(1))
    assert root.leader.email == "leader1@holyrosary.example.org"  # Dr Ruth Haldane, still
    signed = agreements.last_signed(root.id)
    assert signed.version == 2 and signed.status == "superseded"  # amended, signed by all
    assert agreements.current(root.id).version == 3  # the extra days, being signed
    assert agreements.history(root.id)[-1].status == "superseded"  # version 1 stays readable
    chidi = next(d for d in finance.commission_members(root) if d.designation == "sle")
    assert finance.commission_hold(chidi) == 4
    commissioner = db.session.get(User, root.leader_id)
    html = client_for(commissioner).get(f"/commissions/{root.id}").get_data(as_text=True)
    assert f"The 2 extra days for {chidi.leader.name} can be used once everyone" in html


def test_the_demo_has_a_teaching_school_head_leading_a_commission(app, db, client_for):
    """Sefton B in the demo: CAPITAL TSA's director, given a leader profile (charged as an NLE)
    by the co-ordinator, leads a commission: matched, agreed, its agreement drafted for
    signing, one colleague proposed under it."""
    from portal.domain import agreements
    from portal.models import AuditEvent, User

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    director = db.session.scalar(select(User).where(User.email == "director@capital.example.org"))
    assert director.role == "director" and director.profile.designation == "nle"
    assert director.profile.capacity_days == 11
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "user.update", AuditEvent.object_id == director.id))
    root = db.session.scalar(select(Deployment).where(Deployment.leader_id == director.id))
    assert root.request.kind == "commission" and root.status == "agreement"
    assert root.commission_id is None and root.designation == "nle"
    assert agreements.current(root.id).status == "draft"
    people = db.session.scalars(select(Deployment).where(Deployment.commission_id == root.id)
                                ).all()
    assert [(p.status, p.designation) for p in people] == [("proposed", "sle")]
    assert people[0].commissioning_leader_id == director.id
    c = client_for(director)
    home = c.get("/").get_data(as_text=True)
    assert root.request.title in home
    page = c.get(f"/commissions/{root.id}").get_data(as_text=True)
    assert people[0].leader.name in page
    body = c.get("/directory/").get_data(as_text=True)
    assert director.name in body and "available to lead NLE/LLE commissions only" in body
    # no other alliance's director was given a profile
    others = db.session.scalars(select(User).where(User.role == "director",
                                                   User.id != director.id)).all()
    assert others and all(u.profile is None for u in others)
