"""People: users in every role, and system leaders with their profile."""

from __future__ import annotations

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
