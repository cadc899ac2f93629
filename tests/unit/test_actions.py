""""Needs your action" (``portal/dashboard/actions.py``): every role's list over a world where
something waits for everyone, each item listed exactly when the policy allows the user to act,
never another alliance's, in the words a headteacher uses, capped, and at a bounded cost."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.dashboard import actions
from portal.domain import access, brokering
from portal.domain.policy import agreements as agreement_policy
from portal.domain.policy import deployments as deployment_policy
from portal.domain.policy import evaluations as evaluation_policy
from portal.domain.policy import plans as plan_policy
from portal.domain.policy import profiles as profile_policy
from portal.domain.policy import requests as request_policy
from portal.extensions import db
from portal.models import (
    Agreement,
    Deployment,
    LeaderProfile,
    RequestSchool,
    SupportRequest,
    User,
    Variation,
)
from tests import factories
from tests.factories.actions import actions_world
from tests.querycount import counted


@pytest.fixture
def aw(db, app):
    w = actions_world()
    with app.test_request_context("/"):  # the items carry their links
        yield w


def _users():
    return db.session.scalars(select(User).order_by(User.id)).all()


def _allowed(user) -> set[tuple[str, int]]:
    """What the Python policies allow this user to act on now, over everything they may see."""
    out: set[tuple[str, int]] = set()
    for d in db.session.scalars(select(Deployment).where(access.deployments_visible_to(user))):
        out |= {(k, d.id) for k, yes in deployment_policy.waiting(d, user).items() if yes}
        if plan_policy.actions(d, user)["log_first_contact"]:
            out.add(("log_first_contact", d.id))
        can = evaluation_policy.waiting(d, user)
        out |= {(k, d.id) for k, yes in can.items() if yes}
        for a in db.session.scalars(select(Agreement).where(Agreement.deployment_id == d.id)):
            if agreement_policy.actions(a, user, deployment=d)["sign"]:
                out.add(("sign", d.id))
    for v in db.session.scalars(select(Variation).join(Deployment).where(
            access.plans_visible_to(user))):
        if plan_policy.actions(v, user)["approve"]:
            out.add(("approve", v.id))
    for r in db.session.scalars(select(SupportRequest).where(access.requests_visible_to(user))):
        can = request_policy.actions(r, user)
        out |= {(kind, r.id) for kind, action in
                (("triage", "accept"), ("match", "propose"), ("resubmit", "resubmit"))
                if can[action]}
    for p in db.session.scalars(select(LeaderProfile)):
        if profile_policy.waiting(p, user)["approve_release"]:
            out.add(("approve_release", p.id))
    return out


def _listed(user) -> set[tuple[str, int]]:
    items = actions.for_user(user, limit=None).items
    listed = {(i.kind, i.obj_id) for i in items}
    assert len(listed) == len(items), "an item is listed twice"
    return listed


def test_an_item_is_listed_exactly_when_the_policy_allows_the_action(aw):
    """Parity, both ways, for every user of both alliances (the co-ordinator's inbox, proposals,
    signatures, first contact, extra days, evaluations, resubmitting and yearly release)."""
    kinds_seen: set[str] = set()
    for user in _users():
        assert _listed(user) == _allowed(user), f"{user.role} {user.name}"
        kinds_seen |= {k for k, _ in _listed(user)}
    assert kinds_seen == {k.name for k in actions.KINDS}  # no kind is vacuous


def test_the_parity_check_can_fail(aw, monkeypatch):
    """A twin that forgets "not answered yet" lists a proposal the head has already confirmed:
    the parity check catches it. With the real twin the item goes once the head confirms."""
    head = aw.user("a", "headteacher")
    d = aw.a.deployment
    assert ("confirm", d.id) in _listed(head)
    brokering.respond(d, head, "accepted")
    assert ("confirm", d.id) not in _listed(head) and _listed(head) == _allowed(head)

    def careless(user):  # status and school, but not "has not answered"
        return (Deployment.status == "proposed") & Deployment.request_id.in_(
            select(RequestSchool.request_id).where(RequestSchool.school_id == user.school_id))

    groups = [replace(g, kinds=tuple(replace(k, twin=careless) if k.name == "confirm" else k
                                     for k in g.kinds)) for g in actions.GROUPS]
    monkeypatch.setattr(actions, "GROUPS", tuple(groups))
    assert ("confirm", d.id) in _listed(head)
    assert _listed(head) != _allowed(head)


EXPECTED = {
    # role: sentences (patterns) that must be in their list, in a headteacher's words
    "headteacher": [r"^Confirm Alpha Leader for D-T-\d+ \(Alpha maths reasoning\)$",
                    r"^Sign the agreement for D-T-\d+ \(Alpha science\)$",
                    r"^Approve 2 extra days for D-T-\d+ \(Alpha reading\)$",
                    r"^Add your school's evaluation of D-T-\d+ \(Alpha art\) and sign it off$",
                    r"^Add the information the co-ordinator asked for to “Alpha writing” from "
                    r"Alpha Receiving Primary$"],
    "home_school": [r"^Release Alpha Leader for 4 days for D-T-\d+ \(Alpha maths reasoning\)$",
                    r"^Sign the agreement for D-T-\d+ \(Alpha science\)$",
                    r"^Approve the days Alpha Leader may be released this year$"],
    "sle": [r"^Accept 4 days of support for D-T-\d+ \(Alpha maths reasoning\)$"],
    "admin": [r"^Triage “Alpha maths reasoning” from Alpha Receiving Primary$",
              r"^Match “Alpha phonics” from Alpha Receiving Primary$",
              r"^Forward Alpha Evaluator's evaluation of D-T-\d+ \(Alpha history\) to the "
              r"school$"],
    "director": [r"^Give the final quality-assurance sign-off for D-T-\d+ \(Alpha music\)$",
                 r"^Sign the agreement for D-T-\d+ \(Alpha science\)$",
                 r"^Approve 2 extra days for D-T-\d+ \(Alpha reading\)$"],
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_reads_what_waits_for_them(aw, role):
    sentences = [i.sentence for i in actions.for_user(aw.user("a", role)).items]
    for pattern in EXPECTED[role]:
        assert any(re.match(pattern, s) for s in sentences), (pattern, sentences)
    for s in sentences:
        assert "R-T-" not in s and "None" not in s  # no request codes, no missing names


def test_the_leader_is_told_when_first_contact_is_due(aw):
    signing = aw.made["a"]["signing"]
    items = actions.for_user(signing.leader).items
    contact = next(i for i in items if i.kind == "log_first_contact")
    assert contact.sentence == f"Log first contact for {signing.reference} (Alpha science)"
    assert contact.due == "due in 2 days" and not contact.urgent
    assert contact.url.endswith(f"/deployments/{signing.id}#panel-plans")
    assert {i.kind for i in items} == {"log_first_contact", "sign"}
    signing.confirmed_at -= timedelta(days=4)  # now 8 days ago: overdue, and listed first
    items = actions.for_user(signing.leader).items
    assert items[0].kind == "log_first_contact" and items[0].urgent
    assert re.fullmatch(r"overdue by 2[34] hours", items[0].due)
    extender = aw.made["a"]["write"]
    assert [i.sentence for i in actions.for_user(extender.leader).items] == [
        f"Evaluate {extender.reference} (Alpha reading) when the work is done"]


def test_the_match_clock_is_in_the_item(aw):
    admin = aw.user("a", "admin")
    match = next(i for i in actions.for_user(admin).items if i.kind == "match")
    assert re.fullmatch(r"4[23] hours left", match.due)  # submitted 5 hours ago: 48-hour target
    assert match.url.endswith(f"/requests/{aw.made['a']['match'].id}/match")


def test_links_go_where_the_user_acts(aw):
    d = aw.a.deployment
    head = {i.kind: i.url for i in actions.for_user(aw.user("a", "headteacher")).items}
    assert head["confirm"] == f"/deployments/{d.id}#panel-responses"
    assert head["sign"] == f"/deployments/{aw.made['a']['signing'].id}/agreement"
    assert head["approve"] == f"/deployments/{aw.made['a']['write'].id}#panel-plans"
    # (the head also signs for their school on the EIP officer's group deployment)
    signs = {i.url for i in actions.for_user(aw.user("a", "headteacher")).items
             if i.kind == "sign_school"}
    assert f"/deployments/{aw.made['a']['sign_school'].id}#panel-evaluations" in signs
    officer = {i.kind: i.url for i in actions.for_user(aw.user("a", "officer")).items}
    assert officer["sign_group"] == (f"/deployments/{aw.made['a']['sign_group'].id}"
                                     "#panel-evaluations")
    assert head["resubmit"] == f"/requests/{aw.made['a']['resubmit'].id}/edit"


REQUEST_KINDS = ("triage", "match", "resubmit")


def _alliance_of(item) -> int:
    if item.kind in REQUEST_KINDS:
        return db.session.get(SupportRequest, item.obj_id).alliance_id
    if item.kind == "approve":
        return db.session.get(Variation, item.obj_id).deployment.alliance_id
    if item.kind == "approve_release":
        return db.session.get(LeaderProfile, item.obj_id).alliance_id
    return db.session.get(Deployment, item.obj_id).alliance_id


def test_another_alliances_items_never_appear(aw):
    for side, other in (("a", "Beta"), ("b", "Alpha")):
        s = getattr(aw, side)
        for role, u in s.users.items():
            items = actions.for_user(u, limit=None).items
            assert all(other not in i.sentence for i in items), (side, role)
            assert {_alliance_of(i) for i in items} <= {s.alliance.id}, (side, role)
    # and each side's people see the same shape of list as the other's
    for role in ("headteacher", "home_school", "admin", "director", "sle"):
        a = sorted(i.kind for i in actions.for_user(aw.user("a", role)).items)
        b = sorted(i.kind for i in actions.for_user(aw.user("b", role)).items)
        assert a == b and a, role


def test_the_other_head_has_nothing_to_do(aw):
    other = aw.user("a", "other_head")
    listed = actions.for_user(other)
    assert listed.items == [] and listed.total == 0 and actions.count(other) == 0


def test_the_list_is_capped_and_the_total_counts_everything(aw):
    admin = aw.user("a", "admin")
    full = actions.for_user(admin, limit=None)
    capped = actions.for_user(admin, limit=2)
    assert len(full.items) > 2
    assert len(capped.items) == 2 and capped.total == len(full.items)
    assert capped.more == len(full.items) - 2
    assert actions.count(admin) == len(full.items)
    for u in _users():
        assert actions.count(u) == actions.for_user(u).total == len(_listed(u)), u.name


def test_past_the_cap_the_total_says_at_least(aw, monkeypatch):
    """Issue 20: each group's items are counted in one walk that stops after the cap (or the
    list's limit, if larger), not in a window over every waiting row; past it ``capped``."""
    head = aw.user("a", "headteacher")
    for i in range(5):  # five proposals more for the school to confirm
        factories.deployment(factories.support_request(aw.a.alliance, head, [aw.a.receiving],
                                                       title=f"More {i}"), aw.a.leader)
    factories.commit()
    everything = actions.for_user(head, limit=None)
    assert not everything.capped and everything.total == len(everything.items) >= 6
    monkeypatch.setattr(actions, "CAP", 1)
    listed = actions.for_user(head, limit=1)
    # the proposals' group stopped counting after two rows; the other groups are small
    assert len(listed.items) == 1 and listed.capped and 2 <= listed.total < everything.total
    assert actions.count(head) == 2  # "1+"
    whole = actions.for_user(head, limit=everything.total)
    assert not whole.capped and whole.total == everything.total


def _queries(fn):
    seen: list[str] = []

    def on(conn, cursor, statement, *args):
        if counted(statement):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", on)
    return seen


@pytest.mark.parametrize("role", ["headteacher", "director", "admin", "home_school", "sle"])
def test_the_list_costs_the_same_with_many_more_items(aw, role):
    user = aw.user("a", role)
    db.session.expire_all()
    assert user.role  # the user is loaded (as the request's current user is)
    before = len(_queries(lambda: actions.for_user(user)))
    for i in range(25):  # a proposal and a request more for everyone of side a
        factories.advance(factories.deployment(
            factories.support_request(aw.a.alliance, aw.user("a", "headteacher"),
                                      [aw.a.receiving], title=f"More {i}"), aw.a.leader),
            "proposed")
    factories.commit()
    db.session.expire_all()
    assert user.role
    after = _queries(lambda: actions.for_user(user))
    assert len(after) == before <= 3, after
    assert actions.for_user(user).total > 20 or role not in ("headteacher", "admin")
