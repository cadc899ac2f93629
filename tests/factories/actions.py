"""A world where something waits for every role: each kind of "Needs your action" item
(``portal/dashboard/actions.py``) on both sides of the two-alliance world, reached through the
real workflow."""

from __future__ import annotations

from portal.domain import evaluations, workflow
from portal.extensions import db
from portal.models import Deployment, Variation

from ._db import commit
from .deployments import _ratings, advance, deployment
from .evaluations import live
from .people import acting, leader
from .requests import support_request
from .worlds import Side, World, world


def _side_name(s: Side) -> str:
    return s.users["headteacher"].name.split()[0]  # "Alpha", "Beta"


def _on(s: Side, name: str, title: str, by: str = "headteacher") -> Deployment:
    """A proposal of a new leader from the side's home school for a new request (filed by the
    side's ``by``: the headteacher, or the EIP officer for their group)."""
    lead = leader(s.alliance, s.home, name=f"{_side_name(s)} {name}")
    r = support_request(s.alliance, s.users[by], [s.receiving], title=title)
    return deployment(r, lead)


def waiting_everywhere(s: Side) -> dict[str, object]:
    """Add to side ``s`` one object of each kind of item; returns them by kind. The side's own
    proposal (``s.deployment``) already waits to be confirmed, released and accepted, and its
    request (submitted) to be triaged."""
    admin = acting("admin", alliance_id=s.alliance.id)
    n = _side_name(s)
    made: dict[str, object] = {"proposal": s.deployment, "triage": s.request}
    made["match"] = support_request(s.alliance, s.users["headteacher"], [s.receiving],
                                    status="matching", title=f"{n} phonics")
    asked = support_request(s.alliance, s.users["headteacher"], [s.receiving],
                            title=f"{n} writing")
    workflow.transition(asked, "more_info", admin, reason="Which year groups?")
    made["resubmit"] = asked
    signing = _on(s, "Signer", f"{n} science")
    advance(signing, "agreement", confirmed_days_ago=4)  # first contact due in 2 days
    made["signing"] = signing
    extra = live(_on(s, "Extender", f"{n} reading"))
    v = Variation(deployment_id=extra.id, half_days=4, reason="Two more visits",
                  requested_by_id=extra.leader_id)
    db.session.add(v)
    made["variation"] = v
    made["write"] = extra  # active, not yet evaluated
    to_forward = live(_on(s, "Evaluator", f"{n} history"))
    advance(to_forward, "evaluation")
    made["forward"] = to_forward
    forwarded = live(_on(s, "Forwarded", f"{n} art"))
    advance(forwarded, "evaluation")
    evaluations.forward(forwarded, admin)
    made["sign_school"] = forwarded
    signed = live(_on(s, "Signed", f"{n} music"))
    advance(signed, "evaluation")
    evaluations.forward(signed, admin)
    evaluations.sign_off_school(signed, s.users["headteacher"], ratings=_ratings(signed, 3, ""),
                                support_quality=4, value_for_money=4, would_use_again=True,
                                summary="Good support.")
    made["sign_off"] = signed
    returned = live(_on(s, "Returned", f"{n} geography"))
    advance(returned, "evaluation")
    evaluations.forward(returned, admin)
    evaluations.return_to_leader(returned, s.users["headteacher"], reason="Add the evidence.")
    made["revise"] = returned
    for_group = live(_on(s, "Grouped", f"{n} drama", by="officer"))
    advance(for_group, "evaluation")
    evaluations.forward(for_group, admin)  # the officer evaluates it for the group
    made["sign_group"] = for_group
    db.session.flush()
    return made


def actions_world() -> World:
    """The shared world with :func:`waiting_everywhere` on both sides (``w.made['a']``)."""
    w = world()
    w.made = {"a": waiting_everywhere(w.a), "b": waiting_everywhere(w.b)}  # type: ignore[attr-defined]
    commit()
    return w
