"""Test data for agreements: rate cards, and deployments moved into "agreement" (which drafts
version 1 through the workflow hook, exactly as the last confirmation does)."""

from __future__ import annotations

from datetime import date

from portal.domain import agreements as service
from portal.domain import workflow
from portal.extensions import db
from portal.models import Agreement, Alliance, Deployment, RateCard, User

from . import factories


def rate_card(a: Alliance, *, effective_from: date = date(2020, 9, 1), **overrides) -> RateCard:
    if a.charging_model == "east_sussex":
        values = dict(nle_day_pence=35000, lle_day_pence=35000, slt_day_pence=35000,
                      sle_day_pence=35000, non_sle_day_pence=35000, brokerage_bp=0,
                      board_grant_day_pence=20000, board_school_day_pence=15000)
    else:
        values = dict(nle_day_pence=50000, lle_day_pence=45000, slt_day_pence=40000,
                      sle_day_pence=35000, non_sle_day_pence=30000, brokerage_bp=1000,
                      gpv_half_day_pence=10000, gpv_free_per_year=1, consult_hour_pence=7000,
                      consult_free_hours=1)
    values.update(overrides)
    card = RateCard(alliance_id=a.id, model=a.charging_model, effective_from=effective_from,
                    **values)
    db.session.add(card)
    db.session.flush()
    return card


def to_agreement(d: Deployment) -> Agreement:
    """Move a proposed deployment to "agreement" as the system; the hook drafts version 1."""
    workflow.transition(d, "agreement", None)
    db.session.flush()
    return service.current(d.id)


def ready_world(*, terms: str = "1. Be kind.\n2. Keep data safe.") -> factories.World:
    """The standard two-alliance world with a rate card and a drafted agreement on each side."""
    w = factories.world()
    for side in (w.a, w.b):
        side.alliance.agreement_terms = terms
        rate_card(side.alliance)
        to_agreement(side.deployment)
    db.session.commit()
    return w


SIGNER_ROLES = ("sle", "home_school", "director", "headteacher")


def signers(w: factories.World, side: str = "a") -> list[User]:
    return [w.user(side, role) for role in SIGNER_ROLES]


def sign(agreement: Agreement, user: User) -> None:
    agreement = service.current(agreement.deployment_id)
    service.sign(agreement, user, version=agreement.version, seen_hash=agreement.content_hash,
                 typed_name=user.name, ip="127.0.0.1", user_agent="pytest")
