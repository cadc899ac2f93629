"""Money pages: invoices (list, CSV, printable invoice, PDF), payments, credit notes and
refunds, purchase-order numbers, settlement statements, the deployment's money panel, the
alliance's rate card, the Xero and Sage exports and the aged-debt view."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import documents, idempotency
from ..domain import access, charging, exports, finance
from ..domain.access import FINANCE_ROLES, OVERSEERS
from ..domain.errors import Invalid
from ..domain.policy import finance as policy
from ..domain.policy import require
from ..extensions import db
from ..formatting import plural
from ..htmx import render
from ..models import INVOICE_STATUSES, PAYERS, AllowanceUse, Deployment, Invoice, RateCard, School
from ..pagination import paginate
from ..panels import PanelContext
from ..security import roles
from ..unit_of_work import command
from ..validators import int_arg
from .forms import PaymentForm, PONumberForm, RateCardForm

bp = Blueprint("finance", __name__, url_prefix="/finance")


# What the money page says it lists, and what its total is, for each role (display only).
LEDES = {
    "admin": "Every invoice, credit note and supply-cover statement of {alliance}.",
    "director": "Every invoice, credit note and supply-cover statement of {alliance}.",
    "headteacher": "What your school is charged for support, and what it has paid.",
    "home_school": "What your school is owed for releasing its system leaders (supply cover "
                   "and Board grants).",
    "board": "Your Board's grants towards targeted deployments.",
}
OUTSTANDING_LABELS = {"home_school": "Owed to your school"}
REFUND_LABELS = {"headteacher": "Refund due to your school", "board": "Refund due to your Board",
                 "admin": "Refunds due to payers", "director": "Refunds due to payers"}
ALLOWANCE_UNITS = {"good_practice_visit": "half day(s)", "consultation": "hour(s)"}


# ---------------------------------------------------------------------------- invoice lists


def _filters() -> tuple[dict, list]:
    """The filters in the query string (validated) and the matching WHERE clauses."""
    args = request.args
    chosen = {"status": "", "school": "", "year": "", "payer": ""}
    where = [access.invoices_visible_to(current_user)]
    if args.get("status") in INVOICE_STATUSES:
        chosen["status"] = args["status"]
        where.append(Invoice.status == chosen["status"])
    overseer = bool(policy.general(current_user)["filter_by_school"])
    if args.get("payer") in PAYERS and overseer:
        chosen["payer"] = args["payer"]
        where.append(Invoice.payer == chosen["payer"])
    year = int_arg("year", "year", minimum=2000, maximum=2100)
    if year is not None:
        chosen["year"] = str(year)
        where.append(Invoice.academic_year == year)
    sid = int_arg("school", "school")
    if sid is not None and overseer:
        chosen["school"] = str(sid)
        where.append((Invoice.payer_school_id == sid) | (Invoice.payee_school_id == sid))
    return chosen, where


def _list_stmt(where):
    return (
        select(Invoice)
        .where(*where)
        .options(joinedload(Invoice.payer_school), joinedload(Invoice.payee_school),
                 joinedload(Invoice.payer_board), joinedload(Invoice.deployment))
        .order_by(Invoice.sequence.desc(), Invoice.id.desc())
    )


@bp.get("/")
@roles(*FINANCE_ROLES)
def index() -> ResponseReturnValue:
    chosen, where = _filters()
    page = paginate(_list_stmt(where))
    outstanding = db.session.scalar(
        select(func.coalesce(func.sum(
            Invoice.total_pence - Invoice.credited_pence - Invoice.paid_pence), 0))
        .where(*where, Invoice.status.in_(("sent", "part_paid")))
    ) or 0
    # paid beyond what is due after a credit note: owed back to the payer (0 when none)
    refund_due = db.session.scalar(
        select(func.coalesce(func.sum(
            Invoice.paid_pence - Invoice.total_pence + Invoice.credited_pence), 0))
        .where(*where, policy.refunds_due(current_user))
    ) or 0
    years = db.session.scalars(
        select(Invoice.academic_year).distinct()
        .where(access.invoices_visible_to(current_user))
        .order_by(Invoice.academic_year.desc())
    ).all()
    can = policy.general(current_user)
    schools: list[tuple[int, str]] = []
    if can["filter_by_school"]:
        schools = [(sid, name) for sid, name in db.session.execute(
            select(School.id, School.name).where(access.in_network(current_user.alliance_id))
            .order_by(School.name))]
    return render("finance/index.html", "results", page=page, chosen=chosen, years=years,
                  outstanding=outstanding, can=can, lede=LEDES.get(current_user.role, "").format(
                      alliance=current_user.alliance.short_name),
                  outstanding_label=OUTSTANDING_LABELS.get(current_user.role, "Outstanding"),
                  refund_due=refund_due,
                  refund_label=REFUND_LABELS.get(current_user.role, "Refunds due"),
                  schools=schools, statuses=INVOICE_STATUSES, payers=PAYERS,
                  year_label=charging.academic_year_label)


def _csv_safe(value) -> str:
    """Stop a spreadsheet reading a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/invoices.csv")
