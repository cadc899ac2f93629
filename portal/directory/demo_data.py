"""Demo data for the directory: days offered per term, and most home schools' release."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import LeaderProfile, User


def days_per_term(today: date, now: datetime) -> None:
    """Split each demo leader's yearly days over the three terms; approve most releases."""
    profiles = db.session.scalars(select(LeaderProfile).order_by(LeaderProfile.id)).all()
    for i, p in enumerate(profiles):
        if p.autumn_days or p.spring_days or p.summer_days:
            continue
        third, extra = divmod(p.capacity_days, 3)
        p.autumn_days = third + (1 if extra > 0 else 0)
        p.spring_days = third + (1 if extra > 1 else 0)
        p.summer_days = third
        if i % 3 != 2:  # leave some for the home-school leader to approve in the demo
            approver = db.session.scalar(select(User).where(
                User.role == "home_school", User.school_id == p.home_school_id))
            if approver is not None:
                p.release_approved_days = p.capacity_days
                p.release_approved_by_id = approver.id
                p.release_approved_at = now
