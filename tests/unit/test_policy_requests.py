"""The request policy (steps 1-2): every action's decision, and the inbox's SQL twins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access, brokering, errors, workflow
from portal.domain.policy import requests as policy
from portal.extensions import db
from portal.models import SupportRequest, User
from tests import factories


@pytest.fixture
def request_world(db):
    """Requests at every status in two alliances, some by a second writer of the same school."""
    w = factories.world()
    for s in (w.a, w.b):
        head = s.users["headteacher"]
        s.users["second_writer"] = factories.user(s.alliance, "headteacher", s.receiving,
                                                  name=f"{s.alliance.name} Second Writer")
        for by in (head, s.users["second_writer"]):
            for status in ("draft", "submitted", "matching"):
                factories.support_request(s.alliance, by, [s.receiving], status=status)
        for status in ("more_info", "declined", "withdrawn", "matched"):
            r = factories.support_request(s.alliance, head, [s.receiving])
            r.status = status  # the state under test, reached by hand
    db.session.commit()
    return w


def _requests(w, side="a"):
    s = getattr(w, side)
    return db.session.scalars(select(SupportRequest)
                              .where(SupportRequest.alliance_id == s.alliance.id)
                              .order_by(SupportRequest.id)).all()


def test_sql_twins_agree_with_the_python_predicates(request_world):
    from tests.policy import assert_twins_agree

    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, SupportRequest, visible=access.requests_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 100


def test_the_inbox_is_the_twins_and_holds_what_it_held(request_world):
    """``in_inbox`` selects the co-ordinator's visible submitted, more-info and matching
    requests, as the status list it replaced did; a writer's inbox is empty."""
    admin = request_world.a.users["admin"]
    inbox = set(db.session.scalars(select(SupportRequest.id)
                                   .where(brokering.in_inbox(admin))).all())
    expected = {r.id for r in _requests(request_world)
                if r.status in brokering.INBOX_STATUSES}
    assert inbox == expected and expected
    head = request_world.a.users["headteacher"]
    assert not db.session.scalars(select(SupportRequest.id)
                                  .where(brokering.in_inbox(head))).all()


def test_actions_answer_every_action_with_a_reason(request_world):
    w = request_world
    for r in _requests(w):
        for user in w.a.users.values():
            can = policy.actions(r, user)
            assert set(can) == set(policy.ACTIONS) | {"triage"}
            for name, decision in can.items():
                assert decision.allowed or decision.reason, (name, user.role, r.status)


def test_forbidden_for_the_wrong_part_not_now_for_the_wrong_moment(request_world):
    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))
    draft = next(r for r in _requests(w) if r.status == "draft" and r.requested_by_id == head.id)
    mine = policy.actions(draft, head)
    assert mine["edit"] and mine["submit"] and mine["withdraw"]
    assert not mine["resubmit"] and not mine["resubmit"].forbidden
    theirs = policy.actions(draft, second)  # same school, not the writer
    assert theirs["edit"].forbidden and theirs["submit"].forbidden and theirs["withdraw"].forbidden
    desk = policy.actions(draft, admin)
    assert desk["accept"].allowed is False and not desk["accept"].forbidden
    assert desk["withdraw"] and desk["edit"].forbidden
    matched = next(r for r in _requests(w) if r.status == "matched")
    assert not policy.actions(matched, head)["withdraw"].forbidden
    assert not policy.actions(matched, head)["withdraw"]
    assert policy.actions(matched, admin)["match"] and not policy.actions(matched, admin)["propose"]
    more = next(r for r in _requests(w) if r.status == "more_info")
    assert policy.actions(more, head)["resubmit"] and policy.actions(more, admin)["decline"]
    assert not policy.actions(more, admin)["accept"]


def test_the_policy_says_what_the_state_machine_allows(request_world):
    """For every move the policy allows, the state machine allows it too (no second rule)."""
    w = request_world
    for r in _requests(w):
        for user in w.a.users.values():
            for name, decision in policy.actions(r, user).items():
                if decision and name in brokering.MOVES:
                    assert workflow.can(r, brokering.MOVES[name], user), (name, r.status)


def test_domain_commands_require_the_policy(request_world):
    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))
    draft = next(r for r in _requests(w) if r.status == "draft" and r.requested_by_id == head.id)
    with pytest.raises(errors.Forbidden) as refused:
        brokering.submit_request(draft, second)
    assert refused.value.status == 403
    assert str(refused.value) == policy.actions(draft, second)["submit"].reason
    assert draft.status == "draft"
    brokering.submit_request(draft, head)
    assert draft.status == "submitted"
    with pytest.raises(errors.NotNow) as later:
        brokering.submit_request(draft, head)
    assert later.value.status == 409
    with pytest.raises(errors.NotNow) as early:
        brokering.propose(draft, w.a.leader.id, admin)  # not accepted for matching yet
    assert early.value.status == 409
    brokering.move_request(draft, "accept", admin)
    assert draft.status == "matching"


