"""Signing in with the school's own account: OpenID Connect with Microsoft Entra ID (Microsoft
365) or Google Workspace, configured per alliance (issue 21).

The protocol is Authlib's (``authlib.integrations.flask_client``): discovery from the issuer's
metadata, the authorisation code flow with PKCE (S256), ``state`` and ``nonce`` kept in the
session, the ID token's signature checked against the provider's published keys, and its
``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` checked by Authlib's claims validation. On top of
that, :func:`check_claims` applies the alliance's rules:

* Microsoft: the token's ``tid`` must be one of the alliance's tenants, and its issuer that
  tenant's issuer (``{authority}/{tid}/v2.0``);
* Google: ``hd`` (the Workspace domain) must be one of the alliance's domains and the email
  verified (a personal Gmail account has no ``hd`` and is refused).

:func:`find_user` then matches the account to a portal user: by the linked identity (issuer +
subject) if there is one, else by the email address of an active user of *that alliance* who has
no identity at this issuer yet, who is linked now. Nobody is ever created here: an unknown
address is refused, and the co-ordinator invites people as before.

Every refusal is a :class:`Refused` with a message for the person and a short ``reason`` for the
audit trail. Nothing here commits.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Alliance, AllianceSignIn, User, UserIdentity, utcnow
from . import errors

SCOPES = "openid email profile"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GOOGLE_ISSUER = "https://accounts.google.com"
SECRET_PREFIX = "OIDC_CLIENT_SECRET_"  # noqa: S105 - the variable's name
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LEEWAY = 60  # seconds of clock difference allowed on exp/iat
# A provider's discovery document and signing keys are kept this long per process (they were
# fetched twice on every sign-in); a token signed with a key not in the kept set makes Authlib
# fetch the keys again at once, so a provider's key rotation is never refused.
METADATA_SECONDS = 3600
_metadata: dict[str, dict] = {}


class Refused(errors.Invalid):
    """A sign-in with a school account that is not accepted; ``reason`` goes in the audit."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


TRY_AGAIN = "Try again, or sign in with your email address and password."
MESSAGES = {
    "iss": "The sign-in came from an account provider this alliance does not use, so it was "
           "refused. " + TRY_AGAIN,
    "aud": "The sign-in was made for a different application, so it was refused. " + TRY_AGAIN,
    "nonce": "The sign-in did not match the one this browser started, so it was refused. "
             + TRY_AGAIN,
    "exp": "The sign-in had expired before it reached the portal, so it was refused. "
           + TRY_AGAIN,
    "state": "The sign-in did not match the one this browser started (it may have been started "
             "in another tab, or taken too long), so it was refused. " + TRY_AGAIN,
    "signature": "The sign-in could not be verified as coming from your school's account "
                 "provider, so it was refused. " + TRY_AGAIN,
    "provider": "Your school's account provider could not be reached or answered with an "
                "error. " + TRY_AGAIN,
    "cancelled": "The sign-in with your school's account was cancelled or refused by your "
                 "school's account provider. " + TRY_AGAIN,
    "tenant": "This Microsoft account belongs to an organisation this alliance does not accept. "
              "Sign in with your school's account.",
    "domain": "This Google account is not a Google Workspace account of a school this alliance "
              "accepts. Sign in with your school's account.",
    "unverified": "Your account provider did not confirm this email address, so it cannot be "
                  "used to sign in.",
    "unknown": "There is no account in this alliance for {email}. Nobody is given an account by "
               "signing in: ask your alliance co-ordinator to invite you, using this address.",
    "inactive": "This account has been turned off. Ask your alliance co-ordinator.",
    "linked_elsewhere": "The portal account for {email} is already linked to a different school "
                        "account. Sign in with that one, or ask your alliance co-ordinator.",
    "not_configured": "Signing in with a school account is not set up for this alliance.",
}


def refuse(reason: str, **words: str) -> Refused:
    return Refused(MESSAGES[reason].format(**words), reason)


# ------------------------------------------------------------------------------ settings


def settings_for(alliance_id: int) -> AllianceSignIn | None:
    return db.session.scalar(select(AllianceSignIn)
                             .where(AllianceSignIn.alliance_id == alliance_id))


def secret_name(alliance: Alliance) -> str:
    """The environment variable holding this alliance's client secret."""
    return SECRET_PREFIX + re.sub(r"[^A-Z0-9]", "_", alliance.short_name.upper())


def client_secret(alliance: Alliance) -> str:
    return current_app.config.get("OIDC_CLIENT_SECRETS", {}).get(secret_name(alliance), "")


def secret_hint(alliance: Alliance) -> str:
    """What the settings page says about the secret: never more than its last four characters."""
    secret = client_secret(alliance)
    if not secret:
        return ""
    return "…" + secret[-4:] if len(secret) >= 12 else "set"


