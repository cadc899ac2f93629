"""Your notifications: what the portal told you, newest first, and marking them read."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from ..domain import notify
from ..extensions import db
from ..htmx import render
from ..models import Notification
from ..pagination import paginate
from ..security import any_role, safe_next
from ..validators import int_arg

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@any_role
def index() -> ResponseReturnValue:
    stmt = (
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.at.desc(), Notification.id.desc())
    )
    page = paginate(stmt)
    return render("notifications/index.html", "results", page=page)


@bp.post("/read")
@any_role
def mark_read() -> ResponseReturnValue:
    """Mark one (``id``) or all (no ``id``) of your notifications read, then follow its link if
    it has one. An ``id`` that is not a notification id is refused (400): it never means "all"."""
    one = int_arg("id", "notification", source=request.form, where="form")
    ids = [one] if one is not None else None
    count = notify.mark_read(current_user, ids)
    if ids:
        n = db.session.get(Notification, ids[0])
        if n is not None and n.user_id == current_user.id and safe_next(n.url):
            return redirect(n.url, code=303)
    elif count:
        flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.index"), code=303)
