"""Who may sign, decline, edit and void an agreement, and when. (Step 5.)

The policy convention of ``portal/domain/policy/__init__.py``, after ``evaluations.py``:

* :func:`actions` answers every agreement action for a user and an agreement;
* :func:`waiting` is the Python form of "agreements waiting for my signature", and its SQL twin
  :func:`waiting_sign` sits right below the predicate it mirrors; the home panel
  (``portal/agreements/routes.py:agreements_to_sign``) selects with it.
  ``tests/unit/test_policy_agreements.py`` checks that both forms agree for every user and
  agreement of a test world.

"Open for signature" (:func:`is_open`) is one rule: the agreement is a draft or out for
signature and its deployment is still waiting for its agreement. A superseded or void version is
never open, so an open agreement is always its deployment's latest version.

The signatory slots themselves (who fills which party) are ``domain/agreements.py:slots``; the
slot a user holds is a fact passed in (:func:`facts`), like the evaluations of step 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_
from sqlalchemy.orm import aliased

from ...models import Agreement, Alliance, Deployment, RequestSchool, Signature, User
from . import Decision, allow, forbid, not_now

if TYPE_CHECKING:
    from ..agreements import Slot

OVERSEERS = ("admin", "director")
OPEN = ("draft", "signing")
# Where a deployment's agreement can be out for signature: waiting for its first agreement, or
# active with an amendment (a new version after the signed one: extra days, new dates).
SIGNING_STATUSES = ("agreement", "active")
ACTIONS = ("sign", "decline", "edit", "void", "sign_on_behalf")


@dataclass(frozen=True)
class Facts:
    """What the agreement rules read besides the agreement and its deployment."""

    slot: Slot | None  # the signatory slot this user holds, with its live signature if any
    # for the co-ordinator or director: the school slots still to sign that nobody can sign in
    # to fill (``domain/agreements.py:on_behalf_slots``)
    on_behalf: tuple[Slot, ...] = ()


def facts(agreement: Agreement, deployment: Deployment, user: User) -> Facts:
    from ..agreements import on_behalf_slots, slot_for  # the slots live with the content

    behalf = tuple(on_behalf_slots(deployment, agreement)) \
        if user.role in OVERSEERS and is_open(agreement, deployment) else ()
    return Facts(slot_for(deployment, agreement, user), behalf)


def is_open(agreement: Agreement, deployment: Deployment) -> bool:
    """Open for signature (and for editing)."""
    return agreement.status in OPEN and deployment.status in SIGNING_STATUSES


def is_amendment(agreement: Agreement, deployment: Deployment) -> bool:
    """A new version out for signature while the deployment goes on under the signed one."""
    return agreement.status in OPEN and deployment.status == "active"


def amendable(agreement: Agreement, deployment: Deployment) -> bool:
    """The signed agreement of an active deployment: changing it makes an amendment."""
    return agreement.status == "signed" and deployment.status == "active"


def not_signed_note(agreement: Agreement) -> str | None:
    """The watermark of a printed version that is not (or no longer) the signed agreement."""
    if agreement.status == "signed":
        return None
    from ...models import AGREEMENT_STATUSES

    if agreement.signed_at is not None:  # signed by all, then amended
        return "Signed by every party, and since replaced by a later version."
    return f"Not a signed agreement: {AGREEMENT_STATUSES[agreement.status].lower()}."


def signing_started(agreement: Agreement) -> bool:
    """Someone has signed or declined this version: an edit now makes a new version."""
    return agreement.status in ("signing", "signed")


# ------------------------------------------------------------------------------ predicates


def sign(agreement: Agreement, deployment: Deployment, user: User, f: Facts) -> Decision:
    """A signatory signs (or declines) the open version once."""
    if f.slot is None:
        return forbid("You are not a signatory of this agreement.")
    if not is_open(agreement, deployment):
        return not_now("This agreement is no longer open for signature.")
    if f.slot.signature is not None:
        return not_now("You have already " + ("signed" if f.slot.signed else "declined")
                       + " this version.")
    return allow()


def decline(agreement: Agreement, deployment: Deployment, user: User, f: Facts) -> Decision:
    """Declining is the other answer to the same request to sign."""
    return sign(agreement, deployment, user, f)


def edit(agreement: Agreement, deployment: Deployment, user: User, _f: Facts) -> Decision:
    if user.role not in OVERSEERS:
        return forbid("Only the co-ordinator or director edits the terms of an agreement.")
    if not (is_open(agreement, deployment) or amendable(agreement, deployment)):
        return not_now("This version can no longer be edited.")
    return allow()


def void(agreement: Agreement, deployment: Deployment, user: User, _f: Facts) -> Decision:
    if user.role not in OVERSEERS:
        return forbid("Only the co-ordinator or director voids an agreement.")
    if not is_open(agreement, deployment) or deployment.status != "agreement":
        return not_now("This agreement can no longer be voided.")
    return allow()


def edit_terms(alliance: Alliance, user: User) -> Decision:
    """The alliance's terms for new agreements: its co-ordinator or director."""
    if user.role not in OVERSEERS or user.alliance_id != alliance.id:
        return forbid("Only the co-ordinator or director changes the alliance's terms.")
    return allow()



