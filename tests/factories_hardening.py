"""More of everything, for tests that check a page costs the same number of queries at any size."""

from __future__ import annotations

from dataclasses import dataclass

from portal.extensions import db
from portal.models import Alliance, Board, Notification, School, SupportRequest, User

from . import factories

STATUSES = ("proposed", "agreement", "active", "evaluation")


@dataclass(frozen=True)
class SideIds:
    """Plain ids of side a of the ``world``: they survive the session being cleared."""

    alliance: int
    receiving: int
    home: int
    other: int
    request: int
    deployment: int
    leader: int
    users: dict[str, int]


def side_ids(world) -> SideIds:
    a = world.a
    return SideIds(a.alliance.id, a.receiving.id, a.home.id, a.other.id, a.request.id,
                   a.deployment.id, a.leader.id, {k: u.id for k, u in a.users.items()})


def board_for(ids: SideIds) -> Board:
    """Give side a's board member a Board, so the board pages have rows too."""
    board_user = db.session.get(User, ids.users["board"])
    if board_user.board_id is None:
        board = Board(alliance_id=ids.alliance, name="Alpha Primary Board", phase="primary",
                      budget_pence=1_000_000)
        db.session.add(board)
        db.session.flush()
        board_user.board_id = board.id
    return db.session.get(Board, board_user.board_id)


def grow(ids: SideIds, n: int) -> None:
    """Add ``n`` requests, each with a deployment (every other one to a new leader), ``n``
    deployments on side a's main request, and ``n`` notifications for every user of side a."""
    get = db.session.get
    alliance = get(Alliance, ids.alliance)
    board = board_for(ids)
    head = get(User, ids.users["headteacher"])
    receiving, other = get(School, ids.receiving), get(School, ids.other)
    home = get(School, ids.home)
    main_request = get(SupportRequest, ids.request)
    main_leader = get(User, ids.leader)
    for i in range(n):
        leader = main_leader if i % 2 == 0 else factories.leader(alliance, home)
        r = factories.support_request(alliance, head, [receiving, other],
                                      title=f"Grown request {i}", board=board)
        factories.deployment(r, leader, status=STATUSES[i % len(STATUSES)])
        factories.deployment(main_request, leader, status=STATUSES[(i + 1) % len(STATUSES)])
    for user_id in ids.users.values():
        for i in range(n):
            db.session.add(Notification(user_id=user_id, message=f"Note {i}", url="/"))
    db.session.commit()
