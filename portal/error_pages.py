"""Every error a user can meet, answered once for the whole portal and htmx-aware.

Modelled on notifications-admin's ``register_errorhandlers`` and indico's
``indico/web/flask/errors.py``. :func:`init_app` (called once by ``create_app``) maps

* every :class:`~portal.domain.errors.PortalError` (Forbidden 403, NotNow 409, Invalid 422,
  Conflict 409, NotVisible 404) by its ``status``, ``title`` and message;
* the HTTP errors Flask and its extensions raise (400, 403, 404, 429, 500, an expired CSRF token).

:func:`respond` is the one responder: for a plain htmx request it answers a fragment that
replaces the page's live status region (``#htmx-status``), so the message is read out where the
user is; otherwise the error page. A :class:`Conflict` also links to the current state: the page
the user came from (same site only), reloaded.

A view that wants the message beside a field catches :class:`Invalid` itself and calls
``exc.show_on(form)`` before re-rendering its form with 422.
"""

from __future__ import annotations

from flask import Flask, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .domain.errors import Conflict, PortalError
from .extensions import db
from .htmx import wants_partial
from .security import safe_next
from .uploads import LARGE_UPLOADS


def _came_from() -> str | None:
    referrer = request.referrer or ""
    host = request.host_url
    if referrer.startswith(host):
        return safe_next("/" + referrer[len(host):])
    return None


def respond(code: int, title: str, message: str, *, reload_url: str | None = None
            ) -> ResponseReturnValue:
    """The error, as a fragment for htmx or as the error page; ``code`` is the status."""
    ctx = {"code": code, "title": title, "message": message, "reload_url": reload_url}
    if wants_partial():
        response = make_response(render_template("_error_fragment.html", **ctx), code)
        response.headers["HX-Retarget"] = "#htmx-status"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render_template("error.html", **ctx), code


def _keep_expired_form() -> ResponseReturnValue | None:
    """A form whose security token no longer matches (the session ended or changed while it
    was being filled in) is kept for its sender, who is sent back to it, through the sign-in
    when needed; nothing is saved from it (portal/drafts.py)."""
    from flask import current_app, flash, redirect, url_for
    from flask_login import current_user

    from . import drafts, security
    from .htmx import hx_redirect, is_htmx

    if request.method != "POST":
        return None
    security.slide_session()  # an idle session is signed out first, as for any request
    signed_in = current_user.is_authenticated
    kept = drafts.keep(current_user.id if signed_in else security.signed_out_user(),
                       signed_out=not signed_in)
    if kept is None:
        return None
    if signed_in:
        target = kept.page
    else:
        flash(drafts.SIGN_IN_AGAIN, "info")
        target = url_for("auth.login", next=kept.page)
    response: Response = (hx_redirect(current_app.response_class(status=200), target)
                          if is_htmx() else redirect(target, code=303))
    return drafts.attach(response, kept)


ERROR_SUMMARY = b'class="error-summary"'
ERROR_MESSAGE = b'class="error-message"'


def error_in_title(response: Response) -> Response:
    """A refused form's page title starts with "Error: " (GOV.UK), on every form page at once:
    a 4xx HTML page that shows the error summary or a message beside a field. Screen readers
    announce the title first, so the user hears at once that the submit failed. (An htmx swap
    does the same in portal.js.)"""
    if (400 <= response.status_code < 500 and response.mimetype == "text/html"
            and not response.is_streamed and not response.direct_passthrough):
        body = response.get_data()
        failed = ERROR_SUMMARY in body or ERROR_MESSAGE in body
        if failed and b"<title>" in body and b"<title>Error: " not in body:
            response.set_data(body.replace(b"<title>", b"<title>Error: ", 1))
    return response


def init_app(app: Flask) -> None:
    app.after_request(error_in_title)

    @app.errorhandler(PortalError)
    def portal_error(exc: PortalError) -> ResponseReturnValue:
        db.session.rollback()
        reload_url = _came_from() if isinstance(exc, Conflict) else None
        if exc.status == 404:
            return not_found(exc)
        return respond(exc.status, exc.title, exc.message or exc.title, reload_url=reload_url)

    @app.errorhandler(404)
    def not_found(_e: Exception) -> ResponseReturnValue:
        return respond(404, "Page not found",
                       "If you typed the web address, check it is correct. If you followed a "
                       "link, the page may belong to another school or alliance.")

    @app.errorhandler(403)
    def forbidden(_e: HTTPException) -> ResponseReturnValue:
        return respond(403, "You cannot do that",
                       "Your role does not give you access to this page.")

    @app.errorhandler(CSRFError)
    def csrf_error(_e: CSRFError) -> ResponseReturnValue:
        answer = _keep_expired_form()
        if answer is not None:
            return answer
        return respond(400, "Your form expired",
                       "The form was missing its security token or it had expired. Go back, "
                       "reload the page and try again. Nothing was saved.")

    @app.errorhandler(400)
    def bad_request(e: HTTPException) -> ResponseReturnValue:
        return respond(400, "Something sent could not be read",
                       getattr(e, "description", "") or "Go back, check what you entered and "
                       "try again. Nothing was saved.")

    @app.errorhandler(413)
    def too_large(_e: HTTPException) -> ResponseReturnValue:
        limit = app.config["IMPORT_MAX_BYTES"] if request.endpoint in LARGE_UPLOADS \
            else app.config["MAX_CONTENT_LENGTH"]
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"
        return respond(413, "What you sent is too large",
                       f"At most {size} can be sent here. Nothing was saved.")

    @app.errorhandler(429)
    def too_many(_e: HTTPException) -> ResponseReturnValue:
        return respond(429, "Too many attempts",
                       "You have tried too many times. Wait a minute and try again.")

    @app.errorhandler(500)
    def server_error(_e: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return respond(500, "Sorry, something went wrong",
                       "Nothing was saved. Try again; if it keeps happening, tell the "
                       "co-ordinator.")
