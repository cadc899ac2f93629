"""Money in a real browser: the htmx filter, a printable invoice, payments with errors beside
the field, and no CSP violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import workflow
from portal.extensions import db
from portal.models import Invoice

from .. import factories
from ..factories import finance as ff

pytestmark = pytest.mark.browser


@pytest.fixture
def finished(db):
    w = factories.world()
    d = ff.priced_deployment(w.a, model="east_sussex", designation="sle", half_days=12,
                             targeted=True)
    workflow.transition(d, "completed", w.user("a", "director"))
    workflow.commit_or_conflict()
    invoices = {i.payer: i for i in db.session.scalars(
        select(Invoice).where(Invoice.deployment_id == d.id))}
    return w, d, invoices


def test_admin_filters_sends_and_records_payments(page, sign_in, finished):
    w, d, invoices = finished
    school, board = invoices["school"], invoices["board"]
    sign_in(page, w.user("a", "admin").email)
    page.get_by_role("link", name="Money").click()
    expect(page.get_by_role("link", name=board.number)).to_be_visible()
    page.get_by_label("Paid by").select_option("school")
    page.wait_for_url(re.compile(r"payer=school"))
    expect(page.get_by_role("link", name=board.number)).to_have_count(0)
    page.get_by_role("link", name=school.number).click()
    page.get_by_role("button", name="Mark as sent").click()
    page.get_by_label("Amount received (£)").fill("1000")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#amount-error")).to_contain_text("more than the £900.00 still due")
    page.get_by_label("Amount received (£)").fill("300")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment recorded")).to_be_visible()
    expect(page.locator("#invoice-title + p .badge")).to_have_text("Part paid")
    assert page.csp_violations == []
    db.session.rollback()  # a fresh snapshot: the server wrote in another connection
    assert db.session.get(Invoice, school.id).paid_pence == 30_000


def test_headteacher_sees_the_money_panel_and_the_invoice(page, sign_in, finished):
    w, d, invoices = finished
    sign_in(page, w.user("a", "headteacher").email)
    page.goto(f"/deployments/{d.id}")
    panel = page.locator("#panel-finance")
    expect(panel).to_contain_text(invoices["school"].number)
    expect(panel).not_to_contain_text(invoices["board"].number)
    panel.get_by_role("link", name=invoices["school"].number).click()
    expect(page.get_by_role("heading", name=f"Invoice {invoices['school'].number}")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert page.csp_violations == []


WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_headteacher_records_the_order_number_and_downloads_the_pdf(page, sign_in, finished,
                                                                    width):
    """Issue 21: the payer gives its purchase-order number (a bad one is refused beside the
    field) and downloads the invoice as a PDF that carries it, at phone, tablet and desktop
    width."""
    w, d, invoices = finished
    school = invoices["school"]
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, w.user("a", "headteacher").email)
    page.goto(f"/finance/invoices/{school.id}")
    box = page.get_by_label("Purchase-order number")
    box.fill("PO " + "9" * 40)
    page.get_by_role("button", name="Save the order number").click()
    expect(page.locator("#po_number-error")).to_contain_text("at most 30 characters")
    page.get_by_label("Purchase-order number").fill("PO-2026/117")
    page.get_by_role("button", name="Save the order number").click()
    expect(page.get_by_text("Purchase-order number saved")).to_be_visible()
    expect(page.locator("#po-number")).to_have_text("PO-2026/117")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as PDF").click()
    data = open(info.value.path(), "rb").read()
    assert data[:5] == b"%PDF-"
    import io

    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "PO-2026/117" in text and school.number in text
    assert page.csp_violations == []
