"""Your account: set a password from a link (an invitation or "Forgot your password?"), change
it, and download everything held about you."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user
from limits import parse_many
from sqlalchemy import func, select

from ..auth.routes import account_at_address_key, address_limit, login_limit
from ..domain import audit, calendar, invites, sessions, subject_access
from ..extensions import db, limiter
from ..models import User
from ..security import any_role, end_session, mark_fresh, public
from ..unit_of_work import command
from .forms import ChangePasswordForm, ForgotPasswordForm, SetPasswordForm

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
        purpose = invite.purpose
        try:
            user = invites.redeem(token, form.password.data)  # every session of theirs ends
        except invites.InviteError as exc:
            return render_template("account/invite_invalid.html", message=str(exc)), 410
        audit.record(user, "account.password_set", user,
                     detail={"via": "invitation" if purpose == "invite" else "reset"},
                     ip=request.remote_addr or "")
        if current_user.is_authenticated:
            end_session()
        flash("Your password is set. Sign in with your email address and new password.",
              "success")
        return redirect(url_for("auth.login"), code=303)
    status = 422 if request.method == "POST" else 200
    response = Response(render_template("account/set_password.html", form=form,
                                        invited=invite.user, purpose=invite.purpose),
                        status=status)
    response.headers["Referrer-Policy"] = "no-referrer"  # keep the token out of any Referer
    response.headers["Cache-Control"] = "no-store"
    return response


def _forgot_key() -> str:
    return account_at_address_key("forgot-account")


def _may_email(email: str) -> bool:
    """At most RESET_EMAIL_LIMIT reset emails to one account, whoever asks and from wherever:
    nobody can flood a colleague's inbox. (The page answers the same either way.)"""
    if not limiter.enabled:
        return True
    items = parse_many(current_app.config["RESET_EMAIL_LIMIT"])
    key = [current_app.config.get("RATELIMIT_KEY_PREFIX") or "portal", "reset-email", email]
    return all(limiter.limiter.hit(item, *key) for item in items)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"])
@limiter.limit(login_limit, key_func=_forgot_key, methods=["POST"])
@public
def forgot() -> ResponseReturnValue:
    """Forgot your password? The same answer whether or not the address has an account; if it
    has (and is active), an email with a one-hour, single-use link goes to that address only."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active and _may_email(email):
            invites.send_reset(user)
            audit.record(None, "account.reset_requested", user, ip=request.remote_addr or "")
        return render_template("account/forgot_sent.html")
    status = 422 if request.method == "POST" else 200
    return render_template("account/forgot.html", form=form), status


def _user_key() -> str:
    return f"password-change:{current_user.get_id() if current_user.is_authenticated else ''}"


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])  # guessing a current password = guessing a login
@limiter.limit(login_limit, key_func=_user_key, methods=["POST"])
@any_role
def change_password() -> ResponseReturnValue:
    """Change your password. Every other session of yours stops at once; this one carries on,
    and your email address is told."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            user = current_user._get_current_object()
            user.set_password(form.password.data)
            sessions.end_all(user, keep=session.get("sid"))
            invites.announce_password_change(user, kept_this_session=True)
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
    from ..reminders.forms import EmailChoiceForm

    form = EmailChoiceForm(choice="digest" if current_user.daily_digest else "immediate")
    return render_template("account/your_data.html", email_form=form)


@bp.post("/emails")
@any_role
def email_choice() -> ResponseReturnValue:
    """Immediate emails or one daily digest; in-portal notifications appear either way."""
    from ..domain.reminders import set_email_choice
    from ..reminders.forms import EmailChoiceForm

    form = EmailChoiceForm()
    if not form.validate_on_submit():
        return render_template("account/your_data.html", email_form=form), 422
    set_email_choice(current_user._get_current_object(), form.choice.data == "digest",
                     ip=request.remote_addr or "")
    flash("Your email choice is saved.", "success")
    return redirect(url_for("account.your_data"), code=303)


def _download(body: str | Iterator[str], mimetype: str, ext: str) -> Response:
    response = Response(body if isinstance(body, str) else stream_with_context(body),
                        mimetype=mimetype)
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
    # written as it is read: a leader's thousands of deployments never sit whole in memory
    return _download(subject_access.csv_lines(current_user._get_current_object()),
                     "text/csv", "csv")


