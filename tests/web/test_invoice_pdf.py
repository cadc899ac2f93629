"""Invoices and credit notes as PDFs (issue 21): the payer's address inside a DL/C5 envelope
window, the payee's bank details, the purchase-order number and the VAT line; downloadable by
whoever sees the invoice, and sent with the invoice's email."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from email import message_from_bytes, policy

import pytest
from pypdf import PdfReader

from portal.domain import exports, finance
from portal.extensions import db
from portal.models import AllianceFinance, Invoice

MM = 72 / 25.4  # points in a millimetre
# The window of a DL or C5 envelope (BS EN ISO 269 windows): 20 mm from the left, 50 mm
# from the top, 90 x 40 mm; the address must sit wholly inside it.
WINDOW = (20 * MM, 50 * MM, 110 * MM, 90 * MM)


def _invoice(w, *, vat=None, po="", credit_of=None) -> Invoice:
    seq = finance.next_number(w.a.alliance.id)
    inv = Invoice(number=finance.format_number(w.a.alliance.id, seq), sequence=seq,
                  alliance_id=w.a.alliance.id, payer="school",
                  payer_school_id=w.a.receiving.id, status="draft",
                  issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026,
                  vat_rate_bp=vat, po_number=po)
    finance.set_lines(inv, [("Support from an LLE, 4 days", 180_000),
                            ("Brokerage fee", 18_000)])
    db.session.add(inv)
    db.session.flush()
    return inv


def _words(data: bytes) -> list[tuple[str, float, float, float, float]]:
    """Each word of the first page with its box (x0, y0 from the top, x1, y1), in points, as
    poppler's pdftotext sees it."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"],
                         input=data, capture_output=True, check=True).stdout.decode()
    return [(html_unescape(m.group(5)), float(m.group(1)), float(m.group(2)),
             float(m.group(3)), float(m.group(4)))
            for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                 r'yMax="([\d.]+)">([^<]*)</word>', out)]


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def bank(world):
    db.session.add(AllianceFinance(alliance_id=world.a.alliance.id, **{
        **exports.DEFAULT_CODES, "account_name": "Alpha Teaching School", "bank_name": "Lloyds",
        "sort_code": "30-99-50", "account_number": "12345678", "vat_number": "GB123456789"}))
    db.session.commit()


