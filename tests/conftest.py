"""Fixtures: the app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), a clean database per
test, a test client per role, and a live server for the browser tests."""

from __future__ import annotations

import os
import re
import socket
import time
from email import message_from_bytes, policy

import itsdangerous.timed
import pytest
from hypothesis import settings as hypothesis_settings
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

import portal.security
from portal import create_app
from portal.extensions import db as _db

from . import factories

# Property tests check rules, not speed: no per-example deadline (CI shares two cores).
hypothesis_settings.register_profile("portal", deadline=None)
hypothesis_settings.load_profile("portal")


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app({
        "PORTAL_ENV": "testing",
        "SECRET_KEY": "tests-only-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "SERVER_NAME": None,
        "LOGIN_LIMIT": "1000 per minute",
        "LOGIN_ADDRESS_LIMIT": "1000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    from portal.worker import huey

    # Jobs run at once, in the caller's thread, each in its own app context and session:
    # email queued by a request is delivered as that request's transaction commits.
    # tests/worker/ starts real worker processes instead.
    huey.immediate = True
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        _db.drop_all()
        _db.create_all()  # tests/web/test_migrations.py checks the migrations build the same
    return app


def _clean(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                quoted = ", ".join(f'"{t}"' for t in tables)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - our own table names


@pytest.fixture
def db(app):
    """A clean database, fresh rate limits and an app context for the test body."""
    from portal.extensions import limiter

    _clean(app)
    with app.app_context():
        limiter.reset()  # counts kept in memory must not carry from one test into the next
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def world(db):
    """Two alliances, each with schools, every role, a request and a deployment."""
    return factories.world()


def csrf_token(client, app) -> str:
    """The token a rendered form would carry for this client's session."""
    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
        if raw is None:
            raw = os.urandom(20).hex()
            sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


class PortalClient:
    """A test client that signs in as a user and sends CSRF tokens like the browser does."""

    def __init__(self, app, user=None):
        self.app = app
        self.http = app.test_client()
        self.user = user
        if user is not None:
            from portal.domain import sessions

            sid = sessions.start(user)  # a real session row, as signing in makes
            session = _db.session()
            session.expire_on_commit = False  # leave the test's own objects as they were
            try:
                session.commit()
            finally:
                session.expire_on_commit = True
            with self.http.session_transaction() as sess:
                sess["sid"] = sid
                sess["_user_id"] = user.get_id()
                sess["_fresh"] = True
                sess["auth_at"] = sess["seen"] = int(time.time())
                # the token a page drawn for this session carries, made once: requests sent at
                # the same moment (a double click) then carry the same one, as a browser's do
                sess["csrf_token"] = os.urandom(20).hex()

    @staticmethod
    def _fresh_user():
        # requests in a test share the test's app context (and so ``g``): forget the user that
        # Flask-Login cached for another client's request, and the CSRF token of its session
        from flask import g, has_app_context

        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)  # Flask-WTF caches the token per request in ``g`` too

    def get(self, url, **kw):
        self._fresh_user()
        return self.http.get(url, **kw)

    def post(self, url, data=None, *, csrf=True, once=True, htmx=False, headers=None, **kw):
        """POST like a browser: with the CSRF token and, as every creation form carries one, a
        fresh one-time key (pass ``idempotency_key`` to send the same form twice; ``once=False``
        to send none)."""
        data = dict(data or {})
        headers = dict(headers or {})
        if csrf:
            data.setdefault("csrf_token", csrf_token(self.http, self.app))
        if once:
            from portal.idempotency import new_key

            data.setdefault("idempotency_key", new_key())
        if htmx:
            headers["HX-Request"] = "true"
        self._fresh_user()
        return self.http.post(url, data=data, headers=headers, **kw)

    def htmx_get(self, url, **kw):
        self._fresh_user()
        return self.http.get(url, headers={"HX-Request": "true"}, **kw)


@pytest.fixture
def client_for(app, db):
    def make(user=None) -> PortalClient:
        return PortalClient(app, user)

    return make


@pytest.fixture
def anon(client_for):
    return client_for(None)


# ---------------------------------------------------------------------- a movable clock


class Clock:
    """time.time() moved on by ``offset`` seconds, for the session code and cookie signing."""

    def __init__(self):
        self.offset = 0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch):
    """Move the clock of the session code and of cookie signing on: ``clock.offset += N``."""
    c = Clock()
    monkeypatch.setattr(itsdangerous.timed, "time", c)
    monkeypatch.setattr(portal.security, "time", c)
    return c


# ------------------------------------------------------------------- a real SMTP server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """Everything a real SMTP server on loopback received during the test."""

    LINK = re.compile(r"https?://\S+?(/account/set-password/[\w-]+)")

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def texts(self, address: str) -> list[str]:
        """The plain-text bodies delivered to ``address``, oldest first."""
        out = []
        for env in self.messages:
            if address in env.rcpt_tos:
                msg = message_from_bytes(env.content, policy=policy.default)
                out.append(msg["Subject"] + "\n" + msg.get_body(("plain",)).get_content())
        return out

    def link(self, address: str) -> str:
        """The path of the newest set-password link delivered to ``address``."""
        links = [m.group(1) for text in self.texts(address) for m in self.LINK.finditer(text)]
        assert links, f"no set-password link was delivered to {address}"
        return links[-1]


def serve_smtp(app, monkeypatch, mailbox):
    """A real SMTP server (aiosmtpd) on a free loopback port handing what it receives to
    ``mailbox``; the app sends to it until the generator is closed. Yields the mailbox."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_USE_SSL": False, "MAIL_USERNAME": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on a free loopback port; the app sends to it during the test."""
    yield from serve_smtp(app, monkeypatch, Mailbox())


# ---------------------------------------------------------------- browser tests (Playwright)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(app):
    """The portal served over real HTTP on a free loopback port, in a thread."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} "
                    "(apt-get install -y chromium); none found, so they were skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, db):
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    # The CDN copy of htmx is unreachable here (as on many school networks): fail it at once so
    # every page proves the local fallback works, instead of waiting on a network timeout.
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    pg = context.new_page()
    pg.csp_violations = []
    pg.on("console", lambda msg: pg.csp_violations.append(msg.text)
          if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()


@pytest.fixture
def sign_in():
    def do(pg, email: str, password: str = factories.PASSWORD):
        pg.goto("/login")
        pg.get_by_label("Email address").fill(email)
        pg.get_by_label("Password").fill(password)
        pg.get_by_role("button", name="Sign in").click()

    return do
