"""Issue 15 item 4: a signature is not lost to the password prompt. When the sign-in is older
than FRESH_LOGIN_MINUTES, "Sign" asks for the password; once it is given the signature is
recorded (the name typed, on exactly the version and fingerprint shown), with a message that
says so. Nothing is signed before the password is given, and a wrong one signs nothing."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from portal.models import AuditEvent, FormDraft
from tests import factories

from .test_agreements import c, current, n_signatures, sign_data, url, w  # noqa: F401


def _age_login(client, minutes: int = 16):
    with client.inner.http.session_transaction() as sess:
        sess["auth_at"] = int(time.time()) - minutes * 60


def _confirm(client, w, password=factories.PASSWORD):  # noqa: F811
    return client.post("/confirm-password", {"password": password, "next": url(w)})


def test_the_signature_completes_after_the_password(w, c):  # noqa: F811
    head = w.user("a", "headteacher")
    client = c(head)
    _age_login(client)
    r = client.post(url(w, tail="/sign"), sign_data(current(w), head.name))
    assert r.status_code == 303 and "/confirm-password" in r.headers["Location"]
    assert n_signatures() == 0
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Confirm your password to sign" in page
    wrong = _confirm(client, w, "not my password")
    assert wrong.status_code == 422 and n_signatures() == 0
    ok = _confirm(client, w)
    assert ok.status_code == 303 and ok.headers["Location"].endswith(url(w))
    assert n_signatures() == 1
    sig = current(w).signatures[0]
    assert sig.user_id == head.id and sig.typed_name == head.name
    shown = client.get(url(w)).get_data(as_text=True)
    assert "Your password is confirmed. Your signature is recorded." in shown
    # the kept signature is used once
    from portal.extensions import db

    assert db.session.scalar(select(FormDraft)) is None
    assert _confirm(client, w).status_code == 303 and n_signatures() == 1


def test_the_signature_completes_after_the_password_with_htmx(w, c):  # noqa: F811
    head = w.user("a", "headteacher")
    client = c(head)
    _age_login(client)
    r = client.post(url(w, tail="/sign"), sign_data(current(w), head.name), htmx=True)
    assert "/confirm-password" in r.headers["HX-Redirect"]
    assert n_signatures() == 0
    assert _confirm(client, w).status_code == 303
    assert n_signatures() == 1


def test_a_wrong_name_is_refused_before_the_password_is_asked(w, c):  # noqa: F811
    head = w.user("a", "headteacher")
    client = c(head)
    _age_login(client)
    r = client.post(url(w, tail="/sign"), sign_data(current(w), "Somebody Else"))
    assert r.status_code == 422
    assert "Type your full name exactly" in r.get_data(as_text=True)
    assert n_signatures() == 0


def test_an_agreement_changed_meanwhile_is_not_signed_after_the_password(w, c):  # noqa: F811
    head, admin = w.user("a", "headteacher"), w.user("a", "admin")
    client = c(head)
    _age_login(client)
    seen = current(w)
    assert client.post(url(w, tail="/sign"), sign_data(seen, head.name)).status_code == 303
    from portal.domain import agreements as service
    from portal.extensions import db

    service.edit(seen, db.session.merge(admin), {"schedule": "Tuesdays only"},
                 seen_hash=seen.content_hash)
    db.session.commit()
    ok = _confirm(client, w)
    assert ok.status_code == 303 and n_signatures() == 0
    shown = client.get(url(w)).get_data(as_text=True)
    assert "changed after you opened it" in shown, re.findall(r"flash[^<]*</p>", shown)


def test_someone_else_cannot_use_a_kept_signature(w, c):  # noqa: F811
    """The kept signature belongs to the user and browser that sent it."""
    head = w.user("a", "headteacher")
    client = c(head)
    _age_login(client)
    assert client.post(url(w, tail="/sign"), sign_data(current(w), head.name)).status_code \
        == 303
    director = c(w.user("a", "director"))
    _age_login(director)
    assert _confirm(director, w).status_code == 303
    assert n_signatures() == 0


def test_confirming_is_audited(w, c):  # noqa: F811
    head = w.user("a", "headteacher")
    client = c(head)
    _age_login(client)
    client.post(url(w, tail="/sign"), sign_data(current(w), head.name))
    _confirm(client, w)
    from portal.extensions import db

    actions = set(db.session.scalars(select(AuditEvent.action)
                                     .where(AuditEvent.actor_id == head.id)))
    assert {"auth.reconfirmed", "agreement.signed"} <= actions


def test_a_kept_form_that_is_not_a_signature_is_left_for_its_page(w, c):  # noqa: F811
    """Confirming the password completes only a kept signature: another kept form (sent when
    the session ended) stays to be filled in again on its own page."""
    from portal.extensions import db

    head = w.user("a", "headteacher")
    client = c(head)
    from portal import drafts

    client.inner.http.set_cookie(drafts.COOKIE, "kept-token")
    db.session.add(FormDraft(token_hash=drafts._hash("kept-token"), user_id=head.id,
                             action="/requests/new",
                             page="/requests/new", fields=[["title", "Typed at lunch"]],
                             signed_out=True))
    db.session.commit()
    assert _confirm(client, w).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(FormDraft)) is not None
