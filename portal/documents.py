"""PDFs: the signed agreement (the printable page with a certificate page) and invoices and
credit notes, made with WeasyPrint from the same templates as the pages people print.

Made on demand (a download) or by the job worker as an email goes out (an outbox row names its
PDF, ``OutboxEmail.attachment``: ``notify.attachment_for``), never stored, so a PDF always says
what the stored rows say. Only local files are read: the stylesheets and data: URIs (the QR
code); any other URL in a template is refused, so making a PDF never reaches the network.
WeasyPrint needs Debian's Pango and fonts (``.ci/pdf-packages``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import segno
from flask import current_app, has_request_context, render_template, request
from sqlalchemy import select

from .domain import agreements as service
from .domain import signing
from .domain.policy import agreements as agreement_policy
from .extensions import db
from .models import AGREEMENT_STATUSES, Agreement, Alliance, Invoice, Signature, User

PDF = "application/pdf"


def public_base() -> str:
    """The portal's address for links printed in a PDF: ``PUBLIC_URL``, else the request's."""
    base = current_app.config.get("PUBLIC_URL", "")
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://localhost").rstrip("/")


def verify_url(agreement: Agreement) -> str:
    adapter = current_app.url_map.bind("portal.invalid")
    return public_base() + adapter.build("agreements.verify", {"token": agreement.verify_token})


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as a PNG data: URI (segno, pure Python): sharp at print size, and
    an image a PDF reader can pick out."""
    return segno.make(text, error="m").png_data_uri(scale=8, border=2)


def agreement_context(agreement: Agreement) -> dict[str, Any]:
    """What ``agreements/print.html`` shows for one agreement version (its page and its PDF)."""
    deployment = service.deployment_of(agreement)
    sigs = db.session.scalars(
        select(Signature).where(Signature.agreement_id == agreement.id)
        .order_by(Signature.signed_at, Signature.id)
    ).all()
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_([s.user_id for s in sigs])))} if sigs else {}
    exam = service.examine(agreement)
    return {
        "d": deployment, "agreement": agreement, "AGREEMENT_STATUSES": AGREEMENT_STATUSES,
        "content": agreement.content, "signatures": sigs, "users": users,
        "fingerprint": signing.fingerprint(agreement.content_hash),
        "verify_url": verify_url(agreement), "exam": exam,
        "checkpoint": exam.bundle["checkpoint"],
        "replaced_note": agreement_policy.not_signed_note(agreement),
        "proofs": {s["signature_id"]: s for s in exam.bundle["signatures"]},
        "public_key": exam.bundle["public_key"],
    }


def agreement_filename(agreement: Agreement) -> str:
    deployment = service.deployment_of(agreement)
    return f"agreement-{deployment.reference}-v{agreement.version}.pdf"


def agreement_pdf(agreement: Agreement) -> bytes:
    """The agreement version as a PDF: the printable page, then the certificate page."""
    ctx = agreement_context(agreement)
    ctx["certificate"] = {"qr": qr_data_uri(ctx["verify_url"])}
    return write_pdf(_render("agreements/print.html", layout="pdf/base.html", **ctx))


def invoice_filename(inv: Invoice) -> str:
    kind = "credit-note" if inv.is_credit else "invoice"
    return f"{kind}-{inv.number}.pdf".replace("/", "-")


def invoice_pdf(inv: Invoice) -> bytes:
    """An invoice or credit note as a PDF, the payer's address placed for a window envelope,
    with the payee's bank details, the purchase-order number and the VAT line."""
    from .domain import exports

    alliance = db.session.get_one(Alliance, inv.alliance_id)
    credited = db.session.get(Invoice, inv.credits_invoice_id) if inv.credits_invoice_id \
        else None
    return write_pdf(_render("finance/invoice_pdf.html", inv=inv, alliance=alliance,
                             codes=exports.codes_for(inv.alliance_id),
                             address=exports.payer_address(inv), credited=credited,
                             vat_label=exports.vat_label(inv)))


def _render(template: str, **ctx: Any) -> str:
    """A template rendered in a request (the worker has none: it borrows one for the portal's
    public address, so the templates' globals and links work the same)."""
    if has_request_context():
        return render_template(template, **ctx)
    with current_app.test_request_context("/", base_url=public_base()):
        return render_template(template, **ctx)


# --------------------------------------------------------------------------- WeasyPrint


def _static(name: str) -> str:
    return os.path.join(current_app.static_folder or "static", name)


@lru_cache(maxsize=4)
def _stylesheets(folder: str) -> tuple:
    from weasyprint import CSS

    return tuple(CSS(filename=os.path.join(folder, "css", name))
                 for name in ("pdf.css",))


LOCAL_ONLY = ("data", "file")  # the stylesheets and the QR code; never the network


def _fetcher():
    """WeasyPrint's fetcher, allowed data: and file: URLs only."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint 70+
    except ImportError:  # older: a function, wrapped
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args, **kwargs):
            if not url.startswith(tuple(f"{p}:" for p in LOCAL_ONLY)):
                raise ValueError(f"not fetched while making a PDF: {url[:80]}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols=LOCAL_ONLY)


def write_pdf(html: str) -> bytes:
    from weasyprint import HTML

    folder = current_app.static_folder or "static"
    document = HTML(string=html, base_url=folder + "/", url_fetcher=_fetcher())
    return document.write_pdf(stylesheets=list(_stylesheets(folder)))
