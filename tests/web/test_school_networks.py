"""A school in more than one network (issue 21): both networks list it, its headteacher files
a request to either (a choice on the form, only among the school's networks), and each
network sees only the requests filed to it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    InviteToken,
    LeaderProfile,
    OutboxEmail,
    School,
    SupportRequest,
    User,
)
from tests import factories
from tests.factories import alliances as fa
from tests.factories import requests as fr


@pytest.fixture
def shared(world):
    """Side a's receiving school (its head is ``world.a.users['headteacher']``) is a member of
    side b's network too; its home stays a."""
    fa.join(world.a.receiving, world.b.alliance)
    factories.commit()
    return world.a.receiving


def _file(client, world, alliance_id=None, school_ids=None, **over):
    maths = factories.specialism()
    factories.commit()
    data = fr.form_data(school_ids or [world.a.receiving.id], maths.id,
                        title="Shared school phonics", submit_now="1", **over)
    if alliance_id is not None:
        data["alliance_id"] = str(alliance_id)
    return client.post("/requests/new", data)


def _newest() -> SupportRequest:
    return db.session.scalars(select(SupportRequest).order_by(SupportRequest.id.desc())).first()


def test_both_networks_list_the_school(world, shared, client_for):
    for side in ("a", "b"):
        page = client_for(world.user(side, "admin")).get("/admin/schools")
        assert shared.name in page.get_data(as_text=True), side
    # a network's own school that is in no other network is still only its own
    b_page = client_for(world.user("b", "admin")).get("/admin/schools").get_data(as_text=True)
    assert world.a.other.name not in b_page
    # network b's co-ordinator may not open it (its home network keeps it), as for another's
    assert client_for(world.user("b", "admin")).get(
        f"/admin/schools/{shared.id}").status_code == 404
    assert client_for(world.user("b", "admin")).get(
        f"/admin/schools/{world.a.other.id}").status_code == 404


def test_the_form_offers_the_schools_networks_only_when_there_are_two(world, shared,
                                                                      client_for):
    page = client_for(world.user("a", "headteacher")).get("/requests/new")
    body = page.get_data(as_text=True)
    assert "Network to send it to" in body
    assert world.a.alliance.name in body and world.b.alliance.name in body
    single = client_for(world.user("a", "other_head")).get("/requests/new")
    assert "Network to send it to" not in single.get_data(as_text=True)


def test_a_request_to_the_second_network_is_seen_by_that_network_only(world, shared,
                                                                       client_for):
    head = client_for(world.user("a", "headteacher"))
    r = _file(head, world, alliance_id=world.b.alliance.id)
    assert r.status_code == 303, r.get_data(as_text=True)
    req = _newest()
    assert req.alliance_id == world.b.alliance.id and req.status == "submitted"
    url = f"/requests/{req.id}"
    assert client_for(world.user("b", "admin")).get(url).status_code == 200
    assert client_for(world.user("b", "director")).get(url).status_code == 200
    assert "Shared school phonics" in client_for(world.user("b", "admin")).get(
        "/requests/").get_data(as_text=True)
    # the home network does not see a request filed to the other one
    assert client_for(world.user("a", "admin")).get(url).status_code == 404
    assert client_for(world.user("a", "director")).get(url).status_code == 404
    assert "Shared school phonics" not in client_for(world.user("a", "admin")).get(
        "/requests/").get_data(as_text=True)
    assert head.get(url).status_code == 200  # the school sees its own request


def test_a_request_to_the_home_network_is_not_seen_by_the_other(world, shared, client_for):
    r = _file(client_for(world.user("a", "headteacher")), world,
              alliance_id=world.a.alliance.id)
    assert r.status_code == 303, r.get_data(as_text=True)
    req = _newest()
    assert req.alliance_id == world.a.alliance.id
    assert client_for(world.user("a", "admin")).get(f"/requests/{req.id}").status_code == 200
    assert client_for(world.user("b", "admin")).get(f"/requests/{req.id}").status_code == 404


