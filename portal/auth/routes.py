"""Sign in and sign out (this browser, or every browser of the account)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import func, select

from ..domain import audit, sessions
from ..extensions import db, limiter
from ..models import User
from ..security import (
    any_role,
    end_session,
    public,
    remember_signed_out,
    safe_next,
    verify_password,
)
from . import flow
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def login_limit() -> str:
    """Attempts at one account from one address."""
    return current_app.config["LOGIN_LIMIT"]


def address_limit() -> str:
    """Attempts from one address at any accounts."""
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


def failed_sign_in(response) -> bool:
    """Only failed sign-ins count towards the limits: a staff room signing in from one school
    address is never stopped by its own successes (issue 15). A sign-in that succeeds redirects;
    every refusal (wrong password, a bad form, a stale security token) answers 4xx."""
    return response.status_code >= 400


def account_at_address_key(prefix: str = "login-account") -> str:
    """Guesses at one account are counted per account *and* address: someone guessing from one
    place is stopped without locking the owner out everywhere else."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{prefix}:{email}:{get_remote_address()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"], deduct_when=failed_sign_in)
@limiter.limit(login_limit, key_func=account_at_address_key, methods=["POST"],
               deduct_when=failed_sign_in)
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
        if verify_password(user, form.password.data) and user is not None:
            # the two-factor code next, if one is due (auth/flow.py); else signed in now
            return flow.proceed(user, via="password", next_url=form.next.data)
        form.password.errors.append(
            "The email address or password is not right. Check them and try again."
        )
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@any_role
def logout() -> ResponseReturnValue:
    """Sign this browser out. The account's other sessions carry on; a copy of this session's
    cookie is worthless from now on."""
    sessions.end(session.get("sid"))
    audit.record(current_user, "auth.logout", current_user, ip=request.remote_addr or "")
    user_id = current_user.id
    end_session()
    remember_signed_out(user_id)  # a form sent from another tab now is kept for them
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@any_role
def logout_everywhere() -> ResponseReturnValue:
    """Sign out on every device and browser, this one included."""
    user = current_user._get_current_object()
    sessions.end_all(user)
    audit.record(user, "auth.logout_everywhere", user, ip=request.remote_addr or "")
    end_session()
    flash("You have signed out on every device and browser.", "success")
    return redirect(url_for("auth.login"))