@roles(*OVERSEERS)
def export_csv() -> ResponseReturnValue:
    _chosen, where = _filters()
    stmt = _list_stmt(where).execution_options(yield_per=500)

    def pounds(p: int) -> str:
        sign = "-" if p < 0 else ""
        whole, pence = divmod(abs(p), 100)
        return f"{sign}{whole}.{pence:02d}"

    def line(texts, amounts=()) -> str:
        # amounts are numbers we format, so a spreadsheet sums them (a minus sign kept as is)
        buffer = io.StringIO()
        csv.writer(buffer).writerow([*(_csv_safe(x) for x in texts), *amounts])
        return buffer.getvalue()

    def rows():
        # streamed in batches, so a national-scale export never sits in memory at once
        yield line(["Number", "Type", "Status", "Deployment", "Payer", "Paid to", "Issued",
                    "Due", "Academic year", "Total (£)", "Credited (£)", "Paid (£)",
                    "Balance (£)", "Refund due (£)"])
        for inv in db.session.scalars(stmt):
            # a credit note counts against the total (negative), so the Total column sums to
            # what is charged; Total - Paid == Balance - Refund due, column by column
            yield line((
                inv.number, "Credit note" if inv.is_credit else "Invoice", inv.status_label,
                inv.deployment.reference if inv.deployment else "", payer_name(inv),
                payee_name(inv), inv.issued_on.isoformat() if inv.issued_on else "",
                inv.due_on.isoformat() if inv.due_on else "",
                charging.academic_year_label(inv.academic_year) if inv.academic_year else ""),
                (pounds(-inv.total_pence if inv.is_credit else inv.total_pence),
                 pounds(inv.credited_pence), pounds(inv.paid_pence),
                 pounds(0 if inv.is_credit else inv.balance_pence),
                 pounds(inv.refund_due_pence)))

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response


def payer_name(inv: Invoice) -> str:
    if inv.payer == "school":
        return inv.payer_school.name if inv.payer_school else "Receiving school"
    if inv.payer == "board":
        return inv.payer_board.name if inv.payer_board else "The Board"
    return "The Teaching School"


def payee_name(inv: Invoice) -> str:
    return inv.payee_school.name if inv.payee_school else "The Teaching School"


@bp.app_template_global("invoice_payer")
def _payer_global(inv):
    return payer_name(inv)


@bp.app_template_global("invoice_payee")
def _payee_global(inv):
    return payee_name(inv)


@bp.app_template_global("vat_label")
def _vat_label(rate_bp):
    return charging.vat_label(rate_bp)


# ---------------------------------------------------------------------------- one invoice


def _load(invoice_id: int, *, lock: bool = False) -> Invoice:
    inv = access.get_invoice(current_user, invoice_id)
    if lock:
        # PostgreSQL: a second click waits here, then sees the first one's change (SQLite's
        # BEGIN IMMEDIATE already queues writers). The version column catches anything else.
        db.session.refresh(inv, with_for_update=True)
    return inv


def _show(inv: Invoice, *, form: PaymentForm | None = None, po_form: PONumberForm | None = None,
          status: int = 200) -> ResponseReturnValue:
    related = db.session.scalars(
        select(Invoice).where(
            access.invoices_visible_to(current_user),
            (Invoice.credits_invoice_id == inv.id) | (Invoice.id == inv.credits_invoice_id))
        .order_by(Invoice.sequence)
    ).all()
    payments = sorted(inv.payments, key=lambda p: (p.received_on, p.id))
    # load here what the page shows, so the template never queries
    _loaded = (inv.lines, inv.payer_school, inv.payee_school, inv.payer_board,
               inv.deployment.request if inv.deployment else None)
    body = render("finance/show.html", inv=inv, related=related, payments=payments,
                  form=form or PaymentForm(formdata=None), can=policy.actions(inv, current_user),
                  po_form=po_form or PONumberForm(formdata=None, po_number=inv.po_number,
                                                  version=inv.version),
                  vat_label=charging.vat_label(inv.vat_rate_bp),
                  address=exports.payer_address(inv),
                  alliance=inv.deployment.alliance if inv.deployment else current_user.alliance)
    return body, status


@bp.get("/invoices/<id:invoice_id>")
@roles(*FINANCE_ROLES)
def show(invoice_id: int) -> ResponseReturnValue:
    return _show(_load(invoice_id))


