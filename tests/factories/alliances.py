"""An alliance and what it is made of: schools, local authorities, EIPs and Boards."""

from __future__ import annotations

from portal.extensions import db
from portal.models import EIP, Alliance, Board, LocalAuthority, School, SchoolNetwork

from ._seq import next_number


def alliance(name: str, model: str = "sefton") -> Alliance:
    a = Alliance(name=f"{name} Teaching School Alliance", short_name=name, charging_model=model,
                 email=f"office@{name.lower()}.example.org")
    db.session.add(a)
    db.session.flush()
    return a


def school(a: Alliance, name: str, phase: str = "primary", la: LocalAuthority | None = None):
    s = School(urn=str(100000 + next_number()), name=name, phase=phase, alliance_id=a.id,
               local_authority_id=la.id if la else None)
    db.session.add(s)
    db.session.flush()
    db.session.add(SchoolNetwork(school_id=s.id, alliance_id=a.id))  # its home network
    db.session.flush()
    return s


def join(s: School, a: Alliance) -> School:
    """Make ``s`` a member of a second network ``a`` too (its home stays where it was)."""
    db.session.add(SchoolNetwork(school_id=s.id, alliance_id=a.id))
    db.session.flush()
    return s


def local_authority(name: str) -> LocalAuthority:
    la = LocalAuthority(name=name)
    db.session.add(la)
    db.session.flush()
    return la


def eip(a: Alliance, name: str = "Central EIP") -> EIP:
    e = EIP(alliance_id=a.id, name=name)
    db.session.add(e)
    db.session.flush()
    return e


def board(a: Alliance, name: str = "Primary Board", *, phase: str = "primary",
          budget_pence: int = 1_000_000) -> Board:
    b = Board(alliance_id=a.id, name=name, phase=phase, budget_pence=budget_pence)
    db.session.add(b)
    db.session.flush()
    return b