def test_the_payer_address_sits_in_the_envelope_window(world, client_for, bank):
    inv = _invoice(world, po="PO-7781")
    db.session.commit()
    r = client_for(world.user("a", "admin")).get(f"/finance/invoices/{inv.id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    words = _words(r.data)
    left, top, right, bottom = WINDOW
    inside = [w[0] for w in words if left <= w[1] and w[3] <= right and top <= w[2]
              and w[4] <= bottom]
    address = exports.payer_address(inv)
    # the whole address, and nothing else, shows through the window
    assert inside == " ".join(line for line in address if line).split()
    assert world.a.receiving.name in " ".join(inside)


def _addressed(school) -> None:
    school.address_line1, school.address_line2, school.address_line3 = (
        "12 Mill Lane", "Netherton", "Sefton Park")
    school.town, school.postcode = "Bootle", "L30 5QB"


def test_the_schools_street_address_is_the_payers_on_the_page_and_in_the_pdf_window(
        world, client_for, bank):
    """Issue 21: the school's street address (every line of it) is what the envelope's window
    shows, in the PDF and on the printable page."""
    _addressed(world.a.receiving)
    inv = _invoice(world)
    db.session.commit()
    expected = ["The Headteacher", world.a.receiving.name, "12 Mill Lane", "Netherton",
                "Sefton Park", "Bootle", "L30 5QB"]
    assert exports.payer_address(inv) == expected
    page = client_for(world.user("a", "headteacher")).get(f"/finance/invoices/{inv.id}")
    body = page.get_data(as_text=True)
    window = body[body.index('class="invoice-to"'):]
    window = window[:window.index("</address>")]
    assert all(line in window for line in expected)
    assert "12 Mill Lane, Netherton, Sefton Park, Bootle, L30 5QB" in body  # on screen too
    data = client_for(world.user("a", "admin")).get(f"/finance/invoices/{inv.id}.pdf").data
    left, top, right, bottom = WINDOW
    inside = [w[0] for w in _words(data) if left <= w[1] and w[3] <= right and top <= w[2]
              and w[4] <= bottom]
    assert inside == " ".join(expected).split()  # all seven lines fit the window
    assert "12 Mill Lane" in _text(data) and "L30 5QB" in _text(data)


def test_the_xero_export_carries_the_street_and_town(world, bank):
    _addressed(world.a.receiving)
    inv = _invoice(world)
    db.session.commit()
    header, row = list(exports.xero_rows([inv], exports.codes_for(world.a.alliance.id)))[:2]
    got = dict(zip(header, row, strict=True))
    assert (got["POAddressLine1"], got["POAddressLine2"], got["POAddressLine3"],
            got["POAddressLine4"], got["POCity"], got["POPostalCode"]) == (
        "The Headteacher", world.a.receiving.name, "12 Mill Lane", "Netherton, Sefton Park",
        "Bootle", "L30 5QB")


def test_the_invoice_pdf_has_bank_details_po_number_and_vat_line(world, client_for, bank):
    inv = _invoice(world, vat=2000, po="PO-7781")
    db.session.commit()
    text = _text(client_for(world.user("a", "headteacher")).get(
        f"/finance/invoices/{inv.id}.pdf").data)
    assert inv.number in text and "PO-7781" in text
    assert "30-99-50" in text and "12345678" in text and "Alpha Teaching School" in text
    assert "VAT at 20%" in text and "£396.00" in text
    assert "£1,980.00" in text and "£2,376.00" in text  # subtotal and total
    assert "GB123456789" in text


def test_outside_the_scope_of_vat_is_said_and_no_bank_details_are_invented(world, client_for):
    inv = _invoice(world)
    db.session.commit()
    text = _text(client_for(world.user("a", "admin")).get(
        f"/finance/invoices/{inv.id}.pdf").data)
    assert "Outside the scope of VAT" in text
    assert "Sort code" not in text and "Ask " in text
    assert "None given" in text  # no purchase-order number


def test_a_credit_note_pdf_names_the_invoice_it_credits(world, client_for, bank):
    inv = _invoice(world, vat=2000)
    finance.mark_sent(inv, world.user("a", "admin"))
    cn = finance.credit_note(inv, 24_000, world.user("a", "admin"), today=date.today(),
                             reason="One day fewer")
    db.session.commit()
    r = client_for(world.user("a", "admin")).get(f"/finance/invoices/{cn.id}.pdf")
    assert f"credit-note-{cn.number}" in r.headers["Content-Disposition"]
    text = _text(r.data)
    assert "Credit note" in text and inv.number in text
    assert "£200.00" in text and "£40.00" in text and "£240.00" in text
    assert "How to pay" not in text


PDF_SEES = {"admin": 200, "director": 200, "headteacher": 200, "home_school": 404,
            "board": 404, "sle": 403}


@pytest.mark.parametrize(("role", "status"), PDF_SEES.items())
def test_each_role_gets_the_invoice_pdf_as_it_sees_the_invoice(world, client_for, role,
                                                               status):
    inv = _invoice(world)
    db.session.commit()
    page = client_for(world.user("a", role)).get(f"/finance/invoices/{inv.id}")
    r = client_for(world.user("a", role)).get(f"/finance/invoices/{inv.id}.pdf")
    assert r.status_code == status == page.status_code


def test_sending_an_invoice_emails_its_pdf_to_the_payer(world, smtp):
    inv = _invoice(world, po="PO-1")
    db.session.commit()
    finance.mark_sent(inv, world.user("a", "admin"))
    db.session.commit()
    head = world.user("a", "headteacher").email
    pdfs = []
    for env in smtp.messages:
        if head in env.rcpt_tos:
            msg = message_from_bytes(env.content, policy=policy.default)
            pdfs += [p.get_content() for p in msg.iter_attachments()
                     if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    text = _text(pdfs[0])
    assert inv.number in text and "PO-1" in text