# ------------------------------------------------------------------ two-factor sign-in


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=_user_key, methods=["POST"])
@any_role
def two_factor_page() -> ResponseReturnValue:
    """Set up two-factor sign-in (QR code, then a first code), or see that it is on."""
    from ..auth.flow import enrolment
    from ..auth.forms import CodeForm
    from ..domain import two_factor
    from .forms import PasswordCheckForm

    user = current_user._get_current_object()
    if two_factor.of(user) is not None:
        if request.method == "POST":
            return redirect(url_for("account.two_factor_page"), code=303)
        return render_template("account/two_factor.html", form=PasswordCheckForm(),
                               left=two_factor.recovery_left(user),
                               required=two_factor.required_for(user))
    return enrolment(
        user, CodeForm(), action=url_for("account.two_factor_page"), at_sign_in=False,
        conflict_to=url_for("account.two_factor_page"),
        done=lambda codes: render_template("account/recovery_codes.html", codes=codes,
                                           first=True, continue_to=url_for("account.your_data")))


def _password_again():
    """The password form, checked; or the page answered with its message (422)."""
    from ..domain import two_factor
    from .forms import PasswordCheckForm

    form = PasswordCheckForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        # a code from the app does too: someone who signs in only with a school account may
        # have no portal password
        if user.check_password(form.password.data) or (
                two_factor.verify(user, form.password.data) == "app"):
            return None
        form.password.errors.append("That is not your password, nor a code from your app.")
    if two_factor.of(user) is None:
        return redirect(url_for("account.two_factor_page"), code=303)
    return render_template("account/two_factor.html", form=form,
                           left=two_factor.recovery_left(user),
                           required=two_factor.required_for(user)), 422


@bp.post("/two-factor/codes")
@limiter.limit(login_limit, key_func=_user_key)
@any_role
def two_factor_codes() -> ResponseReturnValue:
    """New recovery codes, after the password; the old ones stop working."""
    from ..auth.flow import no_store
    from ..domain import two_factor

    refused = _password_again()
    if refused is not None:
        return refused
    codes = two_factor.new_recovery_codes(current_user._get_current_object(),
                                          ip=request.remote_addr or "")
    return no_store(render_template("account/recovery_codes.html", codes=codes, first=False,
                                    continue_to=url_for("account.two_factor_page")))


@bp.post("/two-factor/off")
@limiter.limit(login_limit, key_func=_user_key)
@any_role
def two_factor_off() -> ResponseReturnValue:
    """Turn two-factor sign-in off, after the password (not where the alliance requires it)."""
    from ..domain import two_factor

    refused = _password_again()
    if refused is not None:
        return refused
    two_factor.turn_off(current_user._get_current_object(), ip=request.remote_addr or "")
    flash("Two-factor sign-in is off. Signing in asks only for your password.", "success")
    return redirect(url_for("account.your_data"), code=303)
# ------------------------------------------------------------------------------- calendar


def _calendar_page(link: str = "", status: int = 200) -> ResponseReturnValue:
    response = Response(render_template("account/calendar.html", link=link,
                                        made_at=calendar.link_made_at(current_user)),
                        status=status)
    response.headers["Cache-Control"] = "no-store"  # the link is shown once, never cached
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/calendar")
@any_role
def calendar_link() -> ResponseReturnValue:
    return _calendar_page()


def _calendar_key() -> str:
    """Links made are counted per user: a school's staff share one address."""
    return f"calendar-link:{current_user.get_id()}"


@bp.post("/calendar/link")
@limiter.limit("20 per hour", methods=["POST"], key_func=_calendar_key)
@any_role
def calendar_make() -> ResponseReturnValue:
    """Make (or reset) the private calendar link and show it, this once. A double click
    shows the newer link, the only one that works."""
    with command():
        token = calendar.make_link(current_user._get_current_object(),
                                   ip=request.remote_addr or "")
    return _calendar_page(url_for("account.calendar_feed", token=token, _external=True))


@bp.post("/calendar/stop")
@any_role
def calendar_stop() -> ResponseReturnValue:
    with command():
        stopped = calendar.stop_link(current_user._get_current_object(),
                                     ip=request.remote_addr or "")
    if stopped:
        flash("Your calendar link is turned off. Calendars that used it stop updating.",
              "success")
    return redirect(url_for("account.calendar_link"), code=303)


@bp.get("/calendar/<token>.ics")
@limiter.limit("120 per hour")
@public
def calendar_feed(token: str) -> ResponseReturnValue:
    """The feed a calendar subscribes to: the token is the only credential (no session), so
    an unknown or reset token is 404, like any page the caller may not see."""
    user = calendar.user_for(token)
    if user is None:
        abort(404)
    response = Response(calendar.feed(user), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="portal.ics"'
    return response
