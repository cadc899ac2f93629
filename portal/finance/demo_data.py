"""Demo money: a finished deployment invoiced in East Sussex (Board-targeted) and in a Sefton
alliance, part paid, and an East Sussex deployment that ended early after invoicing in advance."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..domain import brokering, exports, finance
from ..extensions import db
from ..models import (
    Alliance,
    AllianceFinance,
    Board,
    Deployment,
    LeaderProfile,
    RequestSchool,
    SupportRequest,
    User,
    standards_to_mask,
)


def _user(alliance: Alliance, local: str) -> User | None:
    return db.session.scalar(select(User).where(User.alliance_id == alliance.id,
                                                User.email.like(f"{local}@%")))


def _board_member(board: Board | None) -> int | None:
    if board is None:
        return None
    return db.session.scalar(select(User.id).where(User.board_id == board.id)
                             .order_by(User.id).limit(1))


def _deployment(alliance: Alliance, n: int, *, title: str, status: str, agreed: int,
                delivered: int, now: datetime, board: Board | None = None) -> Deployment | None:
    head, admin = _user(alliance, "head"), _user(alliance, "admin")
    leader = _user(alliance, "sle")
    if not (head and admin and leader and head.school_id):
        return None
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader.id))
    if profile is None:
        return None
    started = now - timedelta(days=120)
    r = SupportRequest(
        reference=brokering.provisional_reference(), alliance_id=alliance.id,
        requested_by_id=head.id, status="matched", kind="sle_deployment",
        route="board" if board else "school", title=title,
        standards_mask=standards_to_mask(["TS2", "TS4"]), phase="primary",
        board_id=board.id if board else None, half_days_wanted=agreed,
        start_date=(started + timedelta(days=3)).date(), end_date=(now - timedelta(days=12)).date(),
        staff_involved="Three class teachers in Key Stage 2.",
        desired_outcomes="Lessons build on what pupils already know.",
        submitted_at=started, matched_at=started + timedelta(hours=20),
        created_at=started - timedelta(hours=1),
    )
    r.schools = [RequestSchool(school_id=head.school_id, position=0)]
    db.session.add(r)
    db.session.flush()
    r.reference = brokering.new_reference("R", r.id)
    d = Deployment(
        reference=brokering.deployment_reference(r), request_id=r.id,
        alliance_id=alliance.id, leader_id=leader.id, home_school_id=profile.home_school_id,
        designation=profile.designation, status=status, half_days_agreed=agreed,
        half_days_delivered=delivered, targeted=board is not None, proposed_by_id=admin.id,
        proposed_at=r.matched_at, confirmed_at=r.matched_at + timedelta(days=2),
        active_at=r.matched_at + timedelta(days=4),
        first_contact_at=r.matched_at + timedelta(days=5),
        closed_at=now - timedelta(days=10),
        last_day_delivered=(now - timedelta(days=12)).date(),
        end_reason="The system leader moved to a new post." if status == "ended_early" else "",
        board_approved_at=r.matched_at + timedelta(days=1) if board else None,
        board_approved_by_id=_board_member(board),
    )
    db.session.add(d)
    db.session.flush()
    finance.rate_card_for(d)
    return d


def demo_money(today: date, now: datetime) -> None:
    alliances = db.session.scalars(select(Alliance).order_by(Alliance.id)).all()
    for number, alliance in enumerate(alliances[:2], start=1):
        admin = _user(alliance, "admin")
        if admin is not None and db.session.get(AllianceFinance, alliance.id) is None:
            # bank details for its invoices (made-up: a sort code no bank uses)
            exports.save_codes(admin, {**exports.DEFAULT_CODES,
                                       "account_name": alliance.name[:60],
                                       "bank_name": "Demo Bank", "sort_code": f"00-00-0{number}",
                                       "account_number": f"1234567{number}"}, version=None)
        board = db.session.scalar(select(Board).where(Board.alliance_id == alliance.id)
                                  .order_by(Board.id).limit(1))
        done = _deployment(alliance, 1, title="Reading fluency in Year 3", status="completed",
                           agreed=8, delivered=8, now=now, board=board)
        if done is None or admin is None:
            continue
        raised = finance.raise_invoices(done, admin, today=today - timedelta(days=10))
        for inv in raised:
            if inv.payer == "school":
                finance.mark_sent(inv, admin)
                finance.record_payment(inv, inv.total_pence // 2, admin,
                                         received_on=today - timedelta(days=3),
                                         reference="BACS part payment")
            elif inv.payer == "board":
                finance.mark_sent(inv, admin)
        if board is None:
            continue
        early = _deployment(alliance, 2, title="Science enquiry in Key Stage 2",
                            status="ended_early", agreed=12, delivered=4, now=now, board=board)
        if early is None:
            continue
        advance = finance.raise_invoices(early, admin, half_days=12,
                                           today=today - timedelta(days=60),
                                           note="Raised in advance for the days agreed.")
        for inv in advance:
            if inv.payer in ("school", "board"):
                finance.mark_sent(inv, admin)
                finance.record_payment(inv, inv.total_pence, admin,
                                         received_on=today - timedelta(days=45),
                                         reference="Paid in advance")
        finance.settle(early, admin, today=today - timedelta(days=9))