@bp.get("/invoices/<id:invoice_id>.pdf")
@roles(*FINANCE_ROLES)
def pdf(invoice_id: int) -> ResponseReturnValue:
    """The invoice or credit note as a PDF, for whoever may see it (404 otherwise)."""
    inv = _load(invoice_id)
    response = Response(documents.invoice_pdf(inv), mimetype=documents.PDF)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{documents.invoice_filename(inv)}"')
    return response


@bp.post("/invoices/<id:invoice_id>/po-number")
@roles(*FINANCE_ROLES)
def po_number(invoice_id: int) -> ResponseReturnValue:
    """Record the payer's purchase-order number (the payer, co-ordinator or director)."""
    inv = _load(invoice_id, lock=True)
    form = PONumberForm()
    if not form.validate():
        return _show(inv, po_form=form, status=422)
    if form.version.data is not None and form.version.data != inv.version:
        form.po_number.errors = ["Someone else has just changed this invoice: check it, then "
                                 "save again."]
        return _show(inv, po_form=form, status=409)
    try:
        with command():
            finance.set_po_number(inv, form.po_number.data or "", current_user,
                                  ip=request.remote_addr or "")
    except Invalid as exc:
        exc.show_on(form)
        return _show(_load(invoice_id), po_form=form, status=422)
    return _done(inv, f"Purchase-order number saved on {inv.number}.")


def _done(inv: Invoice, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("finance.show", invoice_id=inv.id), 303)


@bp.post("/invoices/<id:invoice_id>/send")
@roles(*OVERSEERS)
def send(invoice_id: int) -> ResponseReturnValue:
    inv = _load(invoice_id, lock=True)
    finance.mark_sent(inv, current_user, ip=request.remote_addr or "")
    return _done(inv, f"{inv.number} marked as sent.")