def test_a_network_the_school_is_not_in_is_refused_and_nothing_saved(world, shared,
                                                                      client_for):
    third = fa.alliance("Gamma")
    factories.commit()
    n = db.session.scalar(select(func.count(SupportRequest.id)))
    r = _file(client_for(world.user("a", "headteacher")), world, alliance_id=third.id)
    assert r.status_code == 422
    assert "Choose one of your school&#39;s networks." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SupportRequest.id))) == n


def test_a_head_of_a_school_in_one_network_cannot_send_elsewhere(world, shared, client_for):
    """No choice on their form, and a forged one is refused by the command too."""
    n = db.session.scalar(select(func.count(SupportRequest.id)))
    r = _file(client_for(world.user("a", "other_head")), world,
              alliance_id=world.b.alliance.id, school_ids=[world.a.other.id])
    assert r.status_code == 303  # the field is not on their form: the request goes home
    assert _newest().alliance_id == world.a.alliance.id
    assert db.session.scalar(select(func.count(SupportRequest.id))) == n + 1


def test_schools_named_must_be_members_of_the_chosen_network(world, shared, client_for):
    n = db.session.scalar(select(func.count(SupportRequest.id)))
    r = _file(client_for(world.user("a", "headteacher")), world,
              alliance_id=world.b.alliance.id,
              school_ids=[world.a.receiving.id, world.a.other.id])  # other: network a only
    assert r.status_code == 422
    assert f"Choose schools that are members of {world.b.alliance.name}." in \
        r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SupportRequest.id))) == n


# ------------------------------------------- only the home network manages the school (review)


def _school_form(school, **over) -> dict:
    data = {"urn": school.urn, "name": school.name, "phase": school.phase,
            "version": str(school.version), "address_line1": "1 Member Road",
            "address_line2": "", "address_line3": "", "town": "Bootle", "postcode": "L20 3AB",
            "local_authority_id": "", "eip_id": ""}
    data.update(over)
    return data


def _as_it_was(school_id: int) -> tuple:
    db.session.expire_all()
    s = db.session.get(School, school_id)
    return (s.urn, s.name, s.phase, s.postcode, s.address_line1, s.town, s.eip_id,
            s.local_authority_id, s.closed, s.alliance_id, s.version)


def _audits(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action == action))


def test_a_member_network_cannot_edit_the_school_and_nothing_is_saved(world, shared,
                                                                     client_for):
    """Network b may see and list a's school, not change it: its co-ordinator gets 404 for the
    edit page and its POST (as for a school that is not theirs at all); its director never
    had the page (403, as for every school)."""
    before, audits = _as_it_was(shared.id), _audits("school.update")
    url = f"/admin/schools/{shared.id}"
    b_admin = client_for(world.user("b", "admin"))
    assert b_admin.get(url).status_code == 404
    form = _school_form(shared, name="Renamed By Beta", urn="999111")
    assert b_admin.post(url, form).status_code == 404
    assert b_admin.htmx_get(url).status_code == 404
    b_director = client_for(world.user("b", "director"))
    assert b_director.get(url).status_code == 403
    assert b_director.post(url, form).status_code == 403
    assert _as_it_was(shared.id) == before and _audits("school.update") == audits
    # its home network's co-ordinator still edits it
    a_admin = client_for(world.user("a", "admin"))
    assert a_admin.get(url).status_code == 200
    r = a_admin.post(url, _school_form(shared, name="Renamed At Home"))
    assert r.status_code == 303, r.get_data(as_text=True)
    assert db.session.get(School, shared.id).name == "Renamed At Home"


