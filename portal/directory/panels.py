"""Home-page panel: a home-school leader sees whose release still needs their approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain import access
from ..extensions import db
from ..models import LeaderProfile, User
from ..panels import PanelContext


def release_panel(ctx: PanelContext[None]) -> dict[str, Any] | None:
    user = ctx.user
    if user.role != "home_school":
        return None
    pending = db.session.scalars(
        select(LeaderProfile)
        .where(access.released_leaders_for(user), LeaderProfile.release_approved_days.is_(None))
        .join(User, User.id == LeaderProfile.user_id)
        .options(joinedload(LeaderProfile.user)).order_by(User.name).limit(20)
    ).all()
    return {"pending": pending}
