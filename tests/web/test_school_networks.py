"""A school in more than one network (issue 21): both networks list it, its headteacher files
a request to either (a choice on the form, only among the school's networks), and each
network sees only the requests filed to it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SupportRequest
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
    # network b's co-ordinator may open it (a member school), and another's stays 404
    assert client_for(world.user("b", "admin")).get(
        f"/admin/schools/{shared.id}").status_code == 200
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
