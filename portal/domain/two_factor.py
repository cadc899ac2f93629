"""Two-factor sign-in: a code from an authenticator app (TOTP, RFC 6238, with ``pyotp``) after
the password, or one of ten single-use recovery codes (issue 21).

* A code is accepted for the current 30-second step or the one either side (a phone's clock may
  be a little out), and only once: ``TwoFactor.last_step`` moves on with a conditional UPDATE,
  so the same code sent twice (a double click, or someone watching) works at most once.
* Recovery codes are shown once, when made; only their SHA-256 is kept (each has 50 random
  bits, so a plain hash is enough), and spending one is a conditional UPDATE too.
* An alliance may require two-factor sign-in of its co-ordinators and directors (the roles that
  do the finance work): :func:`required_for`. Such a person who has not set it up is asked to,
  at sign-in, before their session starts.

The secret is never logged, never put in the audit trail, and shown only while being set up.
Nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any, cast

import pyotp
from sqlalchemy import CursorResult, delete, select, update

from ..extensions import db
from ..models import RecoveryCode, TwoFactor, User, utcnow
from . import errors

ISSUER = "School Support Portal"
REQUIRED_ROLES = ("admin", "director")  # co-ordinators and directors: finance is their work
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def normalise(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (drawn here: nothing is sent to another site)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, dark="#0b0c0c", light="#ffffff",
                                                 title="QR code to scan with your "
                                                       "authenticator app")


def grouped(secret: str) -> str:
    """The secret in fours, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def of(user: User) -> TwoFactor | None:
    return db.session.scalar(select(TwoFactor).where(TwoFactor.user_id == user.id))


def required_for(user: User) -> bool:
    from .oidc import settings_for

    if user.role not in REQUIRED_ROLES:
        return False
    row = settings_for(user.alliance_id)
    return bool(row and row.require_two_factor)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    code = normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(_when(now))
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _when(now: float | None):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)


def check_new(secret: str, code: str, *, now: float | None = None) -> int:
    """The step of a correct first code from the app being set up (``Invalid`` otherwise)."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise errors.Invalid("That code is not right. Enter the 6-digit code your app shows "
                             "now (it changes every 30 seconds).", field="code")
    return step


def enrol(user: User, secret: str, code: str, *, ip: str = "",
          now: float | None = None) -> list[str]:
    """Turn two-factor sign-in on with ``secret`` once the app shows a right code; returns the
    recovery codes to show (once)."""
    from . import audit

    step = check_new(secret, code, now=now)
    if of(user) is not None:
        raise errors.Conflict("Two-factor sign-in is already on for this account.")
    db.session.add(TwoFactor(user_id=user.id, secret=secret, last_step=step))
    codes = _new_codes(user)
    audit.record(user, "account.two_factor_on", user, ip=ip)
    return codes


def _new_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=code_hash(raw)))
    db.session.flush()
    return codes


def new_recovery_codes(user: User, *, ip: str = "") -> list[str]:
    """Replace the recovery codes (the old ones stop working)."""
    from . import audit

    if of(user) is None:
        raise errors.NotNow("Turn two-factor sign-in on first.")
    codes = _new_codes(user)
    audit.record(user, "account.recovery_codes_new", user, ip=ip)
    return codes


def recovery_left(user: User) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def turn_off(user: User, *, ip: str = "") -> None:
    from . import audit

    if required_for(user):
        raise errors.NotNow("Your alliance requires two-factor sign-in for your role, so it "
                            "cannot be turned off.")
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    audit.record(user, "account.two_factor_off", user, ip=ip)


def verify(user: User, code: str, *, now: float | None = None) -> str | None:
    """Spend ``code`` (an app code, or a recovery code): returns "app" or "recovery", or None
    if it is not right (or was used already)."""
    factor = of(user)
    if factor is None:
        return None
    step = _matching_step(factor.secret, code, now)
    if step is not None:
        moved = cast(CursorResult[Any], db.session.execute(
            update(TwoFactor).where(TwoFactor.id == factor.id, TwoFactor.last_step < step)
            .values(last_step=step)))
        return "app" if moved.rowcount == 1 else None
    if len(normalise(code)) == 10:
        spent = cast(CursorResult[Any], db.session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                       RecoveryCode.code_hash == code_hash(code),
                                       RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())))
        if spent.rowcount == 1:
            return "recovery"
    return None
