"""Sign in and sign out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from ..domain import audit
from ..extensions import db, limiter
from ..models import User, utcnow
from ..security import any_role, mark_fresh, public, safe_next
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


def _account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
@public
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data) or url_for("dashboard.home"))
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active and user.check_password(form.password.data):
            user.last_login_at = utcnow()
            audit.record(user, "auth.login", user, ip=request.remote_addr or "")
            login_user(user)
            mark_fresh()
            return redirect(safe_next(form.next.data) or url_for("dashboard.home"))
        form.password.errors.append(
            "The email address or password is not right. Check them and try again."
        )
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@any_role
def logout() -> ResponseReturnValue:
    # A new session version makes every copy of the old session cookie worthless.
    current_user.session_version += 1
    audit.record(current_user, "auth.logout", current_user, ip=request.remote_addr or "")
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
