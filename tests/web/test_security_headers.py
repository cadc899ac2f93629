"""Security headers on every kind of response; HSTS only in production."""

from __future__ import annotations

import base64

import pytest

from portal import create_app
from portal.extensions import db as _db


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.fixture
def responses(world, client_for, anon):
    admin = client_for(world.user("a", "admin"))
    return {
        "home": admin.get("/"),
        "login page": anon.get("/login"),
        "redirect": anon.get("/requests/"),
        "htmx partial": admin.htmx_get("/requests/"),
        "not found": admin.get(f"/deployments/{world.b.deployment.id}"),
        "static file": anon.get("/static/css/portal.css"),
    }


@pytest.mark.parametrize("kind", ["home", "login page", "redirect", "htmx partial", "not found",
                                  "static file"])
def test_every_response_carries_a_strict_csp(responses, kind):
    r = responses[kind]
    csp = r.headers["Content-Security-Policy"]
    d = _directives(csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "'unsafe-hashes'" not in csp and "data:" not in d.get("script-src", [])
    assert d["default-src"] == ["'self'"]
    assert d["object-src"] == ["'none'"]
    assert d["base-uri"] == ["'none'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["form-action"] == ["'self'"]
    assert "*" not in " ".join(d["script-src"])
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin",
                                            "no-referrer")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers  # testing is not production


def test_script_sources_are_self_and_the_htmx_cdn_only(responses, app):
    d = _directives(responses["home"].headers["Content-Security-Policy"])
    assert d["script-src"] == ["'self'", "https://cdn.jsdelivr.net"]
    assert d["style-src"] == ["'self'"]


def test_session_cookie_is_http_only_and_same_site(world, anon):
    from tests.factories import PASSWORD

    r = anon.post("/login", {"email": world.user("a", "admin").email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def production_app(tmp_path):
    app = create_app({
        "PORTAL_ENV": "production", "SECRET_KEY": "p" * 40, "AUDIT_KEY": "a" * 32,
        "CHECKPOINT_KEY": base64.b64encode(b"k" * 32).decode(),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
        "RATELIMIT_ALLOW_MEMORY": True,  # one test client: one process's counters suffice
    })
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.engine.dispose()


def test_production_sends_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()
    r = client.get("/login", base_url="https://portal.example")
    assert r.status_code == 200
    hsts = r.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    cookie = r.headers.get("Set-Cookie", "")
    if cookie:  # the CSRF token lives in the session cookie
        assert "Secure" in cookie and "HttpOnly" in cookie
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
