"""Two-factor sign-in (issue 21): setting it up with a QR code, the code after the password,
recovery codes (single use, stored hashed), the alliance's requirement for co-ordinators and
directors, replay and brute-force limits, and that the secret is never shown again."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import select

from portal.auth.flow import NEW_SECRET, PENDING
from portal.domain import two_factor
from portal.extensions import db, limiter
from portal.models import AllianceSignIn, AuditEvent, RecoveryCode, TwoFactor

from ..conftest import free_port
from ..factories import PASSWORD


def secret_of(client) -> str:
    with client.http.session_transaction() as sess:
        return sess[NEW_SECRET]


def enrol(client) -> tuple[str, list[str]]:
    """Set up two-factor sign-in from Your account; returns the secret and recovery codes."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and b"<svg" in page.data
    secret = secret_of(client)
    r = client.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.data
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.data.decode())
    assert len(codes) == 10
    return secret, codes


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def signed_in(client) -> bool:
    return client.get("/account/data").status_code == 200


@pytest.fixture(autouse=True)
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def test_setting_it_up_needs_a_right_code_and_shows_ten_recovery_codes_once(world, client_for):
    user = world.user("a", "headteacher")
    c = client_for(user)
    c.get("/account/two-factor")
    wrong = c.post("/account/two-factor", {"code": "000000"})
    assert wrong.status_code == 422 and b"That code is not right" in wrong.data
    assert db.session.scalar(select(TwoFactor)) is None
    secret, codes = enrol(c)
    factor = db.session.scalar(select(TwoFactor))
    assert factor.user_id == user.id and factor.secret == secret
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest()
                      for code in codes}  # only hashes are kept
    assert len(events("account.two_factor_on")) == 1
    assert secret not in str([e.detail for e in events("account.two_factor_on")])
    again = c.get("/account/two-factor").data.decode()
    assert "is <strong>on</strong>" in again and secret not in again
    assert "grouped" not in again and codes[0] not in again


def test_signing_in_asks_for_the_code_after_the_password(world, client_for, anon):
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/login/code"
    assert not signed_in(anon)  # not yet
    assert anon.get("/login/code").status_code == 200
    assert anon.post("/login/code", {"code": "123456"}).status_code == 422
    ok = anon.post("/login/code", {"code": code_at(secret, 1)})
    assert ok.status_code == 302 and signed_in(anon)
    assert events("auth.login")[-1].detail == {"via": "password", "second_factor": "app"}


def test_a_code_works_once(world, client_for):
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    first, second = client_for(None), client_for(None)
    for c in (first, second):
        c.post("/login", {"email": user.email, "password": PASSWORD})
    code = code_at(secret, 1)
    assert first.post("/login/code", {"code": code}).status_code == 302
    assert second.post("/login/code", {"code": code}).status_code == 422
    assert not signed_in(second)


def test_a_recovery_code_works_once(world, client_for):
    user = world.user("a", "headteacher")
    _secret, codes = enrol(client_for(user))
    first, second = client_for(None), client_for(None)
    for c in (first, second):
        c.post("/login", {"email": user.email, "password": PASSWORD})
    r = first.post("/login/code", {"code": codes[3].upper()})
    assert r.status_code == 302
    assert "9 left" in first.get("/").data.decode() and signed_in(first)
    assert second.post("/login/code", {"code": codes[3]}).status_code == 422
    assert events("auth.login")[-1].detail["second_factor"] == "recovery"


def test_the_code_step_lapses_and_never_signs_in_on_its_own(world, client_for, anon):
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    assert anon.post("/login/code", {"code": code_at(secret)}).status_code == 303
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    with anon.http.session_transaction() as sess:
        sess[PENDING] = {**sess[PENDING], "at": int(time.time()) - 301}
    r = anon.post("/login/code", {"code": code_at(secret)})
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert not signed_in(anon)


def test_a_password_change_in_between_ends_the_half_finished_sign_in(world, client_for, anon):
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    from portal.domain import sessions

    sessions.end_all(db.session.get(type(user), user.id))
    db.session.commit()
    assert anon.post("/login/code", {"code": code_at(secret, 1)}).status_code == 303
    assert not signed_in(anon)


def test_guessing_codes_is_limited(app, world, client_for, anon):
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    statuses = [anon.post("/login/code", {"code": f"{n:06d}"}).status_code for n in range(6)]
    assert statuses[:5] == [422] * 5 and statuses[5] == 429
    # not even the right code gets through until the limit passes
    assert anon.post("/login/code", {"code": code_at(secret, 1)}).status_code == 429
    assert not signed_in(anon)


def test_a_wrong_code_after_the_right_password_is_audited(world, client_for, anon):
    """Someone who gets past the password but not the code knows the password: the account's
    audit log says so (with the address), without the code that was tried."""
    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert anon.post("/login/code", {"code": "000000"}).status_code == 422
    refused = events("auth.two_factor_code_refused")
    assert len(refused) == 1 and refused[0].actor_id == user.id
    assert "000000" not in str(refused[0].detail)
    assert refused[0].ip
    ok = anon.post("/login/code", {"code": code_at(secret, 1)})
    assert ok.status_code == 302 and len(events("auth.two_factor_code_refused")) == 1


def require(world):
    db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, require_two_factor=True))
    db.session.commit()