def sign_on_behalf(agreement: Agreement, deployment: Deployment, user: User,
                   f: Facts) -> Decision:
    """The co-ordinator or director records the signature of a school with no login (who
    agreed, how, when), only while nobody at that school can sign in to sign it themselves."""
    if user.role not in OVERSEERS or user.alliance_id != deployment.alliance_id:
        return forbid("Only the co-ordinator or director records a school's signature for it.")
    if not is_open(agreement, deployment):
        return not_now("This agreement is no longer open for signature.")
    if not f.on_behalf:
        return not_now("Every school still to sign has someone who can sign in: they sign "
                       "in the portal themselves.")
    return allow()


_PREDICATES = {"sign": sign, "decline": decline, "edit": edit, "void": void,
               "sign_on_behalf": sign_on_behalf}


def actions(agreement: Agreement, user: User, *, deployment: Deployment | None = None,
            f: Facts | None = None) -> dict[str, Decision]:
    """Every agreement action for this user on this agreement (version)."""
    from ...extensions import db

    deployment = deployment if deployment is not None \
        else db.session.get(Deployment, agreement.deployment_id)
    assert deployment is not None
    f = f if f is not None else facts(agreement, deployment, user)
    return {name: predicate(agreement, deployment, user, f)
            for name, predicate in _PREDICATES.items()}


# ------------------------------------------------------------------- waiting for me (Python)


def waiting(agreement: Agreement, user: User) -> dict[str, bool]:
    """The "waiting for me" entries this agreement makes for this user (Python form).

    Each key has its SQL twin in :data:`WAITING_SQL`; the two must agree.
    """
    return {"sign": actions(agreement, user)["sign"].allowed}


WAITING_LABELS = {"sign": "Read and sign the agreement"}


# ---------------------------------------------------------------------- the SQL twins


def _party(user: User) -> str | None:
    """The signatory party a user's role fills (``domain/agreements.py:slots``)."""
    if user.role == "sle":
        return "leader"
    if user.role == "director":
        return "director"
    if user.role == "home_school" and user.school_id:
        return f"home_school:{user.school_id}"
    if user.role == "headteacher" and user.school_id:
        return f"receiving:{user.school_id}"
    return None


# Built once: SQLAlchemy memoises each aliased attribute, so a new alias per call paid that
# cost on every page (about a third of the director's home at national scale, issue 20).
_SIGNING = aliased(Deployment, name="signing_deployment")


def waiting_sign(user: User, deployment: Any = None) -> ColumnElement[bool]:
    """SQL twin of :func:`sign` allowed, over ``Agreement``: open, the user holds a slot
    (``domain/agreements.py:holds``) and has no live signature or decline on this version.

    ``deployment``: the agreement's deployment where the query already has it (joined, or the
    outer row of a correlated EXISTS; the caller relates it to ``Agreement.deployment_id``).
    Without it the twin finds the deployment itself, in an EXISTS that PostgreSQL may run as
    one hashed scan of every open agreement in the country (issue 20: 10 ms a page at ten
    times national scale, twice on a director's home)."""
    party = _party(user)
    if party is None or not user.active:
        return false()
    d = _SIGNING if deployment is None else deployment

    def on_deployment(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        if deployment is not None:
            return and_(*conditions)
        return exists().where(d.id == Agreement.deployment_id, *conditions)

    if user.role == "sle":
        holds: ColumnElement[bool] = d.leader_id == user.id
    elif user.role == "director":  # and the leader's slot where they lead (a commission)
        holds = d.alliance_id == user.alliance_id
    elif user.role == "home_school":
        holds = d.home_school_id == user.school_id
    else:
        holds = exists().where(RequestSchool.request_id == d.request_id,
                               RequestSchool.school_id == user.school_id)
    open_ = on_deployment(d.status.in_(SIGNING_STATUSES), holds)

    def answered(as_party: str) -> ColumnElement[bool]:
        return exists().where(Signature.agreement_id == Agreement.id,
                              Signature.party == as_party, Signature.voided_at.is_(None))

    waits = and_(open_, not_(answered(party)))
    if user.role == "director":  # leading a commission, they hold its leader's slot too
        leads = on_deployment(d.status.in_(SIGNING_STATUSES), d.leader_id == user.id)
        waits = or_(waits, and_(leads, not_(answered("leader"))))
    return and_(Agreement.status.in_(OPEN), waits)


WAITING_SQL = {"sign": waiting_sign}
