"""Issue 15 item 8: a staff room can sign in. Schools share one public address, so the limits
count failed sign-ins only: sixty people signing in from one address in a minute all get in, while
guessing from that address is still stopped (per address, and per account at the address)."""

from __future__ import annotations

import pytest

from portal import config
from portal.extensions import db, limiter

from .. import factories
from ..factories import PASSWORD

SCHOOL_NETWORK = {"REMOTE_ADDR": "192.0.2.60"}


@pytest.fixture
def shipped_limits(app, monkeypatch):
    """The limits the portal ships with (not the test session's generous ones)."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", config.DEFAULT_LOGIN_LIMIT)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LIMIT", config.DEFAULT_LOGIN_ADDRESS_LIMIT)
    limiter.reset()
    yield
    limiter.reset()


def _staff(world, n: int):
    """``n`` colleagues at one school (each a user who can sign in)."""
    people = [factories.user(world.a.alliance, "headteacher", world.a.receiving)
              for _ in range(n)]
    db.session.commit()
    return people


def _login(client, email, password):
    return client.post("/login", {"email": email, "password": password},
                       environ_base=SCHOOL_NETWORK)


def test_sixty_people_sign_in_from_one_address_in_a_minute(world, client_for, shipped_limits):
    people = _staff(world, 60)
    codes = [_login(client_for(None), p.email, PASSWORD).status_code for p in people]
    assert codes == [302] * 60


def test_one_person_signing_in_again_and_again_is_not_locked_out(world, client_for,
                                                                 shipped_limits):
    head = world.user("a", "headteacher")
    codes = [_login(client_for(None), head.email, PASSWORD).status_code for _ in range(15)]
    assert codes == [302] * 15


def test_successes_do_not_hide_failures_per_account(world, client_for, shipped_limits):
    """Ten wrong passwords at one account from the address stop that account there, whatever
    sign-ins succeeded before."""
    head = world.user("a", "headteacher")
    for _ in range(5):
        assert _login(client_for(None), head.email, PASSWORD).status_code == 302
    guesser = client_for(None)
    codes = [_login(guesser, head.email, f"guess {i}").status_code for i in range(11)]
    assert codes == [422] * 10 + [429]
    # the right password from there is refused too until the window passes
    assert _login(client_for(None), head.email, PASSWORD).status_code == 429


def test_sixty_failures_from_one_address_stop_the_sixty_first(world, client_for,
                                                              shipped_limits):
    people = _staff(world, 61)
    guesser = client_for(None)
    codes = [_login(guesser, p.email, "wrong password").status_code for p in people]
    assert codes == [422] * 60 + [429]
    # and a colleague with the right password from that address waits too
    assert _login(client_for(None), people[0].email, PASSWORD).status_code == 429


def test_a_sign_in_refused_for_a_bad_form_counts_as_a_failure(world, client_for,
                                                              shipped_limits):
    head = world.user("a", "headteacher")
    c = client_for(None)
    codes = [c.post("/login", {"email": head.email, "password": ""},
                    environ_base=SCHOOL_NETWORK).status_code for _ in range(11)]
    assert codes == [422] * 10 + [429]
