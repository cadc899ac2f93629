"""Route permissions, the user loader, sessions and security headers.

Every view is declared with the roles allowed to call it (``@roles(...)``) or as ``@public``; a
test walks the URL map and fails if any view has neither.

Sessions last from the last activity: every request a person makes (not a page polling in the
background, see :func:`background`) moves ``session["seen"]`` on, which also re-signs the
cookie; a session quiet for longer than ``SESSION_IDLE`` is signed out. The session still says
who it was (``SIGNED_OUT``), so a form they send afterwards is kept for them alone
(``portal/drafts.py``) while they sign in again.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response as WerkzeugResponse

from .domain import notify, sessions
from .extensions import db, login_manager
from .htmx import is_htmx
from .models import ROLES, LoginSession, User

PUBLIC = frozenset({"public"})
ALL_ROLES = frozenset(ROLES)
SIGNED_OUT = "signed_out_user"  # session key: who this browser's last session belonged to
SEEN_EVERY = 60  # seconds: "seen" is written at most this often (so not on every response)


class DeclaredView(Protocol):
    """A view marked with who may call it (``roles``, ``public``); the URL-map tests read it."""

    allowed_roles: frozenset[str]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class BackgroundView(Protocol):
    """A view marked by :func:`background`: calling it is not activity."""

    background: bool

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def roles(*allowed: str) -> Callable:
    """Allow signed-in users with one of these roles; others get 403, strangers the login page."""
    unknown = set(allowed) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        declared = cast(DeclaredView, wrapper)
        declared.allowed_roles = frozenset(allowed)
        return declared

    return decorate


def any_role(view: Callable) -> Callable:
    return roles(*ALL_ROLES)(view)


def public(view: Callable) -> Callable:
    declared = cast(DeclaredView, view)
    declared.allowed_roles = PUBLIC
    return declared


@functools.cache
def _user_statements() -> tuple[Select, Select]:
    """The user loader's two statements (for a partial; for a whole page, with the header's
    joins and unread count), built once with bind parameters: building them again on every
    request was a tenth of the cost of the plan's poll (issue 20)."""
    base = (select(User).join(LoginSession, sessions.live())
            .where(User.id == bindparam("user_id")))
    page = (base.add_columns(notify.unread_count_column(User.id))
            .options(joinedload(User.school), joinedload(User.alliance),
                     joinedload(User.profile)))
    return base, page


@login_manager.user_loader
def load_user(token: str) -> User | None:
    try:
        user_id, version = (int(part) for part in token.split(":", 1))
    except ValueError:
        return None
    sid = session.get("sid")
    if not sid:
        return None
    # One query: the user, only while this browser's session is live (domain/sessions.py);
    # school and alliance are shown on every page (base.html), so they come along.
    # An htmx partial renders no header: it skips the two joins (issue 20: they were a third of
    # the fixed cost of a request); a partial that does read them lazy-loads what it reads.
    from .htmx import wants_partial

    # A whole page also shows the unread-notification count in its header: it comes along in
    # the same query, as a scalar subquery (notify.preloaded_unread); and the leader profile,
    # which the menu's "My profile" asks about (policy.profiles.has_own_profile).
    partial = wants_partial()
    for_partial, for_page = _user_statements()
    params = {"user_id": user_id, **sessions.live_params(sid)}
    unread: int | None = None
    if partial:
        user = db.session.scalar(for_partial, params)
    else:
        row = db.session.execute(for_page, params).first()
        user, unread = (row[0], int(row[1] or 0)) if row is not None else (None, None)
    if user is None or not user.active or user.session_version != version:
        return None
    if unread is not None:
        notify.preload_unread(user, unread)
    return user


# ----------------------------------------------------------------------- passwords and sign-in

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash of a random password, made exactly as ``User.set_password`` makes real ones."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16), method="scrypt"))
    return _DUMMY_HASH[0]


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``user`` may sign in with ``password``. Every answer costs one scrypt check, so a
    stranger cannot tell from the time taken whether an address has an account (unknown,
    deactivated and not-yet-set-up accounts are checked against a dummy hash)."""
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(user.password_hash, password)


def begin_session(user: User, sid: str) -> None:
    """Sign this browser in under a brand-new session: nothing in the old cookie survives, so a
    session (or CSRF token) planted before sign-in is worth nothing after it."""
    session.clear()
    session["sid"] = sid
    login_user(user)
    mark_fresh()


def end_session() -> None:
    """Forget this browser's sign-in (after ``sessions.end``/``end_all`` and the commit)."""
    logout_user()
    session.clear()