@bp.post("/invoices/<id:invoice_id>/payments")
@roles(*OVERSEERS)
def pay(invoice_id: int) -> ResponseReturnValue:
    inv = _load(invoice_id, lock=True)
    form = PaymentForm()
    if (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one payment
    if not form.validate() or form.amount.data is None:  # InputRequired: None did not validate
        return _show(inv, form=form, status=422)
    try:
        with command():
            finance.record_payment(inv, form.amount.data, current_user,
                                   received_on=form.received_on.data,
                                   reference=form.reference.data or "",
                                   ip=request.remote_addr or "")
    except Invalid as exc:
        exc.show_on(form)
        return _show(_load(invoice_id), form=form, status=422)
    idempotency.created(url_for("finance.show", invoice_id=inv.id), inv)
    return _done(inv, f"Payment recorded against {inv.number}.")


@bp.post("/invoices/<id:invoice_id>/paid")
@roles(*OVERSEERS)
def mark_paid(invoice_id: int) -> ResponseReturnValue:
    inv = _load(invoice_id, lock=True)
    require(policy.invoice_actions(inv, current_user)["mark_paid"],
            not_now=finance.InvoiceStateError)
    finance.record_payment(inv, inv.balance_pence, current_user, received_on=date.today(),
                           reference="Marked paid", ip=request.remote_addr or "")
    return _done(inv, f"{inv.number} marked as paid.")


@bp.post("/invoices/<id:invoice_id>/refund")
@roles(*OVERSEERS)
def refund(invoice_id: int) -> ResponseReturnValue:
    inv = _load(invoice_id, lock=True)
    finance.record_refund(inv, current_user, on=date.today(), ip=request.remote_addr or "")
    return _done(inv, f"Refund recorded on {inv.number}.")


# ---------------------------------------------------------------------------- deployments


def _deployment_invoices(deployment_id: int) -> list[Invoice]:
    return list(db.session.scalars(
        select(Invoice)
        .where(Invoice.deployment_id == deployment_id, access.invoices_visible_to(current_user))
        .options(joinedload(Invoice.payer_school), joinedload(Invoice.payee_school),
                 joinedload(Invoice.payer_board))
        .order_by(Invoice.sequence)
    ).all())


@bp.get("/deployments/<id:deployment_id>/settlement")
@roles(*FINANCE_ROLES)
def settlement(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id)
    if not policy.view_settlement(d, current_user):
        abort(404)  # the statement exists only for an early end
    invoices = _deployment_invoices(d.id)
    return render("finance/settlement.html", d=d,
                  st=finance.statement(d, invoices), labels=charging.PARTY_LABELS)


@bp.post("/deployments/<id:deployment_id>/invoices")
@roles(*OVERSEERS)
def raise_in_advance(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id)
    created = finance.raise_in_advance(d, current_user, ip=request.remote_addr or "")
    if created:
        flash(f"{plural(len(created), 'invoice')} raised in advance.", "success")
    else:
        flash("Nothing was invoiced: your alliance has no rates to price it with.", "error")
    return redirect(url_for("deployments.show", deployment_id=d.id) + "#panel-finance", 303)


def finance_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    deployment, user = ctx.obj, ctx.user
    if not policy.general(user)["view_invoices"]:
        return None
    invoices = _deployment_invoices(deployment.id)
    overseer = bool(policy.general(user)["export"])  # sees every invoice of the alliance
    can = policy.deployment_actions(
        deployment, user, invoiced=any(not i.is_credit and i.status != "void" for i in invoices))
    closed = deployment.status in ("completed", "ended_early")
    if not invoices and not (can["raise_in_advance"] or (overseer and closed)):
        return None
    return {
        "no_card": overseer and not invoices
        and finance.current_rate_card(deployment.alliance_id) is None,
        "invoices": invoices,
        "can": can,
        "deployment": deployment,
    }


# ---------------------------------------------------------------------------- rate card


@bp.get("/rates")
@roles(*OVERSEERS)
def rates() -> ResponseReturnValue:
    cards = db.session.scalars(
        select(RateCard).where(access.rate_cards_visible_to(current_user))
        .order_by(RateCard.effective_from.desc(), RateCard.id.desc())
    ).all()
    current = finance.current_rate_card(current_user.alliance_id)
    year = charging.academic_year(date.today())
    allowances = db.session.execute(
        select(School.name, AllowanceUse.kind, func.sum(AllowanceUse.units),
               func.sum(AllowanceUse.charged_pence))
        .join(School, School.id == AllowanceUse.school_id)
        .where(access.in_network(current_user.alliance_id), AllowanceUse.academic_year == year)
        .group_by(School.name, AllowanceUse.kind)
        .order_by(School.name, AllowanceUse.kind)
    ).all()
    return render("finance/rates.html", cards=cards, current=current,
                  designations=charging.DESIGNATION_LABELS, allowances=allowances,
                  year_label=charging.academic_year_label(year), kinds=charging.KIND_LABELS,
                  units=ALLOWANCE_UNITS, can=policy.general(current_user))


@bp.route("/rates/new", methods=["GET", "POST"])
@roles("admin")
def rate_new() -> ResponseReturnValue:
    require(policy.general(current_user)["new_rate_card"])
    current = finance.current_rate_card(current_user.alliance_id)
    form = RateCardForm()
    if request.method == "GET":
        if current is not None:
            form.fill_from(current)
        form.effective_from.data = date.today()
        return render("finance/rate_form.html", form=form, current=current)
    if (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one new rate card
    if form.validate():
        try:
            with command():
                card = finance.new_rate_card(current_user.alliance_id, current_user,
                                             effective_from=form.effective_from.data,
                                             ip=request.remote_addr or "", **form.amounts())
        except Invalid as exc:
            form.show(exc)
        else:
            idempotency.created(url_for("finance.rates"), card)
            flash("New rates saved. Deployments already agreed keep their rates.", "success")
            return redirect(url_for("finance.rates"), 303)
    return render("finance/rate_form.html", form=form, current=current), 422


# ---------------------------------------------------------------------------- exports


EXPORTS = {"xero": (exports.xero_rows, "xero-sales-invoices"),
           "sage": (exports.sage_rows, "sage-audit-trail")}


@bp.get("/export/xero.csv")
@roles(*OVERSEERS)
def export_xero() -> ResponseReturnValue:
    """Line-level invoices and credit notes in Xero's sales-invoice import layout."""
    return _export("xero")


@bp.get("/export/sage.csv")
@roles(*OVERSEERS)
def export_sage() -> ResponseReturnValue:
    """Line-level invoices and credit notes in Sage 50's audit-trail import layout."""
    return _export("sage")


def _export(layout: str) -> ResponseReturnValue:
    """An export with the list's filters (a year, a school ...), streamed row by row."""
    require(policy.general(current_user)["export"])
    _chosen, where = _filters()
    kind = request.args.get("kind", "all")
    if kind not in ("all", "invoice", "credit"):
        kind = "all"
    make_rows, name = EXPORTS[layout]
    codes = exports.codes_for(current_user.alliance_id)

    def body():
        yield from exports.csv_stream(make_rows(exports.export_rows(where, kind), codes))

    response = Response(stream_with_context(body()), mimetype="text/csv")
    year = _chosen["year"] or "all"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{year}.csv"'
    return response


@bp.get("/aged-debt")
@roles(*OVERSEERS)
def aged_debt() -> ResponseReturnValue:
    """What each payer still owes, by how long it is overdue (current, 30, 60, 90, 90+)."""
    require(policy.general(current_user)["aged_debt"])
    from ..formatting import london_today

    today = london_today()
    rows, total = exports.aged_debt([access.invoices_visible_to(current_user)], today)
    return render("finance/aged_debt.html", rows=rows, total=total, bands=exports.AGE_BANDS,
                  today=today)
