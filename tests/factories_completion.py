"""Test data for step 6: live deployments with an action plan of intended outcomes."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import (
    ActionPlan,
    Board,
    Deployment,
    LocalAuthority,
    Outcome,
    RateCard,
    utcnow,
)

from . import factories

OUTCOMES = (("Teachers plan sequences that build reasoning", "TS2"),
            ("Assessment judgements are moderated and accurate", "TS6"))


def plan(d: Deployment, outcomes=OUTCOMES) -> list[Outcome]:
    p = ActionPlan(deployment_id=d.id)
    p.outcomes = [Outcome(text=text, standard=std, position=i)
                  for i, (text, std) in enumerate(outcomes)]
    db.session.add(p)
    db.session.flush()
    return list(p.outcomes)


def make_live(d: Deployment, *, status: str = "active", delivered: int = 6,
              outcomes=OUTCOMES) -> Deployment:
    now = utcnow()
    d.status = status
    d.half_days_delivered = delivered
    d.confirmed_at = now - timedelta(days=30)
    d.active_at = now - timedelta(days=28)
    d.first_contact_at = now - timedelta(days=27)
    d.request.matched_at = d.request.submitted_at + timedelta(hours=1) \
        if d.request.submitted_at else None
    d.request.status = "matched"
    db.session.flush()
    plan(d, outcomes)
    return d


def world():
    """The shared two-alliance world with both deployments active and planned."""
    w = factories.world()
    for s in (w.a, w.b):
        make_live(s.deployment)
    db.session.commit()
    return w


def board_for(side, *, budget: int = 2_000_000, phase: str = "primary") -> Board:
    """A Board in the side's alliance, its board user attached to it, and a rate card."""
    b = Board(alliance_id=side.alliance.id, name=f"{side.alliance.short_name} Primary Board",
              phase=phase, budget_pence=budget)
    db.session.add(b)
    db.session.flush()
    side.users["board"].board_id = b.id
    db.session.add(RateCard(alliance_id=side.alliance.id, model="east_sussex",
                            effective_from=utcnow().date() - timedelta(days=400),
                            nle_day_pence=35000, lle_day_pence=35000, slt_day_pence=35000,
                            sle_day_pence=35000, non_sle_day_pence=35000,
                            board_grant_day_pence=20000, board_school_day_pence=15000))
    db.session.flush()
    return b


def local_authority(name: str) -> LocalAuthority:
    la = LocalAuthority(name=name)
    db.session.add(la)
    db.session.flush()
    return la
