"""Signing in with the school's Microsoft or Google account (OpenID Connect, portal/domain/oidc.py).

``/login/school`` lists the alliances that accept school accounts; choosing one (a POST, with
the CSRF token) sends the browser to that alliance's provider with Authlib's ``state``, ``nonce``
and PKCE challenge kept in this browser's session; the provider sends it back to
``/login/school/callback``. Every refusal is audited and shown on the sign-in page; a success is
audited by the sign-in itself (and the first one links the account, audited too)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..domain import audit, oidc
from ..extensions import db, limiter
from ..models import SIGN_IN_PROVIDERS, Alliance, AllianceSignIn
from ..security import allow_form_action, public, safe_next
from ..unit_of_work import writes_on_get
from . import flow
from .routes import address_limit, bp

STARTED = "school_sign_in"  # session: which alliance's provider this browser was sent to


def _ready() -> list[tuple[Alliance, AllianceSignIn]]:
    rows = db.session.execute(
        select(Alliance, AllianceSignIn).join(AllianceSignIn,
                                              AllianceSignIn.alliance_id == Alliance.id)
        .where(AllianceSignIn.provider != "").order_by(Alliance.name)).all()
    return [(a, s) for a, s in rows if oidc.is_ready(s, a)]


@bp.get("/login/school")
@public
def school_login() -> ResponseReturnValue:
    """Choose your alliance's school account provider."""
    for origin in oidc.provider_origins():
        allow_form_action(origin)
    return render_template("auth/school.html", choices=_ready(), form=FlaskForm(),
                           providers=SIGN_IN_PROVIDERS, next=request.args.get("next", ""))


@bp.post("/login/school/<id:alliance_id>")
@limiter.limit(address_limit)
@public
def school_start(alliance_id: int) -> ResponseReturnValue:
    """Send the browser to the alliance's provider."""
    alliance = db.session.get(Alliance, alliance_id)
    row = oidc.settings_for(alliance_id) if alliance is not None else None
    if alliance is None or not oidc.is_ready(row, alliance):
        abort(404)
    assert row is not None
    next_url = safe_next(request.form.get("next")) or ""
    try:
        client = oidc.make_client(row, alliance)
        response = client.authorize_redirect(
            redirect_uri=url_for("auth.school_callback", _external=True))
    except Exception:  # the provider's metadata could not be read: say so, never a 500
        flash(oidc.MESSAGES["provider"], "error")
        return redirect(url_for("auth.school_login"), code=303)
    session[STARTED] = {"alliance": alliance.id, "next": next_url}
    return response


@bp.get("/login/school/callback")
@public
@writes_on_get
def school_callback() -> ResponseReturnValue:
    """The provider sends the browser back here with a code (or an error)."""
    started = session.pop(STARTED, None)
    alliance = row = None
    if isinstance(started, dict):
        alliance = db.session.get(Alliance, started.get("alliance"))
        row = oidc.settings_for(alliance.id) if alliance is not None else None
    if alliance is None or row is None or not oidc.is_ready(row, alliance):
        return _refused(None, None, "state", oidc.MESSAGES["state"])
    assert isinstance(started, dict)
    client = oidc.make_client(row, alliance)
    try:
        try:
            token = client.authorize_access_token(claims_options=oidc.claims_options(row),
                                                  leeway=oidc.LEEWAY)
        except Exception as exc:  # Authlib's own checks: state, signature, iss, aud, exp, nonce
            reason = oidc.reason_of(exc)
            raise oidc.refuse(reason) from exc
        claims = token.get("userinfo")
        if not claims:
            raise oidc.refuse("signature")
        account = oidc.check_claims(row, dict(claims))
        try:
            user, linked = oidc.find_user(alliance.id, account)
        except oidc.Refused as exc:
            exc.email = account.email  # type: ignore[attr-defined]
            raise
    except oidc.Refused as exc:
        return _refused(alliance, row, exc.reason, exc.message,
                        email=getattr(exc, "email", ""))
    ip = request.remote_addr or ""
    if linked:
        audit.record(user, "auth.school_account_linked", user, ip=ip,
                     detail={"provider": row.provider, "issuer": account.issuer})
    return flow.proceed(user, via=row.provider, next_url=started.get("next"), mfa=account.mfa)


def _refused(alliance, row, reason: str, message: str, *, email: str = "") -> ResponseReturnValue:
    """Audit the refusal (committed: the answer is a redirect) and say why on the sign-in page."""
    detail = {"reason": reason, "provider": row.provider if row is not None else ""}
    if email:
        detail["email"] = email
    audit.record(None, "auth.school_sign_in_refused", None,
                 alliance_id=alliance.id if alliance is not None else None, detail=detail,
                 ip=request.remote_addr or "")
    flash(message, "error")
    return redirect(url_for("auth.school_login"), code=303)
