"""The alliance's reminder settings: thresholds and payment terms (director or co-ordinator)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..domain import reminders
from ..domain.errors import Invalid
from ..domain.policy import alliance_settings as policy
from ..domain.policy import require
from ..extensions import db
from ..models import AllianceSettings
from ..models.reminders import DEFAULTS, SETTINGS
from ..security import roles
from ..unit_of_work import command
from .forms import SettingsForm

bp = Blueprint("reminders", __name__, url_prefix="/alliance")


@bp.route("/reminders", methods=["GET", "POST"])
@roles("admin", "director")
def settings() -> ResponseReturnValue:
    """Show and change when reminders go and how many days an invoice allows."""
    user = current_user._get_current_object()
    require(policy.edit(user.alliance_id, user))
    row = db.session.get(AllianceSettings, user.alliance_id)
    version = row.version if row is not None else 0
    form = SettingsForm()
    if request.method == "GET":
        for name in DEFAULTS:
            getattr(form, name).data = getattr(row, name) if row is not None else DEFAULTS[name]
    elif form.validate_on_submit():
        try:
            with command():
                reminders.save_settings(
                    user.alliance_id, user, {n: getattr(form, n).data for n in DEFAULTS},
                    version=_version(request.form.get("version")),
                    ip=request.remote_addr or "")
        except Invalid as exc:
            exc.show_on(form)
        else:
            flash("The reminder settings are saved.", "success")
            return redirect(url_for("reminders.settings"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("reminders/settings.html", form=form, settings=SETTINGS,
                           version=version, defaults=DEFAULTS), status


def _version(text: str | None) -> int:
    """The version the form was drawn from; a form without one is refused as stale."""
    try:
        return int(text or "")
    except ValueError:
        return -1
