"""One-time keys: a double submit of a creation form creates one thing.

Every creation form carries a hidden ``idempotency_key`` (the :class:`OneTimeKey` form mixin),
a fresh random value each time the form is drawn. Its POST calls :func:`claim` before it
creates anything: that INSERTs the key into ``idempotency_key`` (unique per user and key) inside
the request's transaction. The route then calls :func:`created` with the address of what it
made, and commits once as usual.

A second POST with the same key (a double click, a resend, ten at once) cannot claim it: on
PostgreSQL its INSERT waits for the first transaction and then fails on the unique index; on
SQLite it already waited for the write lock (``BEGIN IMMEDIATE``) and fails at once. It answers
with a redirect to what the first one made (htmx: ``HX-Redirect``) and saves nothing. If the
first one failed, its claim was rolled back with everything else and the next try goes ahead.
A claim whose request commits without :func:`created` (a form refused after the claim) is
dropped at that commit, so it can never swallow the corrected form sent again with its key.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms import HiddenField
from wtforms.validators import ValidationError

from .extensions import db
from .htmx import is_htmx
from .models import IdempotencyKey, utcnow

FIELD = "idempotency_key"
KEEP = timedelta(days=7)  # a key older than this is forgotten (nobody resends a week later)
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_CLAIM = "portal_idempotency_claim"  # on flask.g: this request's claim
REPLAYED = "That form had already been sent, so nothing new was made. This is what it made."


def new_key() -> str:
    return secrets.token_urlsafe(24)


def _valid(value) -> bool:
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


def _hidden_without_id(field, **_kwargs) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, field._value())


class KeyField(HiddenField):
    """The hidden key. Its name is ``idempotency_key`` on every form, prefixed or not, and it
    has no id (one form may be drawn once per row of a list, and nothing labels it)."""

    widget = staticmethod(_hidden_without_id)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = FIELD

    def process_formdata(self, valuelist):
        # sent without a key: none (the default, a fresh key, is for drawing the form)
        self.data = valuelist[0] if valuelist else None


def _key_present(form, field) -> None:
    if not _valid(field.data):
        field.data = new_key()  # the form drawn again can be sent as it is
        raise ValidationError("This page was out of date. Check your answers and send the "
                              "form again.")


class OneTimeKey:
    """Form mixin for every form that creates something: ``class NewThingForm(OneTimeKey,
    FlaskForm)``. Templates draw ``{{ form.idempotency_key }}`` inside the form."""

    idempotency_key = KeyField(default=new_key, validators=[_key_present])


def claim(form):
    """Claim the form's key for this request, or answer a replay.

    Returns ``None`` when this request may go ahead (and must call :func:`created` before it
    commits), or the response to send instead: a redirect to what an earlier request with the
    same key made. A missing or malformed key is left to the form's own validation.
    """
    key = form[FIELD].data if FIELD in form else None
    if not _valid(key) or not current_user.is_authenticated:
        return None
    row = IdempotencyKey(user_id=current_user.id, key=key, purpose=request.endpoint or "",
                         url="")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        earlier = db.session.scalar(select(IdempotencyKey).where(
            IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key))
        return _replay(earlier)
    setattr(g, _CLAIM, row)
    return None


def created(url: str, obj: object | None = None) -> None:
    """Record what the claimed request made and where it is shown (before the commit)."""
    row: IdempotencyKey | None = g.get(_CLAIM)
    if row is None:
        return
    row.url = url[:500]
    if obj is not None:
        row.object_type = type(obj).__name__
        row.object_id = getattr(obj, "id", None)
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == row.user_id, IdempotencyKey.created_at < utcnow() - KEEP))


def _replay(earlier: IdempotencyKey | None):
    url = earlier.url if earlier is not None else ""
    same_form = earlier is not None and earlier.purpose == (request.endpoint or "")
    db.session.rollback()  # nothing of this request is saved
    if not same_form or not url:
        # the key came from another form, or its claim made nothing to show
        body = render_template(
            "error.html", code=409, title="That form was sent already",
            message="This form was sent already. Reload the page to see what is saved now, "
                    "and fill the form in again if something is missing.")
        return current_app.response_class(body, status=409)
    flash(REPLAYED, "info")
    if is_htmx():
        response = current_app.response_class(status=200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def _forget_unfulfilled_claim(_exc=None) -> None:
    """At the end of a request that claimed a key and made nothing, nothing of it stays in the
    session (a request's session is thrown away anyway; tests share theirs between requests)."""
    row = g.pop(_CLAIM, None)
    if row is not None and not row.url:
        db.session.rollback()


def init_app(app) -> None:
    app.teardown_request(_forget_unfulfilled_claim)


@event.listens_for(Session, "before_commit")
def _drop_unfulfilled_claim(session) -> None:
    """A claim that made nothing (the form was refused after it) is not kept."""
    if not has_request_context() or session.in_nested_transaction():
        return  # a savepoint is not the request's commit
    row = g.get(_CLAIM)
    if row is None:
        return
    if not row.url and row in session:
        session.delete(row)
    g.pop(_CLAIM, None)

