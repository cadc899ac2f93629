"""NLE/LLE commissions: side a's request made a commission led by its leader (an LLE), and a
colleague (an SLE at another school, with its own home-school leader) ready to be deployed."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain import commissions
from portal.models import Deployment, User

from ._db import commit
from .alliances import school
from .deployments import advance
from .finance import rate_card
from .people import leader, user
from .worlds import World, world


@dataclass
class CommissionWorld:
    w: World
    commission: Deployment
    commissioner: User
    colleague: User
    colleague_home_head: User


def commission_world(*, status: str = "active", lle_half_days: int = 8) -> CommissionWorld:
    """Side a's deployment as an LLE commission of ``lle_half_days`` on the Sefton card, driven
    to ``status``; side a also has an SLE colleague (and their home school's leader) to deploy."""
    w = world()
    a = w.a
    card = rate_card(a.alliance, "sefton")
    a.request.kind = "commission"
    a.request.half_days_wanted = lle_half_days
    a.leader.profile.designation = "lle"
    d = a.deployment
    d.designation, d.half_days_agreed, d.rate_card_id = "lle", lle_half_days, card.id
    home = school(a.alliance, "Alpha Colleague Primary")
    head = user(a.alliance, "home_school", home, name="Alpha Colleague Home Head")
    colleague = leader(a.alliance, home, designation="sle", name="Alpha Colleague",
                       standards=("TS2",))
    advance(d, status)
    commit()
    return CommissionWorld(w, d, a.leader, colleague, head)


def deploy(cw: CommissionWorld, half_days: int = 12, who: User | None = None) -> Deployment:
    """The commissioner deploys ``who`` (the colleague) under the commission."""
    person = commissions.deploy(cw.commission, (who or cw.colleague).id, half_days,
                                cw.commissioner)
    commit()
    return person