def is_ready(row: AllianceSignIn | None, alliance: Alliance) -> bool:
    """Whether people of this alliance can sign in with a school account now."""
    if row is None or not row.provider or not row.client_id or not client_secret(alliance):
        return False
    return bool(row.tenant_list if row.provider == "microsoft" else row.domain_list)


def clean_tenants(text: str) -> str:
    tenants = [t.strip().lower() for t in re.split(r"[\s,;]+", text or "") if t.strip()]
    bad = [t for t in tenants if not GUID.match(t)]
    if bad:
        raise errors.Invalid(f"“{bad[0][:60]}” is not a tenant id: a tenant id looks like "
                             "72f988bf-86f1-41af-91ab-2d7cd011db47 (Microsoft Entra admin "
                             "centre, Overview).", field="tenants")
    if len(tenants) > 20:
        raise errors.Invalid("Enter at most 20 tenant ids.", field="tenants")
    return "\n".join(dict.fromkeys(tenants))


def clean_domains(text: str) -> str:
    domains = [d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", text or "")
               if d.strip()]
    bad = [d for d in domains if not DOMAIN.match(d)]
    if bad:
        raise errors.Invalid(f"“{bad[0][:60]}” is not a domain name like school.sch.uk.",
                             field="domains")
    if len(domains) > 50:
        raise errors.Invalid("Enter at most 50 domains.", field="domains")
    return "\n".join(dict.fromkeys(domains))


def save_settings(actor: User, *, provider: str, client_id: str, tenants: str, domains: str,
                  require_two_factor: bool, ip: str = "") -> AllianceSignIn:
    """The co-ordinator sets the alliance's sign-in settings (``Invalid`` beside a field)."""
    from . import audit
    from .policy import admin as policy
    from .policy import require

    require(policy.general(actor)["edit_sign_in"])
    if provider not in ("", "microsoft", "google"):
        raise errors.Invalid("Choose Microsoft, Google or neither.", field="provider")
    client_id = (client_id or "").strip()
    if len(client_id) > 200 or any(c.isspace() for c in client_id):
        raise errors.Invalid("Enter the client id (application id) without spaces.",
                             field="client_id")
    tenants, domains = clean_tenants(tenants), clean_domains(domains)
    if provider and not client_id:
        raise errors.Invalid("Enter the client id the provider gave the portal.",
                             field="client_id")
    if provider == "microsoft" and not tenants:
        raise errors.Invalid("Enter your Microsoft tenant id.", field="tenants")
    if provider == "google" and not domains:
        raise errors.Invalid("Enter the Google Workspace domain(s) of your schools.",
                             field="domains")
    row = settings_for(actor.alliance_id)
    if row is None:
        row = AllianceSignIn(alliance_id=actor.alliance_id)
        db.session.add(row)
    before = {"provider": row.provider or "", "client_id": row.client_id or "",
              "tenants": row.tenants or "", "domains": row.domains or "",
              "require_two_factor": bool(row.require_two_factor)}
    after = {"provider": provider, "client_id": client_id, "tenants": tenants,
             "domains": domains, "require_two_factor": bool(require_two_factor)}
    for key, value in after.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    db.session.flush()
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit.record(actor, "alliance.sign_in_settings_changed", None,
                     alliance_id=actor.alliance_id, detail={"changed": changed}, ip=ip)
        forget_metadata()
    return row


# ---------------------------------------------------------------------------- the client


def authority() -> str:
    return current_app.config.get("OIDC_MICROSOFT_AUTHORITY", MICROSOFT_AUTHORITY).rstrip("/")


def google_issuer() -> str:
    return current_app.config.get("OIDC_GOOGLE_ISSUER", GOOGLE_ISSUER).rstrip("/")


def metadata_url(row: AllianceSignIn) -> str:
    if row.provider == "microsoft":
        tenants = row.tenant_list
        tenant = tenants[0] if len(tenants) == 1 else "organizations"
        return f"{authority()}/{tenant}/v2.0/.well-known/openid-configuration"
    return f"{google_issuer()}/.well-known/openid-configuration"


def expected_issuers(row: AllianceSignIn) -> list[str]:
    if row.provider == "microsoft":
        return [f"{authority()}/{tid}/v2.0" for tid in row.tenant_list]
    issuer = google_issuer()
    # Google's ID tokens name their issuer with or without the scheme
    return [issuer, issuer.split("://", 1)[-1]] if issuer == GOOGLE_ISSUER else [issuer]


def provider_origins() -> list[str]:
    """Where the browser is sent to sign in (for the CSP of pages with a school sign-in form)."""
    return [authority(), google_issuer()]


def client_name(alliance_id: int) -> str:
    return f"school-{alliance_id}"


def forget_metadata() -> None:
    """Drop every provider's kept discovery document and keys (tests; a settings change)."""
    _metadata.clear()


