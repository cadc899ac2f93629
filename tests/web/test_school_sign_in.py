"""Signing in with the school's Microsoft or Google account (issue 21), against a real OpenID
provider served over HTTP by the tests (tests/oidc_provider.py): discovery, PKCE, state, nonce
and signed ID tokens are all the real thing; the portal's Authlib client is not mocked."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from portal.domain import oidc as oidc_domain
from portal.extensions import db
from portal.models import AllianceSignIn, AuditEvent, User, UserIdentity

from ..conftest import free_port
from ..oidc_provider import Provider

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
CALLBACK = "http://localhost/login/school/callback"


@pytest.fixture(scope="session")
def provider():
    p = Provider(free_port()).start()
    yield p
    p.stop()


@pytest.fixture
def oidc(app, world, provider):
    """Side a's alliance accepts school accounts from the local provider."""
    provider.reset()
    oidc_domain.forget_metadata()
    provider.register("portal-alpha", "alpha-client-secret-value", CALLBACK)
    saved = {k: app.config.get(k) for k in ("OIDC_MICROSOFT_AUTHORITY", "OIDC_GOOGLE_ISSUER",
                                           "OIDC_CLIENT_SECRETS")}
    app.config["OIDC_MICROSOFT_AUTHORITY"] = provider.base
    app.config["OIDC_GOOGLE_ISSUER"] = provider.base
    app.config["OIDC_CLIENT_SECRETS"] = {"OIDC_CLIENT_SECRET_ALPHA": "alpha-client-secret-value"}
    assert world.a.alliance.short_name.upper() == "ALPHA"
    yield provider
    app.config.update(saved)


def microsoft(world, provider, **identity):
    db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, provider="microsoft",
                                  client_id="portal-alpha", tenants=TENANT))
    db.session.commit()
    provider.issuer_path = f"/{TENANT}/v2.0"
    provider.identity = {"sub": "ms-subject-1", "tid": TENANT, **identity}


def google(world, provider, **identity):
    db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, provider="google",
                                  client_id="portal-alpha", domains="alpha.example.org"))
    db.session.commit()
    provider.issuer_path = ""
    provider.identity = {"sub": "google-subject-1", "hd": "alpha.example.org",
                         "email_verified": True, **identity}


