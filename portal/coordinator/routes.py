"""The co-ordinator's desk: the request inbox against the 48-hour target, and the email outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import access, brokering, notify
from ..domain.policy import outbox as outbox_policy
from ..domain.sla import MATCH_TARGET, match_clock
from ..htmx import render
from ..models import OutboxEmail, RequestSchool, SupportRequest, utcnow
from ..pagination import paginate
from ..panels import PanelContext
from ..security import roles

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

DESK = ("admin", "director")


@bp.get("/inbox")
@roles(*DESK)
def inbox() -> ResponseReturnValue:
    stmt = (
        select(SupportRequest)
        .where(brokering.in_inbox(current_user))
        .options(selectinload(SupportRequest.schools).joinedload(RequestSchool.school),
                 joinedload(SupportRequest.requested_by))
        .order_by(*brokering.INBOX_ORDER)
    )
    page = paginate(stmt)
    now = utcnow()
    rows = [(r, match_clock(r.submitted_at, now)) for r in page.items]
    return render("coordinator/inbox.html", "results", page=page, rows=rows)


@bp.get("/outbox")
@roles(*DESK)
def outbox() -> ResponseReturnValue:
    stmt = (
        select(OutboxEmail)
        .where(access.outbox_visible_to(current_user))
        .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    )
    return render("coordinator/outbox.html", "results", page=paginate(stmt))


@bp.get("/outbox/<id:email_id>")
@roles(*DESK)
def email(email_id: int) -> ResponseReturnValue:
    mail = access.get_outbox_email(current_user, email_id)
    return render("coordinator/email.html", mail=mail,
                  can=outbox_policy.actions(mail, current_user))


@bp.post("/outbox/<id:email_id>/resend")
@roles(*DESK)
def resend(email_id: int) -> ResponseReturnValue:
    """Send a failed email again (the co-ordinator's): queued afresh, delivered by the worker."""
    mail = access.get_outbox_email(current_user, email_id)
    notify.resend(current_user, mail)
    flash(f"The email to {mail.to} is queued to be sent again.", "success")
    return redirect(url_for("coordinator.email", email_id=mail.id), 303)




def desk_panel(ctx: PanelContext[None]) -> dict[str, Any] | None:
    """On the co-ordinator's home: how many requests wait, and how many are past 48 hours."""
    user = ctx.user
    if user.role not in DESK:
        return None
    counts = brokering.inbox_counts(user)
    hours = MATCH_TARGET // timedelta(hours=1)
    return {"counts": counts, "target_hours": hours}
