"""What someone typed survives a sign-in.

A form can arrive after its sender's session ended (signed out for inactivity, signed out in
another tab, every session ended after a password change) or with a security token that no
longer matches. Instead of "your form expired", :func:`keep` stores what was sent, server-side:
the fields as sent (never a password or token field, never a file; size-limited), the path it
was sent to and the page it was on, bound to the user it belonged to and to this browser (a
random token in the ``portal_draft`` cookie; only its SHA-256 is stored). The sender is sent to
sign in (htmx: ``HX-Redirect``) and back to that page, where :func:`restored` hands the answers
to ``static/js/portal.js``, which fills the form in again with "You were signed out. Check your
answers and send the form again." Nothing is sent on their behalf: sending again takes a fresh
click and a fresh CSRF token.

A draft is only ever shown to the user it was kept for: when the session no longer says who
that was, nothing is kept; when someone else signs in in that browser it is deleted. It is
shown once, and forgotten after :data:`TTL`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import after_this_request, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import delete, or_, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from .extensions import db
from .models import FormDraft, utcnow

COOKIE = "portal_draft"
TTL = timedelta(hours=2)
MAX_FIELDS = 300
MAX_VALUE = 20_000  # characters in one field (the longest textarea takes 20,000)
MAX_TOTAL = 200_000  # characters in all
# never kept: the CSRF token, and anything that looks like a password or a secret
_SECRET = re.compile(r"csrf|passw|secret|token", re.IGNORECASE)
# the pages a draft is never restored on
_NO_RETURN = ("auth.", "account.")

SIGN_IN_AGAIN = ("You were signed out, so your form was not sent. Sign in and you can check "
                 "your answers and send it again.")
RESTORED = {True: "You were signed out. Check your answers and send the form again.",
            False: "The form had expired, so it was not sent. Check your answers and send the "
                   "form again."}


@dataclass(frozen=True)
class Kept:
    token: str
    page: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _same_site() -> bool:
    """Only a form sent from one of our own pages is kept (never a cross-site POST)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.host
    return True


def _local_path(value: str | None) -> str | None:
    from .security import safe_next

    if not value:
        return None
    parts = urlsplit(value)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path)


def _returnable(path: str | None) -> bool:
    if not path:
        return False
    adapter = current_app.url_map.bind("")
    try:
        endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
    except (HTTPException, RoutingException):  # not a page (404, 405, a redirect): not there
        return False
    return not endpoint.startswith(_NO_RETURN)


def page_of_request() -> str:
    """The page the form that was sent sits on: htmx tells us, a browser's Referer tells us;
    otherwise the address it was sent to, if that is a page."""
    for candidate in (_local_path(request.headers.get("HX-Current-URL")),
                      _local_path(request.headers.get("Referer")),
                      _local_path(request.full_path.rstrip("?"))):
        if candidate and _returnable(candidate):
            return candidate
    return url_for("dashboard.home")


def _fields() -> list[list[str]] | None:
    fields = [[name, value] for name, value in request.form.items(multi=True)
              if not _SECRET.search(name)]
    if not any(value.strip() for name, value in fields if name != "idempotency_key"):
        return None  # a button, nothing typed: nothing to keep
    if len(fields) > MAX_FIELDS:
        return None
    if any(len(v) > MAX_VALUE for _, v in fields) or sum(len(v) for _, v in fields) > MAX_TOTAL:
        return None
    return fields


def keep(user_id: int | None, *, signed_out: bool) -> Kept | None:
    """Keep the form this request sent for ``user_id`` (who was ``signed_out``, or whose form
    had only expired); None when it cannot or must not be kept."""
    if user_id is None or request.method != "POST" or not _same_site():
        return None
    if (request.endpoint or "").startswith(_NO_RETURN):
        return None  # sign-in and password forms: nothing to keep
    fields = _fields()
    if fields is None:
        return None
    db.session.rollback()  # nothing else of this request is saved
    kept = _store(user_id, page_of_request(), fields, signed_out=signed_out)
    db.session.commit()
    return kept


def hold(user_id: int, page: str) -> Kept | None:
    """Keep the form this request sent for the signed-in ``user_id`` while they confirm their
    password (``agreements.confirm_password`` completes it with :func:`pending`). Saved by the
    request's own unit of work; shown on ``page`` by :func:`restored` if never completed."""
    if request.method != "POST" or not _same_site():
        return None
    fields = _fields()
    return None if fields is None else _store(user_id, page, fields, signed_out=False)


@dataclass(frozen=True)
class Pending:
    action: str
    fields: list[list[str]]


def pending(user_id: int) -> Pending | None:
    """The form this browser kept for ``user_id`` (read only), or None."""
    if not request.cookies.get(COOKIE):
        return None
    draft = _mine()
    if draft is None or draft.user_id != user_id or draft.created_at < utcnow() - TTL:
        return None
    return Pending(draft.action, [list(pair) for pair in draft.fields])


def discard(user_id: int) -> None:
    """Forget the form this browser kept for ``user_id`` (it was completed or refused)."""
    if request.cookies.get(COOKIE):
        db.session.execute(delete(FormDraft).where(
            FormDraft.token_hash == _hash(request.cookies[COOKIE]),
            FormDraft.user_id == user_id))
        _forget_cookie()


def _store(user_id: int, page: str, fields: list[list[str]], *, signed_out: bool) -> Kept:
    token = secrets.token_urlsafe(32)
    # one draft per person; and none older than TTL for anyone
    db.session.execute(delete(FormDraft).where(or_(FormDraft.user_id == user_id,
                                                   FormDraft.created_at < utcnow() - TTL)))
    db.session.add(FormDraft(token_hash=_hash(token), user_id=user_id, action=request.path,
                             page=page, fields=fields, signed_out=signed_out))
    db.session.flush()
    return Kept(token, page)


def attach(response, kept: Kept):
    response.set_cookie(COOKIE, kept.token, max_age=int(TTL.total_seconds()), path="/",
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _forget_cookie() -> None:
    @after_this_request
    def _clear(response):
        response.delete_cookie(COOKIE, path="/")
        return response


def _mine() -> FormDraft | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return db.session.scalar(select(FormDraft).where(FormDraft.token_hash == _hash(token)))


def on_sign_in(user) -> str | None:
    """Someone signed in: the page of their kept form, or None. Another user's draft kept in
    this browser is deleted there and then."""
    if not request.cookies.get(COOKIE):
        return None
    draft = _mine()
    if draft is None or draft.user_id != user.id or draft.created_at < utcnow() - TTL:
        if draft is not None:
            db.session.delete(draft)
            db.session.commit()
        _forget_cookie()
        return None
    return draft.page


def restored() -> dict | None:
    """For the page being drawn: the kept answers of a form on it, once (a template global)."""
    if not request.cookies.get(COOKIE) or not current_user.is_authenticated:
        return None
    draft = _mine()
    if draft is None or draft.user_id != current_user.id or draft.created_at < utcnow() - TTL:
        _forget_cookie()
        return None
    if urlsplit(draft.page).path != request.path:
        return None  # kept for another page: keep it until that page is opened
    _forget_cookie()  # shown once; the row goes when it expires or the next draft replaces it
    return {"action": draft.action, "fields": draft.fields, "message": RESTORED[draft.signed_out],
            "texts": [v.strip() for _, v in draft.fields if " " in v.strip()]}


def init_app(app) -> None:
    app.add_template_global(restored, "restored_form")
