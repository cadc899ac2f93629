"""Small builders for test data. Every object goes through the real model."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.extensions import db
from portal.models import (
    Alliance,
    Deployment,
    LeaderProfile,
    LocalAuthority,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    User,
    standards_to_mask,
    utcnow,
)

PASSWORD = "correct horse battery staple"
_HASH: dict[str, str] = {}


def _password_hash() -> str:
    """scrypt is slow by design: hash the shared test password once, reuse it for every user."""
    if "h" not in _HASH:
        probe = User()
        probe.set_password(PASSWORD)
        _HASH["h"] = probe.password_hash
    return _HASH["h"]
_seq = itertools.count(1)


def alliance(name: str, model: str = "sefton") -> Alliance:
    a = Alliance(name=f"{name} Teaching School Alliance", short_name=name, charging_model=model,
                 email=f"office@{name.lower()}.example.org")
    db.session.add(a)
    db.session.flush()
    return a


def school(a: Alliance, name: str, phase: str = "primary", la: LocalAuthority | None = None):
    s = School(urn=str(100000 + next(_seq)), name=name, phase=phase, alliance_id=a.id,
               local_authority_id=la.id if la else None)
    db.session.add(s)
    db.session.flush()
    return s


def user(a: Alliance, role: str, school: School | None = None, *, name: str | None = None,
         email: str | None = None, board=None, active: bool = True) -> User:
    n = next(_seq)
    u = User(email=email or f"{role}{n}@{a.short_name.lower()}.example.org",
             name=name or f"{role.title()} Person {n}", role=role, alliance_id=a.id,
             school_id=school.id if school else None, board_id=board.id if board else None,
             active=active)
    u.password_hash = _password_hash()
    db.session.add(u)
    db.session.flush()
    return u


def leader(a: Alliance, home: School, *, designation: str = "sle", name: str | None = None,
           specialisms: list[Specialism] | None = None, phases: str = "primary",
           standards=("TS1",), capacity_days: int = 10) -> User:
    u = user(a, "sle", home, name=name)
    p = LeaderProfile(user_id=u.id, alliance_id=a.id, home_school_id=home.id,
                      designation=designation, phases=phases,
                      standards_mask=standards_to_mask(standards), capacity_days=capacity_days)
    p.specialisms = specialisms or []
    db.session.add(p)
    db.session.flush()
    return u


def support_request(a: Alliance, by: User, schools: list[School], *, status: str = "submitted",
                    title: str = "Maths reasoning", half_days: int = 8, hours_ago: int = 5,
                    board=None) -> SupportRequest:
    now = utcnow()
    n = next(_seq)
    r = SupportRequest(reference=f"R-T-{n:05d}", alliance_id=a.id, requested_by_id=by.id,
                       status=status, title=title, standards_mask=standards_to_mask(["TS2"]),
                       phase="primary", start_date=date.today() + timedelta(days=7),
                       end_date=date.today() + timedelta(days=60), half_days_wanted=half_days,
                       board_id=board.id if board else None,
                       submitted_at=None if status == "draft" else now - timedelta(hours=hours_ago))
    r.schools = [RequestSchool(school_id=s.id, position=i) for i, s in enumerate(schools)]
    db.session.add(r)
    db.session.flush()
    return r


def deployment(r: SupportRequest, leader_user: User, *, status: str = "proposed",
               half_days: int = 8) -> Deployment:
    n = next(_seq)
    d = Deployment(reference=f"D-T-{n:05d}", request_id=r.id, alliance_id=r.alliance_id,
                   leader_id=leader_user.id, home_school_id=leader_user.profile.home_school_id,
                   designation=leader_user.profile.designation, status=status,
                   half_days_agreed=half_days)
    db.session.add(d)
    db.session.flush()
    return d


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
    db.session.commit()
    return w
