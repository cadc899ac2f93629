"""The shared two-alliance world every test starts from, and more of it for query budgets."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.extensions import db
from portal.models import (
    Alliance,
    Board,
    Deployment,
    Notification,
    School,
    SupportRequest,
    User,
)

from ._db import commit
from .alliances import alliance, board, eip, school
from .deployments import advance, deployment
from .people import leader, officer, user
from .requests import support_request


@dataclass
class Side:
    """One alliance's people and objects."""

    alliance: Alliance
    receiving: School
    home: School
    other: School
    users: dict[str, User] = field(default_factory=dict)
    leader: User | None = None
    request: SupportRequest | None = None
    draft: SupportRequest | None = None
    deployment: Deployment | None = None


@dataclass
class World:
    a: Side
    b: Side

    def user(self, side: str, role: str) -> User:
        return getattr(self, side).users[role]


def side(name: str) -> Side:
    a = alliance(name)
    s = Side(alliance=a, receiving=school(a, f"{name} Receiving Primary"),
             home=school(a, f"{name} Home Primary"), other=school(a, f"{name} Other Primary"))
    s.users = {
        "headteacher": user(a, "headteacher", s.receiving, name=f"{name} Head"),
        "home_school": user(a, "home_school", s.home, name=f"{name} Home Head"),
        "director": user(a, "director", name=f"{name} Director"),
        "admin": user(a, "admin", name=f"{name} Coordinator"),
        "board": user(a, "board", name=f"{name} Board Member"),
    }
    # an EIP officer whose group is the receiving and the other school (not the home school)
    group = eip(a, f"{name} EIP")
    for school_in_group in (s.receiving, s.other):
        school_in_group.eip_id = group.id
    s.users["officer"] = officer(a, eip=group, name=f"{name} EIP Officer")
    s.leader = leader(a, s.home, name=f"{name} Leader")
    s.users["sle"] = s.leader
    # a headteacher of a school with no part in the request, in the same alliance
    s.users["other_head"] = user(a, "headteacher", s.other, name=f"{name} Other Head")
    s.request = support_request(a, s.users["headteacher"], [s.receiving],
                                title=f"{name} maths reasoning")
    s.draft = support_request(a, s.users["headteacher"], [s.receiving], status="draft",
                              title=f"{name} draft request")
    s.deployment = deployment(s.request, s.leader)
    return s


def world() -> World:
    w = World(a=side("Alpha"), b=side("Beta"))
    commit()
    return w


# ------------------------------------------------------------------ more of everything

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


def side_ids(w: World) -> SideIds:
    a = w.a
    return SideIds(a.alliance.id, a.receiving.id, a.home.id, a.other.id, a.request.id,
                   a.deployment.id, a.leader.id, {k: u.id for k, u in a.users.items()})


def _board_for(ids: SideIds) -> Board:
    """Give side a's board member a Board, so the board pages have rows too."""
    board_user = db.session.get(User, ids.users["board"])
    if board_user.board_id is None:
        board_user.board_id = board(db.session.get(Alliance, ids.alliance),
                                    "Alpha Primary Board").id
    return db.session.get(Board, board_user.board_id)


def grow(ids: SideIds, n: int) -> None:
    """Add ``n`` requests, each with a deployment (every other one to a new leader), ``n``
    deployments on side a's main request, and ``n`` notifications for every user of side a.
    The deployments are driven through the workflow to each of the live statuses in turn."""
    get = db.session.get
    a = get(Alliance, ids.alliance)
    b = _board_for(ids)
    head = get(User, ids.users["headteacher"])
    receiving, other = get(School, ids.receiving), get(School, ids.other)
    home = get(School, ids.home)
    main_request = get(SupportRequest, ids.request)
    main_leader = get(User, ids.leader)
    for i in range(n):
        lead = main_leader if i % 2 == 0 else leader(a, home)
        r = support_request(a, head, [receiving, other], title=f"Grown request {i}", board=b)
        advance(deployment(r, lead), STATUSES[i % len(STATUSES)])
        advance(deployment(main_request, lead), STATUSES[(i + 1) % len(STATUSES)])
    for user_id in ids.users.values():
        for i in range(n):
            db.session.add(Notification(user_id=user_id, message=f"Note {i}", url="/"))
    commit()
