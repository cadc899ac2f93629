"""Agreements: signing as a test user, and the world with a drafted agreement on each side."""

from __future__ import annotations

from portal.domain import agreements as service
from portal.models import Agreement, User

from ._db import commit
from .deployments import advance
from .finance import rate_card
from .worlds import World, world

SIGNER_ROLES = ("sle", "home_school", "director", "headteacher")


def signers(w: World, side: str = "a") -> list[User]:
    return [w.user(side, role) for role in SIGNER_ROLES]


def sign(agreement: Agreement, user: User) -> None:
    """``user`` signs the current version of the agreement, as shown to them."""
    agreement = service.current(agreement.deployment_id)
    service.sign(agreement, user, version=agreement.version, seen_hash=agreement.content_hash,
                 typed_name=user.name, ip="127.0.0.1", user_agent="pytest")


def sign_all(d) -> None:
    """Every party signs the current version of ``d``'s agreement (an amendment, too)."""
    from .deployments import _sign_all

    _sign_all(d)
    commit()


def ready_world(*, terms: str = "1. Be kind.\n2. Keep data safe.") -> World:
    """The standard two-alliance world with a rate card and, every party having confirmed, a
    drafted agreement on each side."""
    w = world()
    for side in (w.a, w.b):
        side.alliance.agreement_terms = terms
        rate_card(side.alliance)
        advance(side.deployment, "agreement")
    commit()
    return w