def make_client(row: AllianceSignIn, alliance: Alliance) -> Any:
    """Authlib's Flask client for this alliance's provider (state kept in the session)."""
    from authlib.integrations.flask_client import FlaskIntegration
    from authlib.integrations.flask_client.apps import FlaskOAuth2App

    class KeptMetadataApp(FlaskOAuth2App):
        """Authlib's client, reading the provider's metadata and keys from the process's
        copy while it is fresh (:data:`METADATA_SECONDS`)."""

        def load_server_metadata(self):
            url = self._server_metadata_url
            kept = _metadata.get(url) if url else None
            if (kept and "_loaded_at" not in self.server_metadata
                    and time.time() - kept["_loaded_at"] < METADATA_SECONDS):
                self.server_metadata.update(kept)
            metadata = super().load_server_metadata()
            if url:
                _metadata[url] = dict(metadata)
            return metadata

        def fetch_jwk_set(self, force=False):
            keys = super().fetch_jwk_set(force=force)
            if self._server_metadata_url:
                _metadata[self._server_metadata_url] = dict(self.server_metadata)
            return keys

    name = client_name(alliance.id)
    return KeptMetadataApp(
        FlaskIntegration(name), name,
        client_id=row.client_id, client_secret=client_secret(alliance),
        server_metadata_url=metadata_url(row),
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256",
                       "default_timeout": current_app.config.get("OIDC_TIMEOUT", 10)},
    )


def claims_options(row: AllianceSignIn) -> dict:
    return {"iss": {"essential": True, "values": expected_issuers(row)},
            "sub": {"essential": True}, "exp": {"essential": True},
            "iat": {"essential": True}}


def reason_of(exc: BaseException) -> str:
    """The audit reason for an exception raised while Authlib finished the sign-in."""
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
    from joserfc import errors as jose

    if isinstance(exc, MismatchingStateError):
        return "state"
    if isinstance(exc, jose.ExpiredTokenError):
        return "exp"
    if isinstance(exc, jose.ClaimError):
        claim = getattr(exc, "claim", "")
        return {"iss": "iss", "aud": "aud", "azp": "aud", "nonce": "nonce", "exp": "exp",
                "iat": "exp", "nbf": "exp"}.get(claim, "signature")
    if isinstance(exc, jose.JoseError):
        return "signature"
    if isinstance(exc, OAuthError):
        return "cancelled" if exc.error in ("access_denied", "login_required",
                                            "consent_required") else "provider"
    return "provider"


@dataclass
class Account:
    """What the checked ID token says about the person."""

    issuer: str
    subject: str
    email: str
    mfa: bool  # the provider says a second factor was used (``amr`` contains "mfa")


def check_claims(row: AllianceSignIn, claims: dict) -> Account:
    """The alliance's own rules on an ID token Authlib has already validated."""
    issuer = str(claims.get("iss", ""))
    if issuer not in expected_issuers(row):
        raise refuse("iss")
    if row.provider == "microsoft":
        tid = str(claims.get("tid", "")).lower()
        if tid not in row.tenant_list or issuer != f"{authority()}/{tid}/v2.0":
            raise refuse("tenant")
        email = str(claims.get("email") or claims.get("preferred_username") or "")
        domains = row.domain_list
        if domains and email.rsplit("@", 1)[-1].lower() not in domains:
            raise refuse("tenant")
    else:
        hd = str(claims.get("hd", "")).lower()
        if not hd or hd not in row.domain_list:
            raise refuse("domain")
        if claims.get("email_verified") is not True:
            raise refuse("unverified")
        email = str(claims.get("email", ""))
        if email.rsplit("@", 1)[-1].lower() != hd:
            raise refuse("domain")
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise refuse("unverified")
    amr = claims.get("amr") or []
    return Account(issuer=issuer, subject=str(claims["sub"]), email=email,
                   mfa=isinstance(amr, list) and "mfa" in amr)


def find_user(alliance_id: int, account: Account) -> tuple[User, bool]:
    """The portal user this school account signs in as, and whether it was linked just now.

    Never creates a user: only someone the co-ordinator invited (or who already signs in with a
    password) can sign in, with the same address as their school account."""
    identity = db.session.scalar(select(UserIdentity).where(
        UserIdentity.issuer == account.issuer, UserIdentity.subject == account.subject))
    if identity is not None:
        user = identity.user
        if user.alliance_id != alliance_id:
            raise refuse("unknown", email=account.email)
        if not user.active:
            raise refuse("inactive")
        identity.last_used_at = utcnow()
        return user, False
    found = db.session.scalar(select(User).where(func.lower(User.email) == account.email,
                                                 User.alliance_id == alliance_id))
    if found is None:
        raise refuse("unknown", email=account.email)
    user = found
    if not user.active:
        raise refuse("inactive")
    if db.session.scalar(select(UserIdentity.id).where(UserIdentity.user_id == user.id,
                                                       UserIdentity.issuer == account.issuer)):
        raise refuse("linked_elsewhere", email=account.email)
    db.session.add(UserIdentity(user_id=user.id, issuer=account.issuer,
                                subject=account.subject, email=account.email,
                                last_used_at=utcnow()))
    db.session.flush()
    return user, True