def test_the_routes_answer_the_policy_403_then_409(request_world, client_for):
    """Through the web: not the writer is 403 with the policy's reason; the writer, once the
    draft is submitted, 409; the match page shows Propose only while the policy allows it."""
    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))
    draft = next(r for r in _requests(w) if r.status == "draft" and r.requested_by_id == head.id)
    url = f"/requests/{draft.id}/submit"
    refused = client_for(second).post(url, data={})
    assert refused.status_code == 403
    assert "Only the person who wrote this request can submit it" in refused.text
    assert client_for(head).post(url, data={}).status_code == 303
    again = client_for(head).post(url, data={})
    assert again.status_code == 409 and "Only a draft request can be submitted" in again.text
    assert client_for(second).get(f"/requests/{draft.id}/edit").status_code == 403
    matched = next(r for r in _requests(w) if r.status == "matched")
    page = client_for(admin).get(f"/requests/{matched.id}/match")
    assert page.status_code == 200 and f"requests/{matched.id}/propose" not in page.text
    matching = next(r for r in _requests(w) if r.status == "matching")
    page = client_for(admin).get(f"/requests/{matching.id}/match")
    assert page.status_code == 200 and f"requests/{matching.id}/propose" in page.text


def test_the_resubmit_twin_selects_the_writers_own_request_waiting_for_information(request_world):
    """The writer's "send the information asked for" list: their own more-info request only,
    not a colleague's, and nothing for the co-ordinator."""
    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))

    def waiting(user):
        return db.session.scalars(select(SupportRequest).where(
            access.requests_visible_to(user), policy.waiting_resubmit(user))).all()

    mine = waiting(head)
    assert [r.status for r in mine] == ["more_info"]
    assert mine[0].requested_by_id == head.id
    assert waiting(second) == [] and waiting(admin) == []
def _fields(req):
    return {"title": req.title + " (changed)"}


def test_edit_request_requires_the_policy_and_the_version(request_world):
    """The command the edit form calls refuses, by itself, anyone but the writer (403), a
    request past editing (409) and a form without, or with an old, version (409)."""
    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))
    draft = next(r for r in _requests(w) if r.status == "draft" and r.requested_by_id == head.id)
    schools = [rs.school_id for rs in draft.schools]
    for who in (second, admin):
        with pytest.raises(errors.Forbidden) as refused:
            brokering.edit_request(draft, who, version=draft.version, school_ids=schools,
                                   **_fields(draft))
        assert str(refused.value) == policy.actions(draft, who)["edit"].reason
    for version in (None, "", draft.version - 1):
        with pytest.raises(errors.Conflict):
            brokering.edit_request(draft, head, version=version, school_ids=schools,
                                   **_fields(draft))
    assert not draft.title.endswith("(changed)")
    brokering.edit_request(draft, head, version=str(draft.version), school_ids=schools,
                           submit=True, **_fields(draft))
    assert draft.title.endswith("(changed)") and draft.status == "submitted"
    with pytest.raises(errors.NotNow):
        brokering.edit_request(draft, head, version=draft.version, school_ids=schools,
                               **_fields(draft))


def test_create_request_requires_a_writer(request_world):
    w = request_world
    for role in ("admin", "director", "sle", "home_school"):
        with pytest.raises(errors.Forbidden):
            brokering.create_request(w.a.users[role], school_ids=[w.a.receiving.id],
                                     title="Not mine to file")
    assert not db.session.scalars(select(SupportRequest)
                                  .where(SupportRequest.title == "Not mine to file")).all()


def test_withdraw_and_triage_require_the_policy_and_tell(request_world):
    from portal.models import Notification

    w = request_world
    head, second, admin = (w.a.users[k] for k in ("headteacher", "second_writer", "admin"))
    mine = [r for r in _requests(w) if r.status == "submitted" and r.requested_by_id == head.id]
    with pytest.raises(errors.Forbidden):
        brokering.withdraw_request(mine[0], second)
    with pytest.raises(errors.Forbidden):
        brokering.triage_request(mine[0], "more_info", head, reason="Which years?")
    with pytest.raises(errors.Invalid) as no_reason:
        brokering.triage_request(mine[0], "more_info", admin)
    assert no_reason.value.field == "reason"
    with pytest.raises(errors.Invalid):
        brokering.triage_request(mine[0], "anything", admin)
    brokering.triage_request(mine[0], "more_info", admin, reason="Which years?")
    assert mine[0].status == "more_info" and mine[0].triage_note == "Which years?"
    told = db.session.scalars(select(Notification).where(Notification.user_id == head.id)).all()
    assert any("needs more information: Which years?" in n.message for n in told)
    with pytest.raises(errors.NotNow):
        brokering.triage_request(mine[0], "matching", admin)  # waiting on the school now
    brokering.withdraw_request(mine[0], head)
    assert mine[0].status == "withdrawn"


def test_the_page_wording_follows_the_status(request_world):
    """What the request page says comes from the policy, one sentence per state."""
    w = request_world
    seen = {}
    for r in _requests(w):
        seen[r.status] = (policy.next_step(r), policy.shows_match_clock(r))
    assert seen["draft"] == ("This request is a draft: only you can see it until you submit "
                             "it.", False)
    assert seen["matching"][1] and not seen["matched"][1] and not seen["declined"][1]
    assert seen["withdrawn"][0] == "Withdrawn."
    assert len({text for text, _ in seen.values()}) == len(seen)
