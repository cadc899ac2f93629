"""Board funding (issue 15 items 2 and 7): the approval policy and its SQL twin, the charges with
the Board's subsidy and concession, the budget, the co-ordinator's change of who pays, and what
the Board is told."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.domain import access, agreements, boards, brokering, errors
from portal.domain.policy import funding as policy
from portal.domain.policy import requests as request_policy
from portal.extensions import db
from portal.models import (
    DEPLOYMENT_STATUSES,
    Agreement,
    AuditEvent,
    Deployment,
    Notification,
    SupportRequest,
    User,
)
from tests import factories
from tests.factories import evaluations as fc


def funded(side, board, *, half_days: int = 12) -> Deployment:
    """A proposal on a Board-targeted request of ``board`` (as brokering.propose makes it)."""
    r = factories.support_request(side.alliance, side.users["headteacher"], [side.receiving],
                                  status="matching", board=board, half_days=half_days)
    r.route = "board"
    d = factories.deployment(r, side.leader, half_days=half_days)
    d.targeted = True
    db.session.flush()
    return d


def confirm_all(side, d: Deployment) -> None:
    for who in (side.users["headteacher"], side.users["home_school"], side.leader):
        brokering.respond(d, who, "accepted")


@pytest.fixture
def fw(db):
    """Two alliances, each with a Primary Board (and member) and a Secondary Board (and member);
    Board-funded proposals fresh, approved, fully confirmed but waiting, agreed, declined; one
    of the Secondary Board; one not Board-funded."""
    w = factories.world()
    for s in (w.a, w.b):
        s.board = fc.board_for(s)
        s.second = factories.board(s.alliance, f"{s.alliance.name} Secondary Board",
                                   phase="secondary")
        s.users["other_board"] = factories.user(s.alliance, "board", board=s.second,
                                                name=f"{s.alliance.name} Secondary Member")
        s.fresh = funded(s, s.board)
        s.approved = funded(s, s.board)
        boards.approve_funding(s.approved, s.users["board"])
        s.waiting = funded(s, s.board)
        confirm_all(s, s.waiting)
        s.agreed = factories.advance(funded(s, s.board), "agreement")
        s.gone = funded(s, s.board)
        brokering.respond(s.gone, s.users["home_school"], "declined", "Not this term")
        s.secondary = funded(s, s.second)
    db.session.commit()
    return w


def test_sql_twin_agrees_with_the_python_predicate(fw):
    from tests.policy import assert_twins_agree

    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 50
    waiting = set(db.session.scalars(select(Deployment.id).where(
        policy.waiting_board_approval(fw.a.users["board"]))))
    assert waiting == {fw.a.fresh.id, fw.a.waiting.id}


ROLES = ("board", "other_board", "headteacher", "home_school", "sle", "admin", "director")


@pytest.mark.parametrize(("status", "targeted", "approved"), itertools.product(
    DEPLOYMENT_STATUSES, (True, False), (True, False)))
def test_approve_and_change_funding_in_every_state_for_every_role(status, targeted, approved):
    """The predicates over plain values: every status, funded or not, approved or not, every
    role (a member of the paying Board, of another Board, and every other role)."""
    d = SimpleNamespace(status=status, targeted=targeted,
                        board_approved_at=date(2026, 11, 2) if approved else None,
                        request=SimpleNamespace(board_id=7))
    for role in ROLES:
        user = SimpleNamespace(role="board" if role.endswith("board") else role,
                               board_id={"board": 7, "other_board": 8}.get(role))
        can = policy.actions(d, user)
        a = can["approve_funding"]
        if role != "board":
            assert a.forbidden, (role, status)
        else:
            assert a.allowed == (targeted and not approved and status == "proposed")
            assert not a.forbidden
        c = can["change_funding"]
        if role in ("admin", "director"):
            assert c.allowed == (status == "proposed") and not c.forbidden
        else:
            assert c.forbidden
        assert policy.awaiting_board(d) == (targeted and not approved)


def test_a_confirmed_board_funded_proposal_waits_for_the_board_then_the_agreement(fw):
    d = fw.a.waiting
    assert d.status == "proposed" and brokering.all_confirmed(d)
    assert agreements.current(d.id) is None  # no agreement until the Board approves
    member = fw.a.users["board"]
    boards.approve_funding(d, member, concession_day=0)
    assert d.status == "agreement" and d.board_approved_by_id == member.id
    content = agreements.current(d.id).content
    assert content["parties"]["board"]["name"] == fw.a.board.name
    assert content["parties"]["board"]["approved_by"] == member.name
    assert content["charges"]["board_pays"] == 120_000  # 6 days at £200


def test_approving_first_then_the_last_confirmation_drafts_the_agreement(fw):
    d = fw.a.fresh
    boards.approve_funding(d, fw.a.users["board"])
    assert d.status == "proposed"
    confirm_all(fw.a, d)
    assert d.status == "agreement"
    assert db.session.scalar(select(func.count(Agreement.id))
                             .where(Agreement.deployment_id == d.id)) == 1


def test_the_approval_requires_the_policy(fw):
    with pytest.raises(errors.Forbidden):
        boards.approve_funding(fw.a.fresh, fw.a.users["other_board"])
    with pytest.raises(errors.Forbidden):
        boards.approve_funding(fw.a.fresh, fw.b.users["board"])
    with pytest.raises(errors.NotNow):
        boards.approve_funding(fw.a.approved, fw.a.users["board"])
    with pytest.raises(errors.NotNow):
        boards.approve_funding(fw.a.agreed, fw.a.users["board"])


# ---------------------------------------------------------------------- money with the Board


def test_east_sussex_six_days_targeted_board_pays_1200_school_900(fw):
    q = boards.quote(fw.a.fresh, concession_day=0)
    assert (q.board_pays, q.school_pays, q.home_school_receives) == (120_000, 90_000, 210_000)


def test_a_concession_moves_the_schools_share_to_the_board(fw):
    q = boards.approve_funding(fw.a.fresh, fw.a.users["board"], concession_day=2_550)
    assert (q.board_pays, q.school_pays) == (6 * 22_550, 6 * 12_450)
    assert fw.a.fresh.concession_day_pence == 2_550
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "deployment.funding_approved").order_by(AuditEvent.id.desc()))
    assert event.detail["board_pays_pence"] == 135_300


def test_a_concession_above_the_schools_share_is_refused_beside_the_field(fw):
    with pytest.raises(errors.Invalid) as refused:
        boards.approve_funding(fw.a.fresh, fw.a.users["board"], concession_day=15_001)
    assert refused.value.field == "concession"
    assert fw.a.fresh.board_approved_at is None


def test_budget_counts_approved_and_agreed_deployments_only(fw):
    b = boards.budget(fw.a.board)
    # approved (6 days) and agreed (6 days): £1,200 each; fresh, waiting, declined: nothing
    assert (b.budget, b.committed, b.spent, b.left) == (2_000_000, 240_000, 0, 1_760_000)
    assert boards.budget(fw.a.board, leaving_out=fw.a.approved.id).committed == 120_000


def test_the_board_cannot_approve_beyond_its_budget_left(fw):
    fw.a.board.budget_pence = 300_000  # £3,000: £2,400 committed, £600 left
    with pytest.raises(errors.Invalid) as refused:
        boards.approve_funding(fw.a.fresh, fw.a.users["board"])
    assert refused.value.field == "concession"
    assert "£1,200.00" in str(refused.value) and "£600.00" in str(refused.value)
    assert fw.a.fresh.board_approved_at is None


# ------------------------------------------------------------------ the co-ordinator's change


def test_changing_who_pays_is_audited_and_the_approval_lapses(fw):
    d, admin = fw.a.approved, fw.a.users["admin"]
    boards.change_funding(d, admin, route="board", board_id=fw.a.second.id)
    assert d.request.board_id == fw.a.second.id and d.targeted
    assert d.board_approved_at is None and d.concession_day_pence == 0
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "deployment.funding_changed"))
    assert event.detail["before"]["board"] == fw.a.board.name
    assert event.detail["after"]["board"] == fw.a.second.name
    told = db.session.scalars(select(Notification.message).where(
        Notification.user_id == fw.a.users["other_board"].id)).all()
    assert any("is asked to fund" in m for m in told)
    # the new Board now approves; the old one no longer sees it waiting
    assert policy.approve_funding(d, fw.a.users["other_board"])
    assert policy.approve_funding(d, fw.a.users["board"]).forbidden


def test_taking_the_board_off_a_waiting_proposal_lets_the_agreement_go_ahead(fw):
    d = fw.a.waiting
    boards.change_funding(d, fw.a.users["director"], route="school", board_id=None)
    assert not d.targeted and d.request.board_id is None
    assert d.status == "agreement"
    assert agreements.current(d.id).content["charges"]["board_pays"] == 0


def test_change_of_funding_refuses_bad_values_and_other_roles(fw):
    d, admin = fw.a.fresh, fw.a.users["admin"]
    with pytest.raises(errors.Invalid) as refused:
        boards.change_funding(d, admin, route="board", board_id=None)
    assert refused.value.field == "board_id"
    with pytest.raises(errors.Invalid):
        boards.change_funding(d, admin, route="board", board_id=fw.b.board.id)  # other alliance
    with pytest.raises(errors.Invalid):
        boards.change_funding(d, admin, route="nonsense", board_id=None)
    with pytest.raises(errors.Forbidden):
        boards.change_funding(d, fw.a.users["headteacher"], route="school", board_id=None)
    with pytest.raises(errors.NotNow):
        boards.change_funding(fw.a.agreed, admin, route="school", board_id=None)


# --------------------------------------------------------------------------- who is told


def _told(user: User) -> list[str]:
    return list(db.session.scalars(select(Notification.message)
                                   .where(Notification.user_id == user.id)))


def test_a_headteachers_board_targeted_request_names_the_phase_board_and_tells_it(fw):
    head = fw.a.users["headteacher"]
    req = brokering.create_request(
        head, school_ids=[fw.a.receiving.id], title="Phonics", standards_mask=1,
        phase="primary", route="board", half_days_wanted=4,
        start_date=date.today() + timedelta(days=10), end_date=date.today() + timedelta(days=70))
    assert req.board_id == fw.a.board.id
    brokering.submit_request(req, head)
    assert any("Phonics" in m and "was filed" in m for m in _told(fw.a.users["board"]))
    assert not any("Phonics" in m for m in _told(fw.a.users["other_board"]))
    assert access.get_request(fw.a.users["board"], req.id) is req  # the Board sees it
    brokering.move_request(req, "withdraw", head)
    assert any("Phonics" in m and "withdrawn" in m for m in _told(fw.a.users["board"]))


def test_no_board_for_the_phase_is_refused_beside_the_route(db):
    w = factories.world()
    with pytest.raises(errors.Invalid) as refused:
        brokering.create_request(w.user("a", "headteacher"), school_ids=[w.a.receiving.id],
                                 title="x", phase="primary", route="board")
    assert refused.value.field == "route"


def test_the_board_is_told_of_a_decline_and_an_early_end(fw):
    member = fw.a.users["board"]
    r = factories.support_request(fw.a.alliance, fw.a.users["headteacher"], [fw.a.receiving],
                                  board=fw.a.board, title="Declined one")
    r.route = "board"
    brokering.move_request(r, "decline", fw.a.users["admin"], reason="Out of scope")
    assert any("Declined one" in m and "declined: Out of scope" in m for m in _told(member))
    d = factories.advance(funded(fw.a, fw.a.board), "ended_early", delivered=4,
                          reason="The leader moved on")
    assert d.status == "ended_early"
    assert any(d.reference in m and "ended early: The leader moved on" in m
               for m in _told(member))


def test_target_files_the_boards_request_and_tells_the_co_ordinator(fw):
    member = fw.a.users["board"]
    spec = factories.specialism("phonics", "Phonics")
    start = date.today() + timedelta(days=10)
    req = boards.target(member, school_id=fw.a.other.id, title="Early reading",
                        standards=["TS3"], phase="primary", specialism_id=spec.id,
                        priorities="p", desired_outcomes="o", start_date=start,
                        end_date=start + timedelta(days=30), days=3)
    assert (req.status, req.route, req.board_id, req.half_days_wanted) == \
        ("submitted", "board", fw.a.board.id, 6)
    assert any("targeted" in m for m in _told(fw.a.users["admin"]))
    assert not any("Early reading" in m for m in _told(member))  # not told of their own act


@pytest.mark.parametrize(("over", "field"), [
    ({"school_id": None}, "school_id"),
    ({"standards": []}, "standards"),
    ({"standards": ["TS9"]}, "standards"),
    ({"start_date": None}, "start_date"),
    ({"days": 0}, "days"),
    ({"days": 101}, "days"),
])
def test_target_refuses_what_matching_cannot_use(fw, over, field):
    start = date.today() + timedelta(days=10)
    values = {"school_id": fw.a.other.id, "title": "t", "standards": ["TS3"], "phase": "primary",
              "specialism_id": None, "priorities": "p", "desired_outcomes": "o",
              "start_date": start, "end_date": start + timedelta(days=30), "days": 3, **over}
    with pytest.raises(errors.Invalid) as refused:
        boards.target(fw.a.users["board"], **values)
    assert refused.value.field == field


def test_a_secondary_board_is_offered_no_primary_school(fw):
    start = date.today() + timedelta(days=10)
    with pytest.raises(errors.Invalid) as refused:
        boards.target(fw.a.users["other_board"], school_id=fw.a.other.id, title="t",
                      standards=["TS3"], phase="secondary", specialism_id=None, priorities="p",
                      desired_outcomes="o", start_date=start,
                      end_date=start + timedelta(days=30), days=3)
    assert refused.value.field == "school_id"


def test_only_a_board_member_targets(fw):
    assert request_policy.target(fw.a.users["board"])
    assert request_policy.target(fw.a.users["admin"]).forbidden
    no_board = factories.user(fw.a.alliance, "board")
    assert request_policy.target(no_board).forbidden


def test_matching_a_request_without_a_time_frame_says_why(fw):
    req = fw.a.fresh.request
    req.start_date = None
    with pytest.raises(errors.NotNow, match="no time frame"):
        brokering.need_for(req)


def test_reports_count_a_headteachers_board_targeted_deployment(fw):
    from portal.reports import sql

    rows = {r.reference: r for page in sql.pages(fw.a.users["board"], sql.Filters())
            for r in page}
    assert fw.a.agreed.reference in rows
    assert rows[fw.a.agreed.reference].board_id == fw.a.board.id
    assert rows[fw.a.agreed.reference].board_day_pence == 20_000
    assert fw.a.secondary.reference not in rows
    # the Board sees its five requests (fresh, approved, waiting, agreed, declined proposal)
    assert db.session.scalar(select(func.count(SupportRequest.id)).where(
        access.requests_visible_to(fw.a.users["board"]))) == 5
