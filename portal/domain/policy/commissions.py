"""Who may run an NLE/LLE commission, and when (Sefton points B-D).

A commission is the commissioner's own deployment on a request of kind ``commission`` (the
NLE, LLE or Teaching School headteacher matched to it, who stays responsible and is the
school's point of contact). The people the commissioner deploys under it are deployments whose
``commission_id`` points at it and whose ``commissioning_leader_id`` is the commissioner; each
goes through the ordinary confirm, release and agreement steps (``policy/deployments.py``,
``policy/agreements.py``).

* ``view``: the commission page (every person, their stage, their plan) for whoever sees the
  commission (``access.get_deployment``) - the page lists only the people the viewer sees;
* ``deploy``: the commissioner (or the co-ordinator or director) deploys a colleague while the
  commission is being agreed or is active;
* ``remove`` (on a person): the commissioner (or co-ordinator or director) takes someone off the
  commission before their work starts (proposed, or their agreement still being signed).

Adding or removing someone makes a new version of the commission's agreement that every party
signs again (``agreements.amend_commission``).
"""

from __future__ import annotations

from ...models import Deployment, User
from . import LEADER_ROLES, Decision, allow, forbid, not_now

OVERSEERS = ("admin", "director")
DEPLOYS_WHILE = ("agreement", "active")
REMOVABLE = ("proposed", "agreement")
ACTIONS = ("view", "deploy")
PERSON_ACTIONS = ("remove",)


# Sefton B: "a commissioned NLE, LLE or Teaching School headteacher" leads a commission
LEADING_DESIGNATIONS = ("nle", "lle")
TEACHING_SCHOOL_HEAD = "director"  # the alliance's director is its Teaching School headteacher
MAY_LEAD = "An NLE/LLE commission is led by an NLE, an LLE or the Teaching School headteacher"


# The designations a co-ordinator may give the Teaching School headteacher's leader profile:
# the rate their commission is charged at, in the words a headteacher uses.
TEACHING_SCHOOL_HEAD_CHARGED_AS = {
    "nle": "Teaching School headteacher, charged as a National Leader of Education",
    "lle": "Teaching School headteacher, charged as a Local Leader of Education",
}
CHARGED_AS_MESSAGE = ("Choose how this Teaching School headteacher is charged: as a National "
                      "Leader of Education or a Local Leader of Education")


def may_lead(designation: str, role: str) -> bool:
    """Who may be matched to lead a commission: an NLE or LLE in the directory, or the
    Teaching School headteacher (the director) with a leader profile, whatever its
    designation (they are charged at the designation their profile gives)."""
    return designation in LEADING_DESIGNATIONS or role == TEACHING_SCHOOL_HEAD


def may_be_deployed(role: str, *, commission: bool) -> bool:
    """The Teaching School headteacher leads commissions only: never an ordinary deployment,
    nor a colleague's place under someone else's commission."""
    return role != TEACHING_SCHOOL_HEAD or commission


def partnership_of(commission: Deployment) -> int:
    """The partnership whose SLEs and colleagues the commissioner may deploy (Sefton C): the
    commission's alliance (its directory)."""
    return commission.alliance_id


def is_commission(d: Deployment) -> bool:
    """The commissioner's own deployment on an NLE/LLE commission request."""
    return d.commission_id is None and d.request is not None and d.request.kind == "commission"


def commissioner_id(d: Deployment) -> int | None:
    """Who commissions ``d``: its own leader for the commission, the commissioner for a person
    deployed under it, None for an ordinary deployment."""
    if d.commission_id is not None:
        return d.commissioning_leader_id
    return d.leader_id if is_commission(d) else None


def is_commissioner(d: Deployment, user: User) -> bool:
    return user.role in LEADER_ROLES and user.id == commissioner_id(d)


def view(d: Deployment, user: User) -> Decision:
    if not is_commission(d):
        return not_now("This deployment is not an NLE/LLE commission.")
    return allow()


def deploy(d: Deployment, user: User) -> Decision:
    if not is_commission(d):
        return not_now("Colleagues are deployed only under an NLE/LLE commission.")
    if not (is_commissioner(d, user) or (user.role in OVERSEERS
                                         and user.alliance_id == d.alliance_id)):
        return forbid("Only the commissioner, the co-ordinator or the director deploys "
                      "colleagues under a commission.")
    if d.status not in DEPLOYS_WHILE:
        return not_now("Colleagues can be deployed once the commission is confirmed and until "
                       "it closes.")
    return allow()


def remove(person: Deployment, user: User) -> Decision:
    if person.commission_id is None:
        return not_now("Only someone deployed under a commission can be taken off it.")
    if not (is_commissioner(person, user) or (user.role in OVERSEERS
                                              and user.alliance_id == person.alliance_id)):
        return forbid("Only the commissioner, the co-ordinator or the director takes someone "
                      "off a commission.")
    if person.status not in REMOVABLE:
        return not_now("Someone whose work has started ends early instead of being taken off.")
    return allow()


def actions(d: Deployment, user: User) -> dict[str, Decision]:
    """The commission-wide actions for this user on a commission (or any deployment)."""
    return {"view": view(d, user), "deploy": deploy(d, user)}


def person_actions(person: Deployment, user: User) -> dict[str, Decision]:
    return {"remove": remove(person, user)}
