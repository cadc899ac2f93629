"""Step 6: live deployments with an action plan of intended outcomes, ready to evaluate."""

from __future__ import annotations

from datetime import timedelta

from portal.models import Board, Deployment, utcnow

from ._db import commit
from .alliances import board
from .deployments import advance
from .finance import rate_card
from .plans import outcome, plan_of
from .worlds import World, world

OUTCOMES = (("Teachers plan sequences that build reasoning", "TS2"),
            ("Assessment judgements are moderated and accurate", "TS6"))


def live(d: Deployment, *, delivered: int = 6, outcomes=OUTCOMES) -> Deployment:
    """``d`` active a month on: confirmed 30 days ago, first contact three days later,
    ``delivered`` half days of visits, and ``outcomes`` (text, standard) in its plan.

    The request is dated as matched an hour after it was submitted, for the reports' clocks.
    """
    advance(d, "active", delivered=delivered, confirmed_days_ago=30, first_contact_days_ago=27)
    if d.request.submitted_at is not None:
        d.request.matched_at = d.request.submitted_at + timedelta(hours=1)
    plan = plan_of(d)
    for text, standard in outcomes:
        outcome(plan, text, standard)
    return d


def evaluations_world() -> World:
    """The shared two-alliance world with both deployments live and planned."""
    w = world()
    for s in (w.a, w.b):
        live(s.deployment)
    commit()
    return w


def board_for(side, *, budget: int = 2_000_000, phase: str = "primary") -> Board:
    """A Board in the side's alliance, its board user attached to it, and an East Sussex rate
    card in force for the last 400 days."""
    b = board(side.alliance, f"{side.alliance.short_name} Primary Board", phase=phase,
              budget_pence=budget)
    side.users["board"].board_id = b.id
    rate_card(side.alliance, "east_sussex",
              effective_from=utcnow().date() - timedelta(days=400))
    return b
