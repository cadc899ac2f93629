"""NLE/LLE commissions (Sefton points B-F) against the database.

A request of kind ``commission`` is matched, like any request, to its commissioner: an NLE, an
LLE or the Teaching School headteacher (``policy.may_lead``; ``brokering.ranking`` ranks only
them). The commissioner's own deployment is *the
commission*. Under it the commissioner deploys SLEs and other colleagues (:func:`deploy`),
found with the ranked list of the alliance's directory (:func:`ranking`); each is an ordinary
deployment (``commission_id`` the commission, ``commissioning_leader_id`` the commissioner)
that the supported school confirms, the person's home school releases and every party signs,
at their own designation's rate. Adding or taking someone off (:func:`remove`) makes a new
version of the commission's agreement that every party signs again.

The commissioner sees each person's deployment and plan (``access.deployments_visible_to``),
writes mid-point quality-assurance notes on any of them and the end-of-work sign-off of each
person (``policy/evaluations.py``). The commission is invoiced once, at its end
(``finance.settle_commission``). Commands never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select

from ..extensions import db
from ..models import Deployment, LeaderProfile, User
from . import access, agreements, audit, brokering, errors, finance, notify, workflow
from .matching import Exclusion, Match, Need, rank
from .policy import commissions as policy
from .policy import require

MAX_HALF_DAYS = 200
STAGES = {
    "proposed": "Waiting for the school, home school and colleague to agree",
    "agreement": "Agreement being signed",
    "active": "Working",
    "evaluation": "Evaluating",
    "completed": "Completed",
    "ended_early": "Ended early",
    "declined": "Declined",
    "cancelled": "Taken off the commission",
}


@dataclass(frozen=True)
class Member:
    """One person on a commission, as the commission page lists them."""

    deployment: Deployment
    is_commissioner: bool

    @property
    def stage(self) -> str:
        return STAGES.get(self.deployment.status, self.deployment.status_label)

    @property
    def has_plan(self) -> bool:
        """Their action plan exists once their agreement is signed by all."""
        return self.deployment.status in PLANNED


PLANNED = ("active", "evaluation", "completed", "ended_early")


def get_commission(user: User, deployment_id: int) -> Deployment:
    """The commission this user may see (404 otherwise, or when it is not a commission)."""
    d = access.get_deployment(user, deployment_id)
    if not policy.is_commission(d):
        raise errors.NotVisible()
    return d


def members(commission: Deployment, user: User) -> list[Member]:
    """Everyone on the commission this user may see (taken-off people too, to show history)."""
    everyone = finance.commission_members(commission, deployed_only=False)
    visible = set(db.session.scalars(
        select(Deployment.id).where(Deployment.id.in_([d.id for d in everyone]),
                                    access.deployments_visible_to(user))))
    return [Member(d, d.id == commission.id) for d in everyone if d.id in visible]


@dataclass
class Ranking:
    need: Need
    matches: list[Match]
    exclusions: list[Exclusion]


def ranking(commission: Deployment, half_days: int | None = None) -> Ranking:
    """The ranked list for a colleague to deploy under the commission: the commissioner's
    partnership (the alliance's directory), never the commissioner or someone already on it,
    for ``half_days`` (the request's days by default)."""
    need = brokering.need_for(commission.request)
    if half_days:
        need = replace(need, half_days=half_days)
    on_it = {d.leader_id for d in finance.commission_members(commission)}
    candidates = [c for c in brokering.candidates_for(policy.partnership_of(commission),
                                                      need.start, need.end)
                  if c.leader_id not in on_it
                  and policy.may_be_deployed(c.role, commission=False)]
    matches, exclusions = rank(need, candidates)
    return Ranking(need, matches, exclusions)


def check_half_days(half_days: object) -> int:
    if not isinstance(half_days, int) or isinstance(half_days, bool) \
            or not 1 <= half_days <= MAX_HALF_DAYS:
        raise errors.Invalid("Enter the days asked of them: at least half a day, at most "
                             f"{MAX_HALF_DAYS // 2}.", field="days")
    return half_days


def deploy(commission: Deployment, leader_id: int, half_days: int, actor: User, *,
           ip: str = "") -> Deployment:
    """Deploy a ranked colleague under the commission for ``half_days``. They, their home school
    and the supported school each agree (step 3) and everyone signs their agreement; the
    commission's agreement gains them (a new version if anyone had signed it)."""
    require(policy.deploy(commission, actor))
    half_days = check_half_days(half_days)
    chosen = next((m for m in ranking(commission, half_days).matches
                   if m.candidate.leader_id == leader_id), None)
    if chosen is None:
        raise brokering.NotProposable("That colleague cannot be deployed on this commission.")
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader_id))
    assert profile is not None  # ranked, so in the directory
    finance.lock_deployment(commission)
    req = commission.request
    n = db.session.scalar(
        select(func.count(Deployment.id)).where(Deployment.request_id == req.id)) or 0
    person = Deployment(
        reference=brokering.deployment_reference(req, n + 1), request_id=req.id,
        alliance_id=commission.alliance_id, leader_id=leader_id,
        home_school_id=profile.home_school_id, designation=profile.designation,
        half_days_agreed=half_days, commission_id=commission.id,
        commissioning_leader_id=commission.leader_id, rate_card_id=commission.rate_card_id,
        proposed_by_id=actor.id, status="proposed")
    db.session.add(person)
    db.session.flush()
    audit.record(actor, "commission.deployed", person, ip=ip, detail={
        "commission": commission.reference, "leader_id": leader_id, "half_days": half_days,
        "designation": profile.designation, "score": chosen.score})
    leader = profile.user
    notify.notify([u for u in brokering.parties(person, req) if u.id != leader.id],
                  f"{commission.leader.name} would like to deploy {leader.name} under "
                  f"commission {commission.reference} {req.title}: please confirm or decline",
                  brokering.deployment_url(person), alliance_id=commission.alliance_id)
    notify.notify([leader], f"{commission.leader.name} would like to deploy you under "
                  f"commission {commission.reference} {req.title}: please accept or decline",
                  brokering.deployment_url(person), alliance_id=commission.alliance_id)
    agreements.amend_commission(commission, actor, ip=ip,
                                why=f"{leader.name} was added to the commission")
    return person


def remove(person: Deployment, actor: User, *, reason: str, ip: str = "") -> None:
    """Take someone off the commission before their work starts: their proposal (or unsigned
    agreement) is cancelled, and the commission's agreement changes for every party to sign."""
    require(policy.remove(person, actor))
    reason = (reason or "").strip()
    if not reason:
        raise workflow.ReasonRequired("Say why they are coming off the commission.")
    commission = person.commission
    assert commission is not None
    latest = agreements.current(person.id)
    if latest is not None and latest.status not in ("void", "signed", "superseded"):
        latest.status = "void"
        latest.void_reason = reason
        audit.record(actor, "agreement.voided", latest, alliance_id=person.alliance_id,
                     detail={"version": latest.version, "reason": reason}, ip=ip)
    workflow.transition(person, "cancelled", actor, reason=reason, ip=ip,
                        detail={"commission": commission.reference})
    notify.notify(brokering.parties(person), f"{person.leader.name} is no longer deployed "
                  f"under commission {commission.reference}: {reason}"[:300],
                  brokering.deployment_url(person), alliance_id=person.alliance_id)
    agreements.amend_commission(commission, actor, ip=ip,
                                why=f"{person.leader.name} was taken off the commission")