@pytest.mark.parametrize("role", ["admin", "director"])
def test_where_the_alliance_requires_it_a_coordinator_or_director_sets_it_up_to_sign_in(
        world, anon, role):
    require(world)
    user = world.user("a", role)
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/login/code"
    page = anon.get("/login/code")
    assert b"Set up two-factor sign-in" in page.data and b"<svg" in page.data
    assert not signed_in(anon)
    secret = secret_of(anon)
    done = anon.post("/login/code", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and b"Your recovery codes" in done.data
    assert signed_in(anon)
    assert db.session.scalar(select(TwoFactor.user_id)) == user.id


@pytest.mark.parametrize("role", ["headteacher", "sle", "home_school", "board"])
def test_the_requirement_does_not_reach_other_roles(world, anon, role):
    require(world)
    user = world.user("a", role)
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and signed_in(anon)


def test_it_cannot_be_turned_off_where_required_and_can_otherwise(world, client_for):
    user = world.user("a", "admin")
    c = client_for(user)
    enrol(c)
    require(world)
    assert b"cannot be turned off" in c.get("/account/two-factor").data
    r = c.post("/account/two-factor/off", {"password": PASSWORD})
    assert r.status_code == 409 and db.session.scalar(select(TwoFactor)) is not None
    db.session.execute(AllianceSignIn.__table__.update().values(require_two_factor=False))
    db.session.commit()
    assert c.post("/account/two-factor/off", {"password": "wrong"}).status_code == 422
    assert c.post("/account/two-factor/off", {"password": PASSWORD}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(TwoFactor)) is None
    assert db.session.scalar(select(RecoveryCode)) is None
    assert len(events("account.two_factor_off")) == 1


def test_new_recovery_codes_replace_the_old(world, client_for, anon):
    user = world.user("a", "headteacher")
    c = client_for(user)
    _secret, old = enrol(c)
    assert c.post("/account/two-factor/codes", {"password": "wrong"}).status_code == 422
    r = c.post("/account/two-factor/codes", {"password": PASSWORD})
    assert r.status_code == 200 and old[0] not in r.data.decode()
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert anon.post("/login/code", {"code": old[0]}).status_code == 422


def test_forms_need_the_csrf_token(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    c.get("/account/two-factor")
    secret = secret_of(c)
    r = c.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()}, csrf=False)
    assert r.status_code == 400 and db.session.scalar(select(TwoFactor)) is None


def test_codes_a_phone_a_step_out_still_work_but_older_do_not(world, db):
    user = world.user("a", "headteacher")
    secret = two_factor.new_secret()
    now = time.time()
    two_factor.enrol(user, secret, pyotp.TOTP(secret).at(now), now=now)
    assert two_factor.verify(user, pyotp.TOTP(secret).at(now + 30), now=now) == "app"
    assert two_factor.verify(user, pyotp.TOTP(secret).at(now - 90), now=now) is None
    assert two_factor.verify(user, "12345", now=now) is None
    assert two_factor.verify(user, "", now=now) is None


# ------------------------------------------------------------------ with a school account


def test_a_school_sign_in_still_asks_the_code_of_someone_who_set_it_up(
        world, client_for, anon, app):
    from ..oidc_provider import Provider
    from .test_school_sign_in import CALLBACK, TENANT

    user = world.user("a", "headteacher")
    secret, _codes = enrol(client_for(user))
    p = Provider(free_port()).start()
    try:
        p.register("portal-alpha", "alpha-client-secret-value", CALLBACK)
        saved = dict(app.config)
        app.config["OIDC_MICROSOFT_AUTHORITY"] = p.base
        app.config["OIDC_CLIENT_SECRETS"] = {
            "OIDC_CLIENT_SECRET_ALPHA": "alpha-client-secret-value"}
        db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, provider="microsoft",
                                      client_id="portal-alpha", tenants=TENANT))
        db.session.commit()
        p.issuer_path = f"/{TENANT}/v2.0"
        for amr, expect in ((None, "/login/code"), (["pwd", "mfa"], "/")):
            p.identity = {"sub": "s-1", "tid": TENANT, "email": user.email, "amr": amr}
            c = client_for(None)
            r = c.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
            back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
            url = urlsplit(back.headers["Location"])
            done = c.get(f"{url.path}?{url.query}")
            assert done.headers["Location"] == expect, amr
        assert signed_in(c)
    finally:
        app.config["OIDC_MICROSOFT_AUTHORITY"] = saved["OIDC_MICROSOFT_AUTHORITY"]
        app.config["OIDC_CLIENT_SECRETS"] = saved["OIDC_CLIENT_SECRETS"]
        p.stop()
    assert secret


def test_pages_showing_the_key_or_codes_are_never_cached(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    assert c.get("/account/two-factor").headers["Cache-Control"] == "no-store"
    secret = secret_of(c)
    r = c.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert r.headers["Cache-Control"] == "no-store"


def test_a_code_from_the_app_stands_in_for_the_password(world, client_for):
    """Someone who signs in only with a school account may have no portal password."""
    user = world.user("a", "headteacher")
    user.password_hash = ""
    db.session.commit()
    c = client_for(user)
    secret, _codes = enrol(c)
    assert c.post("/account/two-factor/codes", {"password": "123456"}).status_code == 422
    r = c.post("/account/two-factor/codes", {"password": code_at(secret, 1)})
    assert r.status_code == 200 and b"Your recovery codes" in r.data
