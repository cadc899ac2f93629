"""Builders for money tests: rate cards for both seeded models, Boards, finished deployments."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.models import Board, Deployment, RateCard, RequestSchool

from . import factories


def rate_card(alliance, model: str = "sefton", *, effective_from: date = date(2020, 9, 1),
              **overrides) -> RateCard:
    """A stored card with the seeded rates of ``model`` (see portal.demo._rate_card)."""
    if model == "east_sussex":
        fields = dict(nle_day_pence=35000, lle_day_pence=35000, slt_day_pence=35000,
                      sle_day_pence=35000, non_sle_day_pence=35000, brokerage_bp=0,
                      board_grant_day_pence=20000, board_school_day_pence=15000)
    else:
        fields = dict(nle_day_pence=50000, lle_day_pence=45000, slt_day_pence=40000,
                      sle_day_pence=35000, non_sle_day_pence=30000, brokerage_bp=1000,
                      gpv_half_day_pence=10000, gpv_free_per_year=1, consult_hour_pence=7000,
                      consult_free_hours=1)
    fields.update(overrides)
    card = RateCard(alliance_id=alliance.id, model=model, effective_from=effective_from, **fields)
    db.session.add(card)
    db.session.flush()
    return card


def board(alliance, name: str = "Primary Board", phase: str = "primary") -> Board:
    b = Board(alliance_id=alliance.id, name=name, phase=phase, budget_pence=1_000_000)
    db.session.add(b)
    db.session.flush()
    return b


def priced_deployment(side, *, model: str = "sefton", designation: str = "lle",
                      half_days: int = 8, delivered: int | None = None, status: str = "evaluation",
                      targeted: bool = False, kind: str = "sle_deployment",
                      extra_schools=(), card: RateCard | None = None) -> Deployment:
    """The side's deployment, made ready to finish: priced on a card, with days delivered.

    Also gives the side a Board (and its board user that Board) when ``targeted``.
    """
    a = side.alliance
    a.charging_model = model
    card = card or rate_card(a, model)
    d = side.deployment
    d.designation = designation
    d.half_days_agreed = half_days
    d.half_days_delivered = half_days if delivered is None else delivered
    d.status = status
    d.targeted = targeted
    d.rate_card_id = card.id
    side.request.kind = kind
    if targeted:
        b = board(a)
        side.request.board_id = b.id
        side.users["board"].board_id = b.id
    for i, s in enumerate(extra_schools, start=1):
        side.request.schools.append(RequestSchool(school_id=s.id, position=i))
    db.session.commit()
    return d


def headteacher_of(side, school):
    return factories.user(side.alliance, "headteacher", school)