def through_provider(client, world, provider):
    """Start at the portal, go through the provider over HTTP, come back to the callback."""
    r = client.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
    assert r.status_code == 302, r.data
    location = r.headers["Location"]
    assert location.startswith(provider.base + "/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"]
    back = requests.get(location, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    url = urlsplit(back.headers["Location"])
    assert f"http://{url.netloc}{url.path}" == CALLBACK
    return client.get(f"{url.path}?{url.query}")


def signed_in(client) -> bool:
    return client.get("/account/data").status_code == 200


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_invited_user_signs_in_with_microsoft_and_is_linked_at_first_sign_in(
        world, anon, oidc):
    head = world.user("a", "headteacher")
    microsoft(world, oidc, email=head.email.upper(), name="Alpha Head")
    r = through_provider(anon, world, oidc)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert signed_in(anon)
    link = db.session.scalar(select(UserIdentity))
    assert (link.user_id, link.issuer, link.subject) == (
        head.id, f"{oidc.base}/{TENANT}/v2.0", "ms-subject-1")
    assert [e.detail for e in events("auth.login")] == [{"via": "microsoft"}]
    assert len(events("auth.school_account_linked")) == 1
    # the token request authenticated the client and proved the PKCE verifier
    token_request = oidc.token_requests[-1]
    assert token_request["code_verifier"] and token_request["grant_type"] == (
        "authorization_code")


def test_the_second_sign_in_finds_the_link_and_does_not_link_again(world, client_for, oidc):
    head = world.user("a", "headteacher")
    microsoft(world, oidc, email=head.email)
    assert through_provider(client_for(None), world, oidc).status_code == 302
    # the school renames the address: the linked subject still finds the same person
    oidc.identity["email"] = "renamed@alpha.example.org"
    second = client_for(None)
    assert through_provider(second, world, oidc).status_code == 302
    assert signed_in(second)
    assert db.session.scalar(select(func.count()).select_from(UserIdentity)) == 1
    assert len(events("auth.school_account_linked")) == 1


def test_the_providers_metadata_and_keys_are_fetched_once_not_on_every_sign_in(
        world, client_for, oidc):
    """They were fetched on the way out and again on the way back, on every sign-in."""
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    for _ in range(3):
        client = client_for(None)
        assert through_provider(client, world, oidc).status_code == 302
        assert signed_in(client)
    assert oidc.fetched == ["metadata", "keys"]


def test_a_new_signing_key_is_fetched_at_once(world, client_for, oidc):
    """A provider that rotates its key is not refused while the old key set is kept."""
    from joserfc.jwk import RSAKey

    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    assert through_provider(client_for(None), world, oidc).status_code == 302
    oidc.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-2", "use": "sig"})
    client = client_for(None)
    assert through_provider(client, world, oidc).status_code == 302 and signed_in(client)
    assert oidc.fetched == ["metadata", "keys", "keys"]


def test_an_invited_user_signs_in_with_google_workspace(world, anon, oidc):
    admin = world.user("a", "admin")
    google(world, oidc, email=admin.email)
    r = through_provider(anon, world, oidc)
    assert r.status_code == 302 and signed_in(anon)
    assert db.session.scalar(select(UserIdentity.issuer)) == oidc.base


REFUSALS = [
    # (provider, identity changes, tamper, reason, words on the page)
    ("microsoft", {}, {"iss": "http://127.0.0.1:5116/evil/v2.0"}, "iss",
     "an account provider this alliance does not use"),
    ("microsoft", {}, {"aud": "another-application"}, "aud", "made for a different application"),
    ("microsoft", {}, {"nonce": "not-the-nonce"}, "nonce",
     "did not match the one this browser started"),
    ("microsoft", {}, {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "exp",
     "had expired"),
    ("microsoft", {"tid": OTHER_TENANT}, {}, "tenant", "an organisation this alliance does not"),
    ("microsoft", {"email": "stranger@alpha.example.org"}, {}, "unknown",
     "no account in this alliance for stranger@alpha.example.org"),
    ("microsoft", {"email": "BETA"}, {}, "unknown", "no account in this alliance"),
    ("google", {"hd": None}, {}, "domain", "not a Google Workspace account"),
    ("google", {"hd": "elsewhere.example.org"}, {}, "domain", "not a Google Workspace account"),
    ("google", {"email_verified": False}, {}, "unverified", "did not confirm this email"),
]


@pytest.mark.parametrize("kind,identity,tamper,reason,words", REFUSALS,
                         ids=[f"{r[0]}-{r[3]}-{i}" for i, r in enumerate(REFUSALS)])
def test_a_bad_sign_in_is_refused_with_a_message_and_an_audit_event_and_creates_nobody(
        world, anon, oidc, kind, identity, tamper, reason, words):
    head = world.user("a", "headteacher")
    identity = dict(identity)
    if identity.get("email") == "BETA":  # a user of another alliance, same provider
        identity["email"] = world.user("b", "headteacher").email
    (microsoft if kind == "microsoft" else google)(world, oidc,
                                                   **{"email": head.email, **identity})
    oidc.tamper = tamper
    users = db.session.scalar(select(func.count()).select_from(User))
    r = through_provider(anon, world, oidc)
    assert r.status_code == 303 and r.headers["Location"] == "/login/school"
    page = anon.get("/login/school").data.decode()
    assert words.lower() in page.lower()
    assert not signed_in(anon)
    refused = events("auth.school_sign_in_refused")
    assert [e.detail["reason"] for e in refused] == [reason]
    assert refused[0].alliance_id == world.a.alliance.id
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(UserIdentity)) == 0
    assert events("auth.login") == []


def test_a_token_signed_by_another_key_is_refused(world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    oidc.sign_with_other_key = True
    r = through_provider(anon, world, oidc)
    assert r.status_code == 303 and not signed_in(anon)
    assert [e.detail["reason"] for e in events("auth.school_sign_in_refused")] == ["signature"]


def test_a_callback_this_browser_did_not_start_is_refused(world, anon, client_for, oidc):
    """Login CSRF: a code and state made for someone else's browser are worth nothing here."""
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    victim = client_for(None)
    r = victim.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
    back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    url = urlsplit(back.headers["Location"])
    stolen = anon.get(f"{url.path}?{url.query}")
    assert stolen.status_code == 303 and not signed_in(anon)
    assert [e.detail["reason"] for e in events("auth.school_sign_in_refused")] == ["state"]


def test_the_same_callback_twice_signs_in_once(world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    r = anon.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
    back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    url = urlsplit(back.headers["Location"])
    assert anon.get(f"{url.path}?{url.query}").status_code == 302
    assert anon.get(f"{url.path}?{url.query}").status_code == 303  # state spent
    assert len(events("auth.login")) == 1


def test_the_provider_saying_no_is_refused_and_audited(world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    r = anon.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
    state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
    back = anon.get(f"/login/school/callback?error=access_denied&state={state}")
    assert back.status_code == 303
    assert "cancelled" in anon.get("/login/school").data.decode()
    assert [e.detail["reason"] for e in events("auth.school_sign_in_refused")] == ["cancelled"]


def test_an_alliance_without_school_accounts_cannot_be_started(world, anon, oidc):
    assert anon.post(f"/login/school/{world.b.alliance.id}", {}, once=False).status_code == 404
    assert anon.post("/login/school/999999", {}, once=False).status_code == 404
    assert world.b.alliance.name not in anon.get("/login/school").data.decode()


def test_no_secret_no_school_sign_in(app, world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    app.config["OIDC_CLIENT_SECRETS"] = {}
    assert world.a.alliance.name not in anon.get("/login/school").data.decode()
    assert anon.post(f"/login/school/{world.a.alliance.id}", {}, once=False).status_code == 404


def test_starting_needs_the_csrf_token(world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    r = anon.post(f"/login/school/{world.a.alliance.id}", {}, csrf=False, once=False)
    assert r.status_code == 400


def test_an_unreachable_provider_is_a_message_not_a_500(app, world, anon, oidc):
    microsoft(world, oidc, email=world.user("a", "headteacher").email)
    app.config["OIDC_MICROSOFT_AUTHORITY"] = "http://127.0.0.1:9"
    r = anon.post(f"/login/school/{world.a.alliance.id}", {}, once=False)
    assert r.status_code == 303
    assert "could not be reached" in anon.get("/login/school").data.decode()


def test_a_turned_off_account_is_refused(world, anon, oidc):
    head = world.user("a", "headteacher")
    head.active = False
    db.session.commit()
    microsoft(world, oidc, email=head.email)
    assert through_provider(anon, world, oidc).status_code == 303
    assert [e.detail["reason"] for e in events("auth.school_sign_in_refused")] == ["inactive"]


def test_someone_who_signs_in_with_a_school_account_can_confirm_with_it_and_the_old_session_ends(
        world, client_for, oidc):
    from portal.models import LoginSession

    head = world.user("a", "headteacher")
    microsoft(world, oidc, email=head.email)
    c = client_for(None)
    assert through_provider(c, world, oidc).status_code == 302
    page = c.get("/confirm-password").data.decode()
    assert f"/login/school/{world.a.alliance.id}" in page
    with c.http.session_transaction() as sess:
        old_sid = sess["sid"]
    assert through_provider(c, world, oidc).status_code == 302  # signing in again: fresh
    db.session.expire_all()
    from portal.domain.sessions import sid_hash

    old = db.session.scalar(select(LoginSession).where(LoginSession.sid_hash == sid_hash(old_sid)))
    assert old.ended_at is not None and signed_in(c)
    # someone who never signed in with a school account is not offered it
    other = client_for(world.user("a", "admin"))
    assert "/login/school/" not in other.get("/confirm-password").data.decode()


def test_an_alliance_of_several_tenants_accepts_each_and_checks_the_issuer_is_that_tenants(
        world, client_for, oidc):
    db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, provider="microsoft",
                                  client_id="portal-alpha", tenants=f"{TENANT}\n{OTHER_TENANT}"))
    db.session.commit()
    head = world.user("a", "headteacher")
    oidc.issuer_path = f"/{OTHER_TENANT}/v2.0"  # discovery is the "organizations" document
    oidc.identity = {"sub": "ms-9", "tid": OTHER_TENANT, "email": head.email}
    c = client_for(None)
    assert through_provider(c, world, oidc).status_code == 302 and signed_in(c)
    # a token naming one allowed tenant but issued as the other is refused
    oidc.identity = {"sub": "ms-10", "tid": TENANT, "email": world.user("a", "admin").email}
    d = client_for(None)
    assert through_provider(d, world, oidc).status_code == 303 and not signed_in(d)
    assert [e.detail["reason"] for e in events("auth.school_sign_in_refused")] == ["tenant"]


def test_a_coordinator_required_to_use_two_factor_sets_it_up_after_the_school_account(
        world, anon, oidc):
    admin = world.user("a", "admin")
    microsoft(world, oidc, email=admin.email)
    db.session.execute(AllianceSignIn.__table__.update().values(require_two_factor=True))
    db.session.commit()
    r = through_provider(anon, world, oidc)
    assert r.status_code == 303 and r.headers["Location"] == "/login/code"
    assert not signed_in(anon)
    assert b"Set up two-factor sign-in" in anon.get("/login/code").data


def test_the_callbacks_code_is_kept_out_of_request_logs():
    from portal.logredact import redact

    line = '127.0.0.1 - "GET /login/school/callback?code=SECRETCODE&state=S1 HTTP/1.1" 302'
    assert redact(line) == '127.0.0.1 - "GET /login/school/callback?[redacted] HTTP/1.1" 302'
