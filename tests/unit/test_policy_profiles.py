"""The yearly release policy (``portal/domain/policy/profiles.py``): who approves a leader's
release, and its "waiting for my approval" SQL twin."""

from __future__ import annotations

import pytest
from sqlalchemy import select, true

from portal.domain.policy import profiles as policy
from portal.extensions import db
from portal.models import LeaderProfile, User
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
