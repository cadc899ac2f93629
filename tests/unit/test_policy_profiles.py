"""The yearly release policy (``portal/domain/policy/profiles.py``): who approves a leader's
release, and its "waiting for my approval" SQL twin."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, true

from portal.domain import access, errors, profiles
from portal.domain.policy import profiles as policy
from portal.extensions import db
from portal.models import AuditEvent, LeaderProfile, Unavailability, User
from tests import factories
from tests.policy import assert_twins_agree


@pytest.fixture
def release_world(db):
    """Two alliances; each home school with one leader approved for the year and one not, and a
    leader of another school."""
    w = factories.world()
    for s in (w.a, w.b):
        approved = factories.leader(s.alliance, s.home, name=f"{s.alliance.name} Approved")
        approved.profile.release_approved_days = 5
        factories.leader(s.alliance, s.other, name=f"{s.alliance.name} Elsewhere")
    factories.commit()
    return w


def test_sql_twin_agrees_with_the_python_predicate(release_world):
    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, LeaderProfile, visible=lambda _u: true(),
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 50


def test_only_the_home_school_approves_and_only_its_unapproved_leaders_wait(release_world):
    w = release_world
    home = w.user("a", "home_school")
    waiting = db.session.scalars(select(LeaderProfile).where(
        policy.waiting_approve_release(home))).all()
    assert [p.user.name for p in waiting] == ["Alpha Leader"]
    approved = next(p for p in db.session.scalars(select(LeaderProfile))
                    if p.user.name.endswith("Approved") and p.alliance_id == w.a.alliance.id)
    assert policy.actions(approved, home)["approve_release"]  # may still change it
    assert not policy.waiting(approved, home)["approve_release"]
    for role in ("headteacher", "director", "admin", "sle"):
        decision = policy.actions(approved, w.user("a", role))["approve_release"]
        assert not decision and decision.forbidden
    assert not policy.actions(approved, w.user("b", "home_school"))["approve_release"]
# The directory profile policy: the leader's own profile and dates, the home school's release
# (``portal/domain/policy/profiles.py``), enforced by the commands themselves.







@pytest.fixture
def profile_world(db):
    """Two alliances' leaders, plus a second leader of another home school in alliance a."""
    w = factories.world()
    other_school = factories.school(w.a.alliance, "Alpha Other Academy")
    w.a.users["other_leader"] = factories.leader(w.a.alliance, other_school, name="Other Leader")
    w.a.users["other_home"] = factories.user(w.a.alliance, "home_school", other_school,
                                             name="Other Home Head")
    db.session.commit()
    return w


def test_sql_twin_agrees_with_the_python_predicate_for_the_directory(profile_world):
    from tests.policy import assert_twins_agree

    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, LeaderProfile, visible=access.leaders_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 10


def test_only_the_leader_changes_their_own_dates(profile_world):
    w = profile_world
    leader = w.a.leader
    profile = leader.profile
    for who in (w.user("a", "admin"), w.a.users["other_leader"], w.user("a", "home_school")):
        with pytest.raises(errors.Forbidden):
            profiles.add_unavailable(who, profile, start=date(2027, 1, 4), end=date(2027, 1, 8))
    assert not profile.unavailable
    with pytest.raises(errors.Invalid) as backwards:
        profiles.add_unavailable(leader, profile, start=date(2027, 1, 8), end=date(2027, 1, 4))
    assert backwards.value.field == "end"
    u = profiles.add_unavailable(leader, profile, start=date(2027, 1, 4), end=date(2027, 1, 8),
                                 note=" Ofsted week ")
    assert u.note == "Ofsted week"
    with pytest.raises(errors.Forbidden):
        profiles.remove_unavailable(w.a.users["other_leader"], profile, u.id)
    with pytest.raises(errors.NotVisible):  # another leader's range, through their own profile
        profiles.remove_unavailable(w.a.users["other_leader"], w.a.users["other_leader"].profile,
                                    u.id)
    profiles.remove_unavailable(leader, profile, u.id)
    db.session.flush()
    assert db.session.get(Unavailability, u.id) is None
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "profile.unavailable_add" in actions and "profile.unavailable_remove" in actions


def test_only_the_home_school_approves_release_within_the_offer(profile_world):
    w = profile_world
    profile = w.a.leader.profile
    offered = profile.capacity_days
    assert offered > 0
    for who in (w.user("a", "admin"), w.a.leader, w.a.users["other_home"],
                w.user("b", "home_school")):
        with pytest.raises(errors.Forbidden):
            profiles.approve_release(who, profile, 1)
    home = w.user("a", "home_school")
    with pytest.raises(errors.Invalid) as too_many:
        profiles.approve_release(home, profile, offered + 1)
    assert too_many.value.field == "days"
    with pytest.raises(errors.Conflict):
        profiles.approve_release(home, profile, 1, version=profile.version + 1)
    assert profile.release_approved_days is None
    profiles.approve_release(home, profile, offered, version=str(profile.version))
    assert profile.release_approved_days == offered and profile.release_approved_by_id == home.id


def test_saving_a_profile_checks_the_version_seen(profile_world):
    leader = profile_world.a.leader
    kwargs = dict(bio="", phases=[], standards=[], specialisms=[], accepting=True,
                  autumn_days=1, spring_days=1, summer_days=1)
    with pytest.raises(errors.Conflict):
        profiles.save_profile(leader, leader.profile, version="", **kwargs)
    profiles.save_profile(leader, leader.profile, version=leader.profile.version, **kwargs)
    assert leader.profile.capacity_days == 3
