"""The second step of signing in: the code from the authenticator app (or a recovery code), or,
for someone whose alliance requires two-factor sign-in and who has not set it up, setting it up
now (auth/flow.py holds who is half-way through)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ..domain import audit, two_factor
from ..extensions import limiter
from ..security import public
from ..unit_of_work import command, keep_on_refusal
from . import flow
from .forms import CodeForm
from .routes import bp, failed_sign_in


def code_limit() -> str:
    return current_app.config["TWO_FACTOR_LIMIT"]


def pending_key() -> str:
    data = session.get(flow.PENDING)
    uid = data.get("uid") if isinstance(data, dict) else None
    return f"two-factor:{uid}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(code_limit, key_func=pending_key, methods=["POST"], deduct_when=failed_sign_in)
@public
def code() -> ResponseReturnValue:
    """Ask for the code; or set up the app first where the alliance requires it."""
    pending = flow.pending_user()
    if pending is None:
        session.pop(flow.PENDING, None)
        flash("Your sign-in took too long or is no longer valid. Sign in again.", "info")
        return redirect(url_for("auth.login"), code=303)
    user, data = pending
    form = CodeForm()
    if two_factor.of(user) is None:
        return _enrol(user, data, form)
    if form.validate_on_submit():
        used = two_factor.verify(user, form.code.data)
        if used:
            session.pop(flow.PENDING, None)
            target = flow.start(user, via=data["via"], next_url=data["next"], second=used)
            if used == "recovery":
                left = two_factor.recovery_left(user)
                flash(f"You used a recovery code: {left} left. If you no longer have your "
                      "app, set it up again from Your account.", "info")
            return redirect(target)
        form.code.errors.append("That code is not right, or has been used already. Enter the "
                                "code your app shows now, or one of your recovery codes.")
        # whoever sent it knew the password: the account's log says so (never the code)
        with command():
            audit.record(user, "auth.two_factor_code_refused", user,
                         ip=request.remote_addr or "")
        keep_on_refusal()
    status = 422 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


def _enrol(user, data, form) -> ResponseReturnValue:
    def done(codes: list[str]) -> str:
        target = flow.start(user, via=data["via"], next_url=data["next"], second="app")
        return render_template("account/recovery_codes.html", codes=codes,
                               continue_to=target, first=True)

    return flow.enrolment(user, form, action=url_for("auth.code"), at_sign_in=True,
                          conflict_to=url_for("auth.code"), done=done)
