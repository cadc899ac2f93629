"""Membership rules (issue 21): a school may be in several networks; which schools a network
holds, which networks a request may go to, and the UK postcode a school's address ends with."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access, brokering, errors, postcodes
from portal.domain import admin as commands
from portal.extensions import db
from portal.models import School
from tests import factories
from tests.factories import alliances as fa


@pytest.fixture
def w(world):
    fa.join(world.a.receiving, world.b.alliance)  # a's receiving school is in b too
    factories.commit()
    return world


def _ids(where) -> set[int]:
    return set(db.session.scalars(select(School.id).where(where)))


def test_a_network_holds_its_home_schools_and_its_members(w):
    a, b = w.a, w.b
    assert _ids(access.in_network(b.alliance.id)) == {b.receiving.id, b.home.id, b.other.id,
                                                      a.receiving.id}
    assert _ids(access.in_network(a.alliance.id)) == {a.receiving.id, a.home.id, a.other.id}
    assert _ids(access.in_network(None)) == set()
    assert a.receiving.alliance_id == a.alliance.id  # the home network is unchanged


def test_the_directory_and_pickers_read_membership(w):
    a, b = w.a, w.b
    # network b lists and picks a's school, but only its home network manages it
    assert a.receiving.id in _ids(access.schools_visible_to(w.user("b", "admin")))
    assert a.receiving.id in _ids(access.schools_visible_to(w.user("b", "board")))
    assert a.receiving.id not in _ids(access.schools_managed_by(w.user("b", "admin")))
    assert a.receiving.id in _ids(access.schools_managed_by(w.user("a", "admin")))
    assert _ids(access.schools_managed_by(w.user("b", "headteacher"))) == set()
    assert a.other.id not in _ids(access.schools_managed_by(w.user("b", "admin")))
    # network b's officer: their group is b's schools of their EIP, members included
    a.receiving.eip_id = b.users["officer"].eip_id
    assert a.receiving.id in _ids(access.group_schools(b.users["officer"]))


def test_the_networks_of_a_school(w):
    assert access.networks_of(w.a.receiving.id) == sorted(
        [(w.a.alliance.id, w.a.alliance.name), (w.b.alliance.id, w.b.alliance.name)],
        key=lambda n: n[1])
    assert access.networks_of(w.a.other.id) == [(w.a.alliance.id, w.a.alliance.name)]
    assert access.networks_of(None) == []
    assert access.is_member(w.a.receiving.id, w.b.alliance.id)
    assert not access.is_member(w.a.other.id, w.b.alliance.id)


def test_a_headteacher_sends_a_request_to_any_network_of_their_school(w):
    head = w.user("a", "headteacher")
    assert brokering.network_for(head, None) == w.a.alliance.id
    assert brokering.network_for(head, w.a.alliance.id) == w.a.alliance.id
    assert brokering.network_for(head, w.b.alliance.id) == w.b.alliance.id
    third = fa.alliance("Gamma")
    with pytest.raises(errors.Invalid) as refused:
        brokering.network_for(head, third.id)
    assert refused.value.field == "alliance_id"


@pytest.mark.parametrize("role", ["other_head", "board", "officer"])
def test_nobody_else_sends_a_request_to_another_network(w, role):
    with pytest.raises(errors.Invalid):
        brokering.network_for(w.user("a", role), w.b.alliance.id)


def test_a_request_names_only_members_of_its_network(w):
    brokering.check_members(w.b.alliance.id, [w.a.receiving.id, w.b.receiving.id])
    with pytest.raises(errors.Invalid) as refused:
        brokering.check_members(w.b.alliance.id, [w.a.receiving.id, w.a.other.id])
    assert refused.value.field == "school_ids"


@pytest.mark.parametrize(("text", "tidy"), [
    ("bn7 1ue", "BN7 1UE"), ("L20 3AB", "L20 3AB"), ("SW1A1AA", "SW1A 1AA"),
    ("  ec1a 1bb ", "EC1A 1BB"), ("W1A 0AX", "W1A 0AX"), ("DN55 1PT", "DN55 1PT"),
    ("GIR 0AA", "GIR 0AA"), ("", ""), ("   ", ""),
])
def test_a_uk_postcode_is_tidied(text, tidy):
    assert postcodes.normalise(text) == tidy


@pytest.mark.parametrize("text", ["12345", "BN7", "BN7 1UEX", "QA1 1AA", "BN7 1CE",
                                  "L20-3AB", "<b>L20</b>", "L20 3AB; DROP"])
def test_anything_else_is_not_a_postcode(text):
    assert postcodes.normalise(text) is None


def test_saving_a_school_with_a_bad_postcode_is_refused_beside_the_field(w):
    admin = w.user("a", "admin")
    with pytest.raises(errors.Invalid) as refused:
        commands.save_school(admin, None, urn="123456", name="New Primary", phase="primary",
                             postcode="not one")
    assert refused.value.field == "postcode" and refused.value.message == postcodes.INVALID
    saved = commands.save_school(admin, None, urn="123457", name="New Primary",
                                 phase="primary", postcode="bn7 1ue",
                                 address=("1 Lane", "", ""), town="Lewes")
    assert saved.postcode == "BN7 1UE" and saved.address_lines == ["1 Lane", "Lewes", "BN7 1UE"]
    assert access.is_member(saved.id, w.a.alliance.id)  # a new school is in its network


def test_only_the_home_network_manages_a_school_and_the_sql_form_agrees(w):
    """``policy.admin.manages_school`` and its SQL form, for every user of both networks over
    every school they see (a's receiving school is a member of b too)."""
    from portal.domain.policy import admin as policy
    from portal.models import User
    from tests.policy import assert_twins_agree

    shared = w.a.receiving
    assert policy.manages_school(shared, w.user("a", "admin"))
    assert policy.manages_school(shared, w.user("a", "director"))
    for role in ("admin", "director"):
        assert not policy.manages_school(shared, w.user("b", role))
    assert not policy.manages_school(shared, w.user("a", "headteacher"))
    assert not policy.actions(shared, w.user("b", "admin"))["edit"]
    assert policy.actions(shared, w.user("b", "admin"))["edit"].reason == policy.NOT_HOME
    assert policy.actions(shared, w.user("a", "admin"))["edit"]
    users = db.session.scalars(select(User)).all()
    assert assert_twins_agree(
        users, School, visible=access.schools_visible_to,
        python=lambda s, u: {"manage": policy.manages_school(s, u)},
        sql={"manage": policy.may_manage_school}) > 0


def test_the_save_command_refuses_a_member_network(w):
    """The CLI or any caller gets no further than the page: b's co-ordinator is refused."""
    shared = w.a.receiving
    with pytest.raises(errors.Forbidden):
        commands.save_school(w.user("b", "admin"), shared, urn="999111", name="Renamed",
                             phase="primary", seen_version=shared.version)
    db.session.rollback()
    assert db.session.get(School, shared.id).name == "Alpha Receiving Primary"


def test_inviting_or_moving_staff_to_a_member_school_is_refused_beside_the_field(w):
    shared, b_admin = w.a.receiving, w.user("b", "admin")
    with pytest.raises(errors.Invalid) as invite:
        commands.invite_user(b_admin, email="new@beta.example.org", name="New",
                             role="headteacher", school_id=shared.id)
    assert invite.value.field == "school_id"
    leader = w.b.leader
    with pytest.raises(errors.Invalid) as move:
        commands.update_user(b_admin, leader, name=leader.name, role="sle",
                             school_id=shared.id)
    assert move.value.field == "school_id"