def background(view: Callable) -> Callable:
    """Mark a view that pages call on their own (polling): calling it is not activity, so it
    does not keep a session alive."""
    marked = cast(BackgroundView, view)
    marked.background = True
    return marked


def _user_id_in(token) -> int | None:
    try:
        return int(str(token).split(":", 1)[0])
    except ValueError:
        return None


def signed_out_user() -> int | None:
    """Whose session this browser had, though no one is signed in now (or None)."""
    if "_user_id" in session:  # still there, but no longer valid (ended everywhere, say)
        return _user_id_in(session["_user_id"])
    hint = session.get(SIGNED_OUT)
    return hint if isinstance(hint, int) else None


def remember_signed_out(user_id: int) -> None:
    session[SIGNED_OUT] = user_id


def slide_session() -> None:
    """Sign out a session idle for longer than SESSION_IDLE; otherwise note this activity."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    last = max(session.get("seen", 0), session.get("auth_at", 0))
    if last and now - last > current_app.config["SESSION_IDLE"].total_seconds():
        user_id = _user_id_in(session["_user_id"])
        logout_user()
        for key in ("seen", "auth_at"):
            session.pop(key, None)
        if user_id is not None:
            remember_signed_out(user_id)
        g.portal_session_expired = True
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if last and getattr(view, "background", False):
        return
    if now - session.get("seen", 0) >= SEEN_EVERY:
        session["seen"] = now  # a changed session is written again: the cookie is re-signed


@login_manager.unauthorized_handler
def unauthorized():
    from . import drafts

    target = safe_next(request.full_path.rstrip("?"))
    kept = None
    if request.method == "POST":
        kept = drafts.keep(signed_out_user(), signed_out=True)
        target = kept.page if kept else drafts.page_of_request()
    if kept:
        flash(drafts.SIGN_IN_AGAIN, "info")
    elif g.pop("portal_session_expired", None):
        flash("You were signed out because the portal was not used for a while.", "info")
    login_url = url_for("auth.login", next=target)
    response: WerkzeugResponse
    if is_htmx():
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = login_url
    else:
        response = redirect(login_url)
    return drafts.attach(response, kept) if kept else response


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never another host, scheme or a protocol-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def mark_fresh() -> None:
    session["auth_at"] = session["seen"] = int(time.time())
    session.pop(SIGNED_OUT, None)


def is_fresh() -> bool:
    minutes = current_app.config["FRESH_LOGIN_MINUTES"]
    return time.time() - session.get("auth_at", 0) < minutes * 60


def allow_form_action(origin: str) -> None:
    """Let this page's forms lead to ``origin`` too (CSP ``form-action``): the school sign-in
    form's answer redirects to the school's account provider, which browsers check against it."""
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc:
        extra = g.setdefault("form_action_origins", [])
        extra.append(f"{parts.scheme}://{parts.netloc}")


def _security_headers(response):
    cdn = current_app.config.get("HTMX_CDN") or ""
    cdn_origin = "{0.scheme}://{0.netloc}".format(urlsplit(cdn)) if cdn else ""
    script_src = "'self'" + (f" {cdn_origin}" if cdn_origin else "")
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
        + "".join(f" {o}" for o in dict.fromkeys(g.get("form_action_origins", []))),
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["PORTAL_ENV"] == "production":
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    response.vary.add("HX-Request")
    return response


def _refuse_nul_bytes():
    """No text a person types contains a NUL byte, and PostgreSQL cannot store one: refuse such a
    request whole (400, nothing read further, nothing saved) rather than fail deep in a save."""
    values = [*request.args.values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values.extend(request.form.values())
    if any("\x00" in v for v in values):
        abort(400, description="Part of what was sent contains a character the portal cannot "
                               "store (a NUL byte). Remove it and try again; nothing was saved.")


def init_app(app: Flask) -> None:
    if app.config["PORTAL_ENV"] == "production":
        _dummy_hash()  # made at start-up, so the first stranger's sign-in is not the slow one
    app.before_request(_refuse_nul_bytes)
    app.before_request(slide_session)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    app.after_request(_security_headers)
