"""People: users in every role, and system leaders with their profile."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Alliance, LeaderProfile, School, Specialism, User, standards_to_mask

from ._seq import next_number

PASSWORD = "correct horse battery staple"
_HASH: dict[str, str] = {}


def _password_hash() -> str:
    """scrypt is slow by design: hash the shared test password once, reuse it for every user."""
    if "h" not in _HASH:
        probe = User()
        probe.set_password(PASSWORD)
        _HASH["h"] = probe.password_hash
    return _HASH["h"]


def user(a: Alliance, role: str, school: School | None = None, *, name: str | None = None,
         email: str | None = None, board=None, active: bool = True) -> User:
    n = next_number()
    u = User(email=email or f"{role}{n}@{a.short_name.lower()}.example.org",
             name=name or f"{role.title()} Person {n}", role=role, alliance_id=a.id,
             school_id=school.id if school else None, board_id=board.id if board else None,
             active=active)
    u.password_hash = _password_hash()
    db.session.add(u)
    db.session.flush()
    return u


def officer(a: Alliance, *, eip=None, la=None, name: str | None = None,
            email: str | None = None) -> User:
    """An EIP officer (``eip``) or a local authority officer (``la``): their group is the
    alliance's schools of that EIP or local authority."""
    u = user(a, "officer", name=name, email=email)
    u.eip_id = eip.id if eip is not None else None
    u.local_authority_id = la.id if la is not None else None
    db.session.flush()
    return u


def acting(role: str, *, alliance_id: int, school_id: int | None = None) -> User:
    """The first active user in ``role`` (at ``school_id``): who a factory acts as when it drives
    the workflow. A missing one is an error, never made up: the test should say who exists."""
    query = select(User).where(User.role == role, User.alliance_id == alliance_id,
                               User.active.is_(True))
    if school_id is not None:
        query = query.where(User.school_id == school_id)
    found = db.session.scalar(query.order_by(User.id).limit(1))
    if found is None:
        where = f" at school {school_id}" if school_id is not None else ""
        raise LookupError(f"the workflow needs an active {role}{where} in alliance "
                          f"{alliance_id} to act; make one with factories.user(...)")
    return found


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
