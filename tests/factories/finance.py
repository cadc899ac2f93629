"""Money: rate cards with the seeded rates of ``portal.domain.charging``, and deployments
driven to the point where they are priced and ready to finish."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from portal.domain import charging
from portal.extensions import db
from portal.models import Alliance, Deployment, RateCard, RequestSchool, School, User

from ._db import commit
from .alliances import board
from .deployments import advance
from .people import user

SEEDED_CARDS = {"east_sussex": charging.east_sussex_card, "sefton": charging.sefton_card}


def _columns(card: charging.RateCard) -> dict[str, int]:
    """The stored columns of a pure charging card (the inverse of ``finance.to_card``)."""
    return {
        **{f"{d}_day_pence": card.day_rates[d] for d in charging.DESIGNATIONS},
        "brokerage_bp": card.brokerage_bp,
        "board_grant_day_pence": card.board_grant_day,
        "board_school_day_pence": card.board_school_day,
        "gpv_half_day_pence": card.gpv_half_day,
        "gpv_free_per_year": card.gpv_free_per_year,
        "consult_hour_pence": card.consult_hour,
        "consult_free_hours": card.consult_free_hours,
    }


def rate_card(a: Alliance, model: str | None = None, *, effective_from: date = date(2020, 9, 1),
              **overrides: int) -> RateCard:
    """A stored card for ``a`` with the seeded rates of ``model`` (the alliance's own charging
    model unless named), any column changed by ``overrides``."""
    model = model or a.charging_model
    columns = {**_columns(SEEDED_CARDS[model]()), **overrides}
    card = RateCard(alliance_id=a.id, model=model, effective_from=effective_from, **columns)
    db.session.add(card)
    db.session.flush()
    return card


def headteacher_of(side, s: School) -> User:
    """The school's headteacher, made if it has none (every receiving school must confirm)."""
    existing = db.session.query(User).filter_by(role="headteacher", school_id=s.id,
                                                active=True).first()
    return existing or user(side.alliance, "headteacher", s)


def priced_deployment(side, *, model: str = "sefton", designation: str = "lle",
                      half_days: int = 8, delivered: int | None = None, status: str = "evaluation",
                      targeted: bool = False, kind: str = "sle_deployment",
                      extra_schools: Iterable[School] = (), card: RateCard | None = None
                      ) -> Deployment:
    """The side's deployment priced on a card (``model``'s seeded card unless given), with
    ``delivered`` half days logged as visits (all of them by default), and driven through the
    real workflow to ``status``.

    Also gives the side a Board (and its board user that Board) when ``targeted``.
    """
    a = side.alliance
    a.charging_model = model
    card = card or rate_card(a, model)
    d = side.deployment
    d.designation = designation
    d.half_days_agreed = half_days
    d.targeted = targeted
    d.rate_card_id = card.id
    side.request.kind = kind
    if targeted:
        b = board(a)
        side.request.board_id = b.id
        side.users["board"].board_id = b.id
    for i, s in enumerate(extra_schools, start=1):
        side.request.schools.append(RequestSchool(school_id=s.id, position=i))
        headteacher_of(side, s)
    db.session.flush()
    advance(d, to=status, delivered=half_days if delivered is None else delivered)
    commit()
    return d
