"""Building matching's Need and Candidates from the database, and the response rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.domain import brokering, errors, workflow
from portal.extensions import db
from portal.models import LocalAuthority, Unavailability
from tests import factories
from tests.factories import requests as fr


def test_need_is_built_from_the_request(world):
    la = LocalAuthority(name="Sefton", code="343")
    db.session.add(la)
    db.session.flush()
    world.a.receiving.local_authority_id = la.id
    req = world.a.request
    req.specialism_id = fr.specialism().id
    db.session.commit()
    need = brokering.need_for(req)
    assert need.standards == frozenset({"TS2"}) and need.specialism == "maths"
    assert need.receiving_school_ids == {world.a.receiving.id}
    assert need.local_authority_ids == {la.id}
    assert need.half_days == req.half_days_wanted and need.phase == "primary"


def test_candidates_carry_load_capacity_and_unavailability(world):
    req = world.a.request
    leader = world.a.leader  # has one live (proposed) deployment of 8 half days
    profile = leader.profile
    profile.release_approved_days = 6  # the home school released fewer days than offered
    inside = Unavailability(profile_id=profile.id, start=req.start_date,
                            end=req.start_date + timedelta(days=2))
    outside = Unavailability(profile_id=profile.id, start=req.end_date + timedelta(days=30),
                             end=req.end_date + timedelta(days=31))
    db.session.add_all([inside, outside])
    db.session.commit()
    cands = {c.leader_id: c for c in
             brokering.candidates_for(world.a.alliance.id, req.start_date, req.end_date)}
    assert set(cands) == {leader.id}  # only alliance A's directory
    c = cands[leader.id]
    assert c.capacity_half_days == 12 and c.committed_half_days == 8
    assert c.active_deployments == 1
    assert c.unavailable == ((inside.start, inside.end),)
    assert c.home_school_id == world.a.home.id and c.active


def test_ranking_excludes_inactive_and_full_leaders(world):
    busy = factories.leader(world.a.alliance, world.a.other, name="Busy", capacity_days=4)
    factories.deployment(world.a.request, busy, half_days=8)
    gone = factories.leader(world.a.alliance, world.a.other, name="Gone")
    gone.active = False
    db.session.commit()
    result = brokering.ranking(world.a.request)
    reasons = {e.candidate.name: e.reason for e in result.exclusions}
    assert reasons["Gone"] == "Not active in the directory"
    assert reasons["Busy"].startswith("No free days")
    assert [m.candidate.name for m in result.matches] == ["Alpha Leader"]


def test_propose_refuses_an_excluded_leader_and_a_wrong_status(world):
    req = world.a.request
    admin = world.user("a", "admin")
    with pytest.raises(errors.NotNow):
        brokering.propose(req, world.a.leader.id, admin)  # still "submitted"
    req.status = "matching"
    inside = factories.leader(world.a.alliance, world.a.receiving, name="Inside")
    with pytest.raises(errors.Invalid):
        brokering.propose(req, inside.id, admin)
    assert req.status == "matching"
    with pytest.raises(errors.Forbidden):
        brokering.propose(req, world.a.leader.id, world.user("a", "headteacher"))


@pytest.mark.parametrize(("route", "targeted", "concession"),
                         [("board", True, 2_500), ("school", False, 0)])
def test_a_board_targeted_request_carries_its_concession_into_the_deployment(
        world, route, targeted, concession):
    req = world.a.request
    req.status, req.route, req.concession_day_pence = "matching", route, 2_500
    d = brokering.propose(req, world.a.leader.id, world.user("a", "admin"))
    assert (d.targeted, d.concession_day_pence) == (targeted, concession)


def test_parties_and_who_answers(world):
    d = world.a.deployment
    parties = brokering.expected_parties(d)
    assert [p.party for p in parties] == ["receiving", "home_school", "leader"]
    assert brokering.party_of(d, world.user("a", "headteacher")).party == "receiving"
    assert brokering.party_of(d, world.user("a", "home_school")).party == "home_school"
    assert brokering.party_of(d, world.a.leader).party == "leader"
    for role in ("admin", "director", "board", "other_head"):
        assert brokering.party_of(d, world.user("a", role)) is None
    assert brokering.party_of(d, world.user("b", "headteacher")) is None


def test_respond_rules(world):
    d = world.a.deployment
    with pytest.raises(errors.Forbidden):
        brokering.respond(d, world.user("a", "admin"), "accepted")
    with pytest.raises(workflow.ReasonRequired):
        brokering.respond(d, world.user("a", "headteacher"), "declined", "  ")
    with pytest.raises(errors.Invalid):
        brokering.respond(d, world.user("a", "headteacher"), "maybe")
    brokering.respond(d, world.user("a", "headteacher"), "accepted")
    with pytest.raises(errors.NotNow):
        brokering.respond(d, world.user("a", "headteacher"), "accepted")
    assert d.status == "proposed"
