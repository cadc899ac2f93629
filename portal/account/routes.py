"""Your account: set a password from an invitation, and download everything held about you."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from ..domain import audit, invites, subject_access
from ..extensions import limiter
from ..security import any_role, mark_fresh, public
from .forms import ChangePasswordForm, SetPasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")



@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@public
def set_password(token: str) -> ResponseReturnValue:
    try:
        invite = invites.find(token)
    except invites.InviteError as exc:
        return render_template("account/invite_invalid.html", message=str(exc)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invites.redeem(token, form.password.data)
        except invites.InviteError as exc:
            return render_template("account/invite_invalid.html", message=str(exc)), 410
        audit.record(user, "account.password_set", user, detail={"via": "invitation"},
                     ip=request.remote_addr or "")
        if current_user.is_authenticated:
            logout_user()
        flash("Your password is set. Sign in with your email address and new password.",
              "success")
        return redirect(url_for("auth.login"), code=303)
    status = 422 if request.method == "POST" else 200
    response = Response(render_template("account/set_password.html", form=form,
                                        invited=invite.user), status=status)
    response.headers["Referrer-Policy"] = "no-referrer"  # keep the token out of any Referer
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]  # guessing a current password = guessing a login


def _user_key() -> str:
    return f"password-change:{current_user.get_id() if current_user.is_authenticated else ''}"


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=_user_key, methods=["POST"])
@any_role
def change_password() -> ResponseReturnValue:
    """Change your password. Every other session of yours stops at once; this one carries on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            user = current_user._get_current_object()
            user.set_password(form.password.data)
            user.session_version += 1  # every other signed-in copy of this account ends
            audit.record(user, "account.password_changed", user, ip=request.remote_addr or "")
            login_user(user)  # this browser carries on under the new session version
            mark_fresh()
            flash("Your password is changed. You have been signed out everywhere else.",
                  "success")
            return redirect(url_for("account.your_data"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("account/change_password.html", form=form), status


@bp.get("/data")
@any_role
def your_data() -> ResponseReturnValue:
    return render_template("account/your_data.html")


def _download(body: str, mimetype: str, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="my-portal-data-{current_user.id}.{ext}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/data.json")
@any_role
def data_json() -> ResponseReturnValue:
    return _download(subject_access.to_json(subject_access.export(current_user)),
                     "application/json", "json")


@bp.get("/data.csv")
@any_role
def data_csv() -> ResponseReturnValue:
    return _download(subject_access.to_csv(subject_access.export(current_user)),
                     "text/csv", "csv")
