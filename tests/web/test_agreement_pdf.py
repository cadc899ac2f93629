"""The signed agreement as a PDF (issue 21): the printable page's template with a certificate
page (each signatory, role, time, statement, fingerprint, checkpoint, QR code), downloadable by
whoever sees the agreement (another alliance: 404), and emailed to every party, as an
attachment the worker makes, when the last signature lands."""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import pytest
from pypdf import PdfReader

from portal import documents
from portal.domain import checkpoints, signing
from portal.extensions import db as _db
from tests.factories import agreements as fa
from tests.web.test_agreements import ROLES, SEES, Fresh, current


@pytest.fixture
def w(db):
    return fa.ready_world()


@pytest.fixture
def c(client_for):
    return lambda user=None: Fresh(client_for(user))


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    """The text with its line breaks and spaces removed (a long hash wraps in a PDF)."""
    return "".join(text.split())


def url(w, side="a") -> str:
    return f"/deployments/{getattr(w, side).deployment.id}/agreement.pdf"


@pytest.fixture
def signed(w):
    ag = current(w)
    for user in fa.signers(w):
        fa.sign(ag, user)
    _db.session.commit()
    return current(w)


def test_the_pdf_has_the_agreement_and_a_certificate_page_naming_every_signatory(w, c, signed):
    r = c(w.user("a", "headteacher")).get(url(w))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert f"agreement-{w.a.deployment.reference}-v{signed.version}.pdf" in \
        r.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) >= 2
    text = pdf_text(r.data)
    assert "Terms and conditions" in text and "Be kind." in text  # the printable page's body
    # the certificate starts a page of its own and runs to the end
    first = next(i for i, p in enumerate(reader.pages)
                 if "Certificate of signature" in (p.extract_text() or ""))
    assert "Signatures and their evidence" not in reader.pages[first].extract_text()
    certificate = "\n".join(p.extract_text() for p in reader.pages[first:])
    assert "Signed by every party" in certificate
    assert flat(signing.fingerprint(signed.content_hash)) in flat(certificate)
    cp = checkpoints.latest(f"alliance:{w.a.alliance.id}")
    assert cp is not None and flat(cp.root_hash) in flat(text)
    assert f"{cp.size} events" in text
    assert flat(f"/agreements/verify/{signed.verify_token}") in flat(certificate)
    whole = flat(text)
    for sig in signed.signatures:
        user = _db.session.get(type(fa.signers(w)[0]), sig.user_id)
        assert user.name in text
        assert flat(sig.capacity) in whole
        assert sig.signed_at.strftime("%Y-%m-%d %H:%M:%S") in text
        assert flat(sig.consent_text) in whole


def test_the_certificate_carries_a_qr_code_image(w, signed, app):
    with app.test_request_context():
        data = documents.agreement_pdf(signed)
    reader = PdfReader(io.BytesIO(data))
    page = next(p for p in reader.pages if "Certificate of signature" in p.extract_text())
    xobjects = page["/Resources"].get("/XObject", {})
    images = [x.get_object() for x in xobjects.values()
              if x.get_object().get("/Subtype") == "/Image"]
    assert images, "no QR code on the certificate page"
    # square, and as many pixels as segno's code for the verify address (scale 8, border 2)
    import segno

    side = (segno.make(documents.verify_url(signed), error="m").symbol_size(scale=8, border=2))
    assert (images[0]["/Width"], images[0]["/Height"]) == side


def test_an_unsigned_agreement_says_so_on_its_certificate(w, c):
    r = c(w.user("a", "admin")).get(url(w))
    assert r.status_code == 200
    text = pdf_text(r.data)
    assert "Not a fully signed agreement" in text
    assert "No one has signed this version." in text


def test_a_chosen_version_that_does_not_exist_is_404(w, c):
    assert c(w.user("a", "admin")).get(url(w), query_string={"version": 9}).status_code == 404


@pytest.mark.parametrize(("role", "status"), SEES.items())
def test_every_role_sees_the_pdf_as_it_sees_the_agreement(w, c, role, status):
    r = c(w.user("a", role)).get(url(w))
    assert r.status_code == status
    if status == 200:
        assert r.data[:5] == b"%PDF-"


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
def test_another_alliances_agreement_pdf_is_404(w, c, role):
    assert c(w.user("a", role)).get(url(w, "b")).status_code == 404


def test_signed_out_the_pdf_asks_for_sign_in(w, c):
    assert c().get(url(w)).status_code in (302, 401)


def test_the_last_signature_emails_every_party_the_signed_pdf(w, smtp):
    ag = current(w)
    *first, last = fa.signers(w)
    for user in first:
        fa.sign(ag, user)
    _db.session.commit()
    before = len(smtp.messages)
    fa.sign(current(w), last)
    _db.session.commit()  # the worker (immediate in tests) sends after the commit
    signed = current(w)
    assert signed.status == "signed"
    expected = {u.email for u in fa.signers(w)} | {w.user("a", "admin").email}
    attached: dict[str, bytes] = {}
    for env in smtp.messages[before:]:
        msg = message_from_bytes(env.content, policy=policy.default)
        for part in msg.iter_attachments():
            if part.get_content_type() == "application/pdf":
                attached[env.rcpt_tos[0]] = part.get_content()
                assert part.get_filename() == documents.agreement_filename(signed)
    assert expected <= set(attached)
    text = pdf_text(next(iter(attached.values())))
    assert "Certificate of signature" in text
    assert flat(signing.fingerprint(signed.content_hash)) in flat(text)
    for user in fa.signers(w):
        assert user.name in text


def test_earlier_signatures_send_no_pdf(w, smtp):
    ag = current(w)
    fa.sign(ag, fa.signers(w)[0])
    _db.session.commit()
    for env in smtp.messages:
        msg = message_from_bytes(env.content, policy=policy.default)
        assert not list(msg.iter_attachments())


def test_the_outbox_says_an_email_carries_the_signed_pdf(w, client_for):
    from sqlalchemy import select

    from portal.models import OutboxEmail

    ag = current(w)
    for user in fa.signers(w):
        fa.sign(ag, user)
    _db.session.commit()
    mails = _db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.attachment == f"agreement:{ag.id}")).all()
    assert mails
    body = Fresh(client_for(w.user("a", "admin"))).get(
        f"/coordinator/outbox/{mails[0].id}").data.decode()
    assert "The signed agreement, as a PDF" in body
    assert f"agreement:{ag.id}" not in body  # no ids shown to people
