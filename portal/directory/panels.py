"""Home-page panel: a home-school leader sees what waits for their release, both kinds: the
proposals waiting for them to agree a leader's release (``policy.deployments.waiting_release``)
and the leaders whose days for the year they have not approved yet
(``policy.profiles.waiting_approve_release``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import False_, select
from sqlalchemy.orm import joinedload

from ..domain import access
from ..domain.policy import deployments as deployment_policy
from ..domain.policy import profiles as profile_policy
from ..extensions import db
from ..models import Deployment, LeaderProfile, User
from ..panels import PanelContext


def release_panel(ctx: PanelContext[None]) -> dict[str, Any] | None:
    user = ctx.user
    yearly = profile_policy.waiting_approve_release(user)
    if isinstance(yearly, False_):  # not a home-school leader: no panel, no query
        return None
    pending = db.session.scalars(
        select(LeaderProfile)
        .where(access.released_leaders_for(user), yearly)
        .join(User, User.id == LeaderProfile.user_id)
        .options(joinedload(LeaderProfile.user)).order_by(User.name).limit(20)
    ).all()
    proposals = db.session.scalars(
        select(Deployment)
        .where(access.deployments_visible_to(user), deployment_policy.waiting_release(user))
        .options(joinedload(Deployment.leader), joinedload(Deployment.request))
        .order_by(Deployment.proposed_at, Deployment.id).limit(20)
    ).all()
    return {"pending": pending, "proposals": proposals}