def test_a_member_network_lists_the_school_without_an_edit_link(world, shared, client_for):
    link = f'href="/admin/schools/{shared.id}"'
    b_page = client_for(world.user("b", "admin")).get("/admin/schools").get_data(as_text=True)
    assert shared.name in b_page and link not in b_page
    assert f"its details are kept by {world.a.alliance.short_name}" in b_page
    assert f'href="/admin/schools/{world.b.home.id}"' in b_page  # its own are linked
    a_page = client_for(world.user("a", "admin")).get("/admin/schools").get_data(as_text=True)
    assert shared.name in a_page and link in a_page
    assert "its details are kept by" not in a_page
    # network b still offers it on its request form (a Board member of b targets it)
    world.user("b", "board").board_id = factories.board(world.b.alliance).id
    factories.commit()
    form = client_for(world.user("b", "board")).get("/board/requests/new").get_data(as_text=True)
    assert re.search(rf'value="{shared.id}">\s*<label[^>]*>{re.escape(shared.name)}<', form)


def _invite_to(client, school, email="new.member@beta.example.org", role="headteacher"):
    return client.post("/admin/users/invite", {
        "email": email, "name": "New Member", "role": role, "school_id": str(school.id),
        "board_id": "", "designation": "sle", "job_title": "Head"})


@pytest.mark.parametrize("role", ["headteacher", "sle", "home_school"])
def test_a_member_network_cannot_invite_staff_to_the_school(world, shared, client_for, role):
    """Refused as for another network's school: not offered, refused beside the field, and no
    account, invitation or email made. Its home network still invites."""
    counts = (db.session.scalar(select(func.count(User.id))),
              db.session.scalar(select(func.count(InviteToken.id))),
              db.session.scalar(select(func.count(OutboxEmail.id))),
              db.session.scalar(select(func.count(LeaderProfile.id))))
    b_admin = client_for(world.user("b", "admin"))
    page = b_admin.get("/admin/users/invite").get_data(as_text=True)
    assert shared.name not in page
    assert world.b.home.name in page
    r = _invite_to(b_admin, shared, role=role)
    assert r.status_code == 422
    assert "Choose a school from the list" in r.get_data(as_text=True)
    assert (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(InviteToken.id))),
            db.session.scalar(select(func.count(OutboxEmail.id))),
            db.session.scalar(select(func.count(LeaderProfile.id)))) == counts
    assert _audits("user.invite") == 0
    ok = _invite_to(client_for(world.user("a", "admin")), shared,
                    email="new.home@alpha.example.org", role=role)
    assert ok.status_code == 303, ok.get_data(as_text=True)


def test_a_member_network_cannot_move_its_staff_to_the_school(world, shared, client_for):
    """Editing one of b's own accounts to work at the school (a system leader's home school
    with it) is refused the same way; nothing changes."""
    leader = world.b.leader
    r = client_for(world.user("b", "admin")).post(f"/admin/users/{leader.id}", {
        "name": leader.name, "role": "sle", "school_id": str(shared.id), "board_id": "",
        "designation": "sle", "job_title": ""})
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, leader.id).school_id == world.b.home.id
    assert db.session.get(LeaderProfile, leader.profile.id).home_school_id == world.b.home.id


def test_a_member_network_cannot_manage_the_schools_accounts(world, shared, client_for):
    head = world.a.users["headteacher"]  # the shared school's head: an account of network a
    b_admin = client_for(world.user("b", "admin"))
    assert b_admin.get(f"/admin/users/{head.id}").status_code == 404
    for action in ("deactivate", "sessions", "reinvite"):
        assert b_admin.post(f"/admin/users/{head.id}/{action}").status_code == 404, action
    assert b_admin.post(f"/admin/users/{head.id}", {"name": "Renamed", "role": "admin",
                                                    "school_id": ""}).status_code == 404
    db.session.expire_all()
    kept = db.session.get(User, head.id)
    assert kept.active and kept.role == "headteacher" and kept.name == "Alpha Head"
    assert head.name not in b_admin.get("/admin/users").get_data(as_text=True)
