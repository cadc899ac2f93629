"""Printing (issue 18, item 8), checked on what Chromium prints: page.pdf() read back with
poppler's pdftotext, and the print layout (emulate_media "print").

* every printed page carries the reference and "Page N of M" (@page margin boxes);
* the agreement's fingerprint never breaks inside a group of four, and the verification
  address wraps within the margin;
* the printed plan leaves out the navigation and "Back to the deployment";
* the invoice's address sits where a DL/C5 window envelope shows it (20 mm from the left,
  45 mm from the top, 90 x 40 mm).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape

import pytest
from sqlalchemy import select

from portal.domain import agreements as service
from portal.domain import exports, signing, workflow
from portal.extensions import db as _db
from portal.models import Invoice
from tests import factories
from tests.factories import agreements as fa
from tests.factories import finance as ff
from tests.factories import plans as fp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("pdftotext") is None,
                       reason="needs poppler-utils (pdftotext) to read the printed pages"),
]

MM = 72 / 25.4  # PDF points in a millimetre


def _pdf(pg) -> bytes:
    pg.emulate_media(media="print")
    return pg.pdf(format="A4", prefer_css_page_size=True)


def _pages(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def _words(pdf: bytes, tmp_path) -> list[tuple[str, float, float, float, float]]:
    """Every word on the first page with its box in millimetres from the paper's top left."""
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
                          check=True, capture_output=True, text=True).stdout
    return [(unescape(m[5]), *(float(m[i]) / MM for i in range(1, 5))) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
        html)]


def _every_page_is_numbered_and_referenced(pages: list[str], reference: str):
    assert pages
    for n, text in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in text, (n, text[-300:])
        assert reference in text, (n, text[:300])


def test_the_printed_agreement_numbers_its_pages_and_keeps_fingerprint_groups_whole(
        page, sign_in, db, tmp_path):
    w = fa.ready_world()
    d = w.a.deployment
    ag = service.current(d.id)
    fingerprint = signing.fingerprint(ag.content_hash)
    reference, email = d.reference, w.user("a", "director").email
    _db.session.rollback()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, email)
    page.goto(f"/deployments/{d.id}/agreement/print")
    pages = _pages(_pdf(page), tmp_path)
    _every_page_is_numbered_and_referenced(pages, reference)
    assert len(pages) >= 2, "an agreement with its terms and evidence runs to more than a page"

    # the fingerprint's lines hold whole groups of four only
    text = "\n".join(pages)
    start = text.index("Fingerprint (SHA-256):") + len("Fingerprint (SHA-256):")
    groups = text[start:text.index("Check it at:")].split()
    assert " ".join(groups) == fingerprint, groups
    # on a narrow printed column too (a phone's print preview): it wraps, between groups only
    page.set_viewport_size({"width": 320, "height": 800})
    lines = page.locator("#fingerprint .fp-group").evaluate_all(
        "els => els.map(e => e.getClientRects().length)")
    assert lines and set(lines) == {1}, "a group of the fingerprint was split over two lines"
    tops = page.locator("#fingerprint .fp-group").evaluate_all(
        "els => new Set(els.map(e => Math.round(e.getBoundingClientRect().top))).size")
    assert tops > 1  # it did wrap, so the check above meant something

    # the verification address stays inside the printed column at any width
    for width in (320, 680):
        page.set_viewport_size({"width": width, "height": 800})
        right = page.locator(".verify-url").evaluate("e => e.getBoundingClientRect().right")
        column = page.locator("article.printable").evaluate(
            "e => e.getBoundingClientRect().right")
        assert right <= column + 1, (width, right, column)
    assert page.csp_violations == []


def test_the_printed_plan_leaves_out_navigation_and_the_way_back(page, sign_in, world,
                                                                 tmp_path):
    fp.plans_world(world)
    d = world.a.deployment
    reference, email = d.reference, world.a.leader.email
    _db.session.rollback()
    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in(page, email)
    page.goto(f"/deployments/{d.id}/plan")
    assert page.get_by_role("link", name="Back to the deployment").is_visible()
    page.emulate_media(media="print")
    assert not page.get_by_role("link", name="Back to the deployment").is_visible()
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert not page.get_by_role("link", name="Printable version").is_visible()
    assert page.locator("h1").is_visible()
    pages = _pages(_pdf(page), tmp_path)
    _every_page_is_numbered_and_referenced(pages, reference)
    text = "\n".join(pages)
    for gone in ("Back to the deployment", "Sign out", "Skip to main content",
                 "Printable version"):
        assert gone not in text, gone


def test_the_printed_invoice_shows_its_address_in_an_envelope_window(page, sign_in, db,
                                                                     tmp_path):
    w = factories.world()
    d = ff.priced_deployment(w.a, model="east_sussex", designation="sle", half_days=12,
                             targeted=True)
    workflow.transition(d, "completed", w.user("a", "director"))
    workflow.commit_or_conflict()
    inv = _db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id,
                                                    Invoice.payer == "school")).first()
    inv.payer_school.address_line1, inv.payer_school.town = "4 Orchard Way", "Bootle"
    inv.payer_school.postcode = "L20 3AB"
    _db.session.commit()
    payer, number, email = inv.payer_school.name, inv.number, w.user("a", "admin").email
    address = " ".join(exports.payer_address(inv))  # who, the school, its street address
    _db.session.rollback()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, email)
    page.goto(f"/finance/invoices/{inv.id}")
    pdf = _pdf(page)
    _every_page_is_numbered_and_referenced(_pages(pdf, tmp_path), number)
    words = _words(pdf, tmp_path)
    names = payer.split()
    found = [words[i] for i in range(len(words))
             if [b[0] for b in words[i:i + len(names)]] == names]
    assert found, (payer, [b[0] for b in words][:60])
    # the first time the payer is named on the paper is in the window: 20-110 mm, 45-85 mm
    _word, x0, y0, _x1, _y1 = min(found, key=lambda b: b[2])
    assert 20 <= x0 <= 32 and 45 <= y0 <= 70, (x0, y0)
    window = [b for b in words if 20 <= b[1] and b[3] <= 110 and 45 <= b[2] and b[4] <= 85]
    # the whole address and nothing else is printed inside the window, so nothing else shows
    # through it
    assert " ".join(b[0] for b in window) == address, window

