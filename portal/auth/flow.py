"""The last steps of every sign-in, whichever way it began (password or school account): the
two-factor code when one is due, then a new session.

Between the first step and the code, the session holds only ``pending_sign_in`` (who, their
session version, when and how they began): nobody is signed in, and it lapses after
:data:`PENDING_SECONDS` or when the account's sessions are ended (a password change)."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import request, session, url_for
from werkzeug.wrappers import Response

from .. import drafts
from ..domain import audit, sessions, two_factor
from ..extensions import db
from ..models import User, utcnow
from ..security import begin_session, safe_next

PENDING = "pending_sign_in"
NEW_SECRET = "pending_two_factor_secret"  # noqa: S105 - a session key, not a secret
PENDING_SECONDS = 300


def no_store(body: str, status: int = 200) -> Response:
    """A page showing a secret (a two-factor key, recovery codes): never kept by a cache."""
    from flask import current_app

    response = current_app.response_class(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def needs_code(user: User, *, mfa: bool = False) -> bool:
    """Whether this sign-in must give a two-factor code (or set up an app) before it starts.

    ``mfa``: the school's account provider says a second factor was used already (its ID token's
    ``amr`` has "mfa"), which counts for the portal too."""
    if mfa:
        return False
    return two_factor.of(user) is not None or two_factor.required_for(user)


def ask_code(user: User, *, via: str, next_url: str | None) -> Response:
    from flask import redirect

    session.clear()  # whatever the browser carried before is not carried into the sign-in
    session[PENDING] = {"uid": user.id, "v": user.session_version, "at": int(time.time()),
                        "via": via, "next": safe_next(next_url) or ""}
    return redirect(url_for("auth.code"), code=303)


def pending_user() -> tuple[User, dict] | None:
    data = session.get(PENDING)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.session_version != data.get("v"):
        return None
    return user, data


def start(user: User, *, via: str, next_url: str | None, second: str = "") -> str:
    """Sign this browser in; returns where to go next."""
    ip = request.remote_addr or ""
    user.last_login_at = utcnow()
    sid = sessions.start(user, ip)
    detail = {"via": via}
    if second:
        detail["second_factor"] = second
    audit.record(user, "auth.login", user, ip=ip, detail=detail)
    begin_session(user, sid)
    kept_on = drafts.on_sign_in(user)  # a form kept when they were signed out
    return safe_next(next_url) or kept_on or url_for("dashboard.home")


def proceed(user: User, *, via: str, next_url: str | None, mfa: bool = False) -> Response:
    """After the first step succeeded: ask for the code, or sign in. A session this browser
    already had (someone signing in again to confirm it is them) ends: its cookie is worth
    nothing from now on."""
    from flask import redirect

    sessions.end(session.get("sid"))
    if needs_code(user, mfa=mfa):
        return ask_code(user, via=via, next_url=next_url)
    return redirect(start(user, via=via, next_url=next_url,
                          second="provider" if mfa and via != "password" else ""))


def school_account_of(user: User) -> int | None:
    """The alliance whose school sign-in ``user`` has used, if it is still set up: the
    confirm-your-password page then offers signing in again with it instead (someone who
    signs in only with a school account may have no portal password)."""
    from sqlalchemy import select

    from ..domain import oidc
    from ..models import UserIdentity
    from ..security import allow_form_action

    if not db.session.scalar(select(UserIdentity.id).where(UserIdentity.user_id == user.id)):
        return None
    if not oidc.is_ready(oidc.settings_for(user.alliance_id), user.alliance):
        return None
    for origin in oidc.provider_origins():
        allow_form_action(origin)
    return user.alliance_id


def enrolment(user: User, form, *, action: str, at_sign_in: bool,
              conflict_to: str, done: Callable[[list[str]], str]) -> Response:
    """Setting up two-factor sign-in, from Your account or as a sign-in step the alliance
    requires: the QR code and key for a secret kept in the session until the first code from
    the app proves it, then the recovery codes once (never cached). ``done(codes)`` gives the
    recovery-codes page, ``conflict_to`` is where a second tab's late submission goes."""
    from flask import redirect, render_template

    from ..domain.errors import Conflict, Invalid
    from ..unit_of_work import command

    secret = session.get(NEW_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[NEW_SECRET] = two_factor.new_secret()
    if form.validate_on_submit():
        try:
            with command():
                codes = two_factor.enrol(user, secret, form.code.data,
                                         ip=request.remote_addr or "")
        except Invalid as exc:
            exc.show_on(form)
        except Conflict:
            return redirect(conflict_to, code=303)
        else:
            session.pop(NEW_SECRET, None)
            return no_store(done(codes))
    status = 422 if request.method == "POST" else 200
    uri = two_factor.provisioning_uri(user, secret)
    return no_store(render_template(
        "account/two_factor_setup.html", form=form, qr=two_factor.qr_svg(uri),
        secret=two_factor.grouped(secret), action=action, at_sign_in=at_sign_in), status)
