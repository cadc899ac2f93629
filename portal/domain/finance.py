"""Invoices, credit notes, payments and free allowances: the database side of charging.

The rules live in :mod:`portal.domain.charging` (pure functions over integer pence). This module
turns a deployment into invoice rows, inside the caller's transaction (the caller commits once).

Who pays whom, for a deployment or commission priced with :func:`charging.quote`:

* each **receiving school** is invoiced by the Teaching School (the alliance) for its share of the
  commission cost after any Board subsidy, plus its share of the brokerage fee;
* the **Board** (on a subsidised, Board-targeted deployment) is invoiced for its grant and any
  concession, payable to the system leader's **home school**;
* the Teaching School passes on to the **home school** what the schools paid towards the
  commission (a statement with payer ``teaching_school``), so the home school receives the whole
  commission cost as supply cover and the Teaching School keeps only the brokerage fee::

      school invoices + Board invoice == home-school statement + Board invoice + brokerage fee

Good-practice visits and one-off consultations are priced with their own all-in prices after the
school's free allowance for the academic year (tracked in :class:`AllowanceUse`).

Numbers are gapless per alliance: :func:`next_number` bumps a counter row whose row lock is held
until the transaction ends, so concurrent transactions queue, and a rolled-back transaction rolls
its number back with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text

from ..extensions import db
from ..formatting import plural
from ..models import (
    PO_NUMBER_MAX,
    Agreement,
    AllowanceUse,
    Board,
    Deployment,
    Invoice,
    InvoiceLine,
    Payment,
    RateCard,
    User,
    utcnow,
)
from . import audit, charging, errors, notify, workflow
from .policy import finance as policy
from .policy import require

DUE_DAYS = 30  # the default; each alliance may set its own (alliance_settings)


def payment_terms(alliance_id: int) -> int:
    """Days from issue to the due date, per alliance (``alliance_settings``)."""
    from .reminders import settings_for

    return settings_for(alliance_id).payment_terms_days

log = logging.getLogger("portal.finance")

ALLOWANCE_KINDS = ("good_practice_visit", "consultation")


class PaymentRefused(errors.Invalid):
    """A payment that would break a rule; the message is shown beside the amount field."""

    def __init__(self, message: str):
        super().__init__(message, field="amount")


class InvoiceStateError(errors.NotNow, ValueError):
    """The invoice cannot do that in its current status (answered 409)."""


# --------------------------------------------------------------------------------------------
# Rate cards
# --------------------------------------------------------------------------------------------


def to_card(row: RateCard) -> charging.RateCard:
    """The pure charging card for a stored rate-card version."""
    return charging.RateCard(
        model=row.model,
        day_rates={
            "nle": row.nle_day_pence,
            "lle": row.lle_day_pence,
            "slt": row.slt_day_pence,
            "sle": row.sle_day_pence,
            "non_sle": row.non_sle_day_pence,
        },
        brokerage_bp=row.brokerage_bp,
        board_grant_day=row.board_grant_day_pence,
        board_school_day=row.board_school_day_pence,
        gpv_half_day=row.gpv_half_day_pence,
        gpv_free_per_year=row.gpv_free_per_year,
        consult_hour=row.consult_hour_pence,
        consult_free_hours=row.consult_free_hours,
    )


def current_rate_card(alliance_id: int, on: date | None = None) -> RateCard | None:
    """The version of the alliance's card in force on ``on`` (today by default): the latest
    ``effective_from`` on or before it, the newest row winning a tie."""
    on = on or date.today()
    return db.session.scalar(
        select(RateCard)
        .where(RateCard.alliance_id == alliance_id, RateCard.effective_from <= on)
        .order_by(RateCard.effective_from.desc(), RateCard.id.desc())
        .limit(1)
    )


def rate_card_for(deployment: Deployment) -> RateCard:
    """The card the deployment was agreed at. A deployment with none recorded is pinned to the
    card in force when it was confirmed (or proposed), so later edits never change it."""
    if deployment.rate_card_id is not None:
        row = db.session.get(RateCard, deployment.rate_card_id)
        if row is not None:
            return row
    stamp = deployment.confirmed_at or deployment.proposed_at or utcnow()
    row = current_rate_card(deployment.alliance_id, stamp.date())
    if row is None:  # a card effective only later than the deployment: use the earliest
        row = db.session.scalar(
            select(RateCard).where(RateCard.alliance_id == deployment.alliance_id)
            .order_by(RateCard.effective_from, RateCard.id).limit(1)
        )
    if row is None:
        raise LookupError(f"alliance {deployment.alliance_id} has no rate card")
    deployment.rate_card_id = row.id
    return row


def new_rate_card(alliance_id: int, actor: User, *, effective_from: date, ip: str = "",
                  **amounts: int | None) -> RateCard:
    """Add a new version of the alliance's card. Old versions are never changed, and a new one
    starts today or later, so no charge already agreed moves. The co-ordinator's, for their own
    alliance (``policy.finance.general``)."""
    require(policy.general(actor)["new_rate_card"])
    if alliance_id != actor.alliance_id:
        raise errors.Forbidden("You change only your own alliance's rates.")
    if effective_from < date.today():
        raise errors.Invalid("The new rates must start today or later, so no agreed charge "
                             "changes", field="effective_from")
    try:
        charging.check_vat_rate(amounts.get("vat_rate_bp"))
    except ValueError as exc:
        raise errors.Invalid(str(exc), field="vat_rate_bp") from exc
    previous = current_rate_card(alliance_id, effective_from)
    model = previous.model if previous else actor.alliance.charging_model
    row = RateCard(alliance_id=alliance_id, model=model, effective_from=effective_from,
                   created_by_id=actor.id, **amounts)
    try:
        to_card(row)  # validates
    except ValueError as exc:  # the amounts break a charging rule: say which beside its field
        raise errors.Invalid(str(exc), field=rule_field(str(exc))) from exc
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "rate_card.created", row, detail={
        "effective_from": effective_from.isoformat(), **amounts,
        "replaces": previous.id if previous else None}, ip=ip)
    return row


def rule_field(message: str) -> str:
    """Which amount (keyword of :func:`new_rate_card`) a broken charging rule belongs beside."""
    lowered = message.lower()
    if "school share" in lowered:
        return "board_school_day_pence"
    if "board grant" in lowered:
        return "board_grant_day_pence"
    if "brokerage" in lowered:
        return "brokerage_bp"
    for name in ("non_sle", "nle", "lle", "slt", "sle"):
        if f"for {name}" in lowered:
            return f"{name}_day_pence"
    return "effective_from"


# --------------------------------------------------------------------------------------------
# Numbering
# --------------------------------------------------------------------------------------------


def next_number(alliance_id: int) -> int:
    """The alliance's next invoice number, gapless and unique under concurrency.

    The counter row is created once (``ON CONFLICT DO NOTHING`` lets two first invoices race
    safely) and then bumped with ``UPDATE ... RETURNING``, which holds its row lock until commit
    (PostgreSQL) or runs under the write lock taken by ``BEGIN IMMEDIATE`` (SQLite).
    """
    db.session.execute(
        text("INSERT INTO invoice_counter (alliance_id, last_number) VALUES (:a, 0) "
             "ON CONFLICT (alliance_id) DO NOTHING"),
        {"a": alliance_id},
    )
    return db.session.execute(
        text("UPDATE invoice_counter SET last_number = last_number + 1 "
             "WHERE alliance_id = :a RETURNING last_number"),
        {"a": alliance_id},
    ).scalar_one()


def format_number(alliance_id: int, sequence: int, *, credit: bool = False) -> str:
    return f"{'CN' if credit else 'INV'}-{alliance_id}-{sequence:05d}"


# --------------------------------------------------------------------------------------------
# Planning the invoices of a deployment
# --------------------------------------------------------------------------------------------


@dataclass
class PlannedInvoice:
    """One invoice to raise: who pays, who is paid, and its lines (description, pence)."""

    payer: str
    payer_school_id: int | None = None
    payer_board_id: int | None = None
    payee_school_id: int | None = None
    lines: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.payer, self.payer_school_id, self.payer_board_id, self.payee_school_id)

    @property
    def total(self) -> int:
        return sum(amount for _d, amount in self.lines)


def invoice_key(inv: Invoice) -> tuple:
    return (inv.payer, inv.payer_school_id, inv.payer_board_id, inv.payee_school_id)


def receiving_school_ids(deployment: Deployment) -> list[int]:
    return [rs.school_id for rs in deployment.request.schools]


def board_for(deployment: Deployment) -> int | None:
    """The Board that targeted the deployment; failing that, the alliance's Board for the phase."""
    if deployment.request.board_id:
        return deployment.request.board_id
    return db.session.scalar(
        select(Board.id).where(Board.alliance_id == deployment.alliance_id)
        .order_by((Board.phase == deployment.request.phase).desc(), Board.id).limit(1)
    )


def terms(deployment: Deployment) -> dict:
    """The agreed terms, as keyword arguments for :func:`charging.quote`."""
    return {
        "targeted": bool(deployment.targeted),
        "concession_day": deployment.concession_day_pence or 0,
        "schools": max(1, len(receiving_school_ids(deployment))),
    }


def quote_for(deployment: Deployment, half_days: int) -> charging.Quote:
    """The charge for ``half_days`` of the deployment on its agreed card (0 half days: nothing)."""
    card = to_card(rate_card_for(deployment))
    agreed = max(deployment.half_days_agreed, half_days, 1)
    return charging.settle_early_end(card, deployment.designation, agreed, half_days,
                                     **terms(deployment)).delivered


def plan(deployment: Deployment, half_days: int) -> list[PlannedInvoice]:
    """The invoices for ``half_days`` of a deployment (not yet saved); empty amounts left out."""
    q = quote_for(deployment, half_days)
    schools = receiving_school_ids(deployment)
    n = max(1, len(schools))
    duration = charging.describe_half_days(half_days)
    label = charging.DESIGNATION_LABELS[deployment.designation]
    card = to_card(rate_card_for(deployment))
    out: list[PlannedInvoice] = []
    for school_id, (commission_share, fee_share) in zip(
            schools, charging.invoice_shares(q), strict=True):
        inv = PlannedInvoice("school", payer_school_id=school_id)
        shared = f" (your share of {n} schools)" if n > 1 else ""
        if commission_share:
            per = (f"{charging.format_pence(q.day_rate)} a day less the Board's share"
                   if q.subsidised else f"{charging.format_pence(q.day_rate)} a day")
            inv.lines.append((f"{duration} of {label} support at {per}{shared}",
                              commission_share))
        if fee_share:
            inv.lines.append((f"Brokerage fee to the Teaching School: "
                              f"{card.brokerage_bp / 100:g}% of the "
                              f"{charging.format_pence(q.commission_cost)} commission cost{shared}",
                              fee_share))
        if inv.lines:
            out.append(inv)
    if q.board_pays:
        board = PlannedInvoice("board", payer_board_id=board_for(deployment),
                               payee_school_id=deployment.home_school_id)
        board.lines = [(line.description, line.amount) for line in q.lines_for("board")]
        out.append(board)
    passed_on = q.home_school_receives - q.board_pays
    if passed_on:
        out.append(PlannedInvoice("teaching_school", payee_school_id=deployment.home_school_id,
                                  lines=[(f"Supply cover for {duration} of release of "
                                          f"{deployment.leader.name} ({label}), paid on from the "
                                          "receiving school(s)", passed_on)]))
    return out


def lock_deployment(deployment: Deployment) -> None:
    db.session.execute(
        select(Deployment.id).where(Deployment.id == deployment.id).with_for_update()
    )


def charge_invoices(deployment_id: int):
    """Invoices (not credit notes, not void) raised for a deployment, oldest first."""
    return db.session.scalars(
        select(Invoice).where(Invoice.deployment_id == deployment_id,
                              Invoice.status.not_in(("credit", "void")))
        .order_by(Invoice.sequence)
    ).all()


def _save(deployment: Deployment, planned: PlannedInvoice, actor: User | None, *,
          today: date, note: str, ip: str = "") -> Invoice:
    seq = next_number(deployment.alliance_id)
    inv = Invoice(
        number=format_number(deployment.alliance_id, seq), sequence=seq,
        alliance_id=deployment.alliance_id, deployment_id=deployment.id, payer=planned.payer,
        payer_school_id=planned.payer_school_id, payer_board_id=planned.payer_board_id,
        payee_school_id=planned.payee_school_id, status="draft", issued_on=today,
        due_on=today + timedelta(days=payment_terms(deployment.alliance_id)),
        academic_year=charging.academic_year(today), note=note,
        vat_rate_bp=vat_rate_for(deployment),
    )
    set_lines(inv, planned.lines)
    db.session.add(inv)
    db.session.flush()
    audit.record(actor, "invoice.raised", inv, detail={
        "number": inv.number, "payer": inv.payer, "total_pence": inv.total_pence,
        "deployment": deployment.reference}, ip=ip)
    return inv


def vat_rate_for(deployment: Deployment) -> int | None:
    """The VAT treatment of the rate card the deployment was agreed at (None: outside scope)."""
    try:
        return rate_card_for(deployment).vat_rate_bp
    except LookupError:
        return None


def gross(lines: list[tuple[str, int]], rate_bp: int | None) -> int:
    """What ``(description, net pence)`` lines come to with VAT, line by line."""
    return sum(a + charging.vat_on(a, rate_bp) for _d, a in lines)


def set_lines(inv: Invoice, lines: list[tuple[str, int]]) -> None:
    """Give ``inv`` these ``(description, net pence)`` lines, each with its VAT at the
    invoice's rate (half up, per line), and totals that are exactly the sum of the lines."""
    inv.lines = [InvoiceLine(position=i, description=d[:300], quantity=1, unit="item",
                             unit_pence=a, amount_pence=a,
                             vat_pence=charging.vat_on(a, inv.vat_rate_bp))
                 for i, (d, a) in enumerate(lines)]
    inv.vat_pence = sum(line.vat_pence for line in inv.lines)
    inv.total_pence = sum(line.amount_pence for line in inv.lines) + inv.vat_pence


def set_po_number(inv: Invoice, po_number: str, actor: User, *, ip: str = "") -> None:
    """Record the payer's purchase-order number against an invoice (an overseer's, for an
    invoice not void; a credit note takes its invoice's). Checked: printable, at most
    :data:`PO_NUMBER_MAX` characters."""
    require(policy.invoice_actions(inv, actor)["set_po_number"], not_now=InvoiceStateError)
    value = check_po_number(po_number)
    if value == inv.po_number:
        return
    before = inv.po_number
    inv.po_number = value
    db.session.flush()
    audit.record(actor, "invoice.po_number", inv, detail={
        "number": inv.number, "po_number": value, "was": before}, ip=ip)


def check_po_number(value: str) -> str:
    """A purchase-order number as stored, or :class:`errors.Invalid` beside its field."""
    text = " ".join((value or "").split())
    if len(text) > PO_NUMBER_MAX:
        raise errors.Invalid(f"A purchase-order number is at most {PO_NUMBER_MAX} characters.",
                             field="po_number")
    if any(not (ch.isprintable() and ord(ch) < 0x2000) for ch in text):
        raise errors.Invalid("A purchase-order number is letters, digits, spaces and "
                             "punctuation only.", field="po_number")
    return text


ADVANCE_STATUSES = policy.ADVANCE_STATUSES


def raise_in_advance(deployment: Deployment, actor: User, *, ip: str = "") -> list[Invoice]:
    """Raise the deployment's invoices now, for the half days agreed (days not delivered are
    credited later). Refused (``NotNow``) outside :data:`ADVANCE_STATUSES` and once invoices
    exist (checked under the deployment's row lock, so two clicks raise once)."""
    lock_deployment(deployment)
    require(policy.deployment_actions(deployment, actor,
                                      invoiced=bool(charge_invoices(deployment.id)))
            ["raise_in_advance"])
    return raise_invoices(
        deployment, actor, half_days=deployment.half_days_agreed,
        note="Raised in advance for the days agreed; any days not delivered are credited.",
        ip=ip)


def raise_invoices(deployment: Deployment, actor: User | None = None, *,
                   half_days: int | None = None, today: date | None = None,
                   note: str = "", ip: str = "") -> list[Invoice]:
    """Raise the invoices for a deployment: by default for the half days delivered (or, when
    none were logged, the half days agreed). Does nothing if invoices exist already.

    The deployment's row is locked first (PostgreSQL; SQLite's write lock already serialises),
    so two requests raising at once cannot both find none and raise twice."""
    lock_deployment(deployment)
    if charge_invoices(deployment.id):
        return []
    today = today or date.today()
    if half_days is None:
        half_days = deployment.half_days_delivered or deployment.half_days_agreed
    try:
        card = to_card(rate_card_for(deployment))
    except LookupError:
        # Nothing to price with: leave the deployment uninvoiced (the money panel says so to the
        # co-ordinator) rather than fail the sign-off that completed it.
        log.warning("no invoices for %s: alliance %s has no rate card", deployment.reference,
                    deployment.alliance_id)
        return []
    if uses_allowance(deployment, card):
        planned = _plan_allowance_work(deployment, half_days, today)
    else:
        planned = plan(deployment, half_days) if half_days else []
    saved = [_save(deployment, p, actor, today=today, note=note, ip=ip) for p in planned]
    if saved:
        _tell_admins(deployment, f"{plural(len(saved), 'invoice')} raised for "
                     f"{deployment.reference}: check and send them", "/finance/?status=draft")
    return saved


def _tell_admins(deployment: Deployment, message: str, url: str = "/finance/") -> None:
    admins = db.session.scalars(select(User).where(
        User.alliance_id == deployment.alliance_id, User.role == "admin")).all()
    notify.notify(admins, message, url)


def uses_allowance(deployment: Deployment, card: charging.RateCard) -> bool:
    """A good-practice visit or consultation on a card that prices them (Sefton). On a card that
    does not (East Sussex), the work is charged like any deployment, at the day rate."""
    kind = deployment.request.kind
    if kind == "good_practice_visit":
        return charging.offers_good_practice_visits(card)
    if kind == "consultation":
        return charging.offers_consultations(card)
    return False


# --------------------------------------------------------------------------------------------
# Free allowances: good-practice visits and consultations
# --------------------------------------------------------------------------------------------


def allowance_used(school_id: int, year: int, kind: str) -> int:
    """Units (half days of visits, hours of consultation) a school has had in a year."""
    return db.session.scalar(
        select(func.coalesce(func.sum(AllowanceUse.units), 0)).where(
            AllowanceUse.school_id == school_id, AllowanceUse.academic_year == year,
            AllowanceUse.kind == kind)
    ) or 0


def use_allowance(card: charging.RateCard, school_id: int, kind: str, units: int, *,
                  on: date, deployment_id: int | None = None) -> AllowanceUse:
    """Record a visit or consultation for a school and price it after its free allowance.

    Each use takes the next place (``seq``) for the school, year and kind; a unique constraint on
    that place means two uses at once cannot both take the free one: the second transaction
    fails to commit (:class:`workflow.Conflict`) and nothing of it is saved.
    """
    if kind not in ALLOWANCE_KINDS:
        raise ValueError(f"no allowance for {kind!r}")
    year = charging.academic_year(on)
    prior = allowance_used(school_id, year, kind)
    places = db.session.scalar(
        select(func.count()).select_from(AllowanceUse).where(
            AllowanceUse.school_id == school_id, AllowanceUse.academic_year == year,
            AllowanceUse.kind == kind)
    ) or 0
    if kind == "good_practice_visit":
        charge = charging.good_practice_visit_charge(card, prior, units)
    else:
        charge = charging.consultation_charge(card, prior, units)
    use = AllowanceUse(school_id=school_id, academic_year=year, kind=kind, units=units,
                       seq=places + 1, charged_pence=charge, deployment_id=deployment_id)
    db.session.add(use)
    db.session.flush()
    return use


def consultation_hours(deployment: Deployment) -> int:
    """The hours a one-off consultation was asked for (one, for a request made before the
    portal recorded hours)."""
    return deployment.request.hours_wanted or 1


def _plan_allowance_work(deployment: Deployment, half_days: int,
                         today: date) -> list[PlannedInvoice]:
    """A good-practice visit (``half_days``) or a one-off consultation (its hours) for each
    receiving school."""
    card = to_card(rate_card_for(deployment))
    kind = deployment.request.kind
    on = deployment.last_day_delivered or today
    out = []
    for school_id in receiving_school_ids(deployment):
        units = max(1, half_days) if kind == "good_practice_visit" \
            else consultation_hours(deployment)
        before = allowance_used(school_id, charging.academic_year(on), kind)
        use = use_allowance(card, school_id, kind, units, on=on, deployment_id=deployment.id)
        if kind == "good_practice_visit":
            what = f"Good-practice visit, {charging.describe_half_days(units)}"
            free = max(0, card.gpv_free_per_year - before)
        else:
            what = f"One-off consultation, {plural(units, 'hour')}"
            free = max(0, card.consult_free_hours - before)
        year = charging.academic_year_label(charging.academic_year(on))
        note = f" ({min(free, units)} free under the {year} allowance)" if free else ""
        inv = PlannedInvoice("school", payer_school_id=school_id,
                             lines=[(what + note, use.charged_pence)])
        if use.charged_pence:
            out.append(inv)
    return out


# --------------------------------------------------------------------------------------------
# Early end: settle, credit notes, refunds
# --------------------------------------------------------------------------------------------


@dataclass
class Statement:
    """A settlement statement for a deployment that ended early."""

    settlement: charging.Settlement | None
    invoices: list[Invoice]
    credit_notes: list[Invoice]


def paid_by_party(deployment_id: int) -> dict[str, int]:
    out = {"school": 0, "board": 0}
    for inv in charge_invoices(deployment_id):
        if inv.payer in out:
            out[inv.payer] += inv.paid_pence
    return out


def credit_note(inv: Invoice, amount: int, actor: User | None, *, today: date, reason: str,
                ip: str = "") -> Invoice:
    """Reduce a sent invoice by ``amount`` with a credit note (a new numbered document the payer
    receives); whatever was paid beyond what is now due shows as a refund due on the invoice.

    Never against a draft (the payer has not seen it: :func:`amend_draft` corrects it in place),
    a credit note or a void invoice, and never more than is still due on it."""
    if inv.status == "draft":
        raise InvoiceStateError(f"{inv.number} is a draft and has not been sent: correct the "
                                "draft instead of raising a credit note against it.")
    if inv.status in policy.NO_PAYMENTS:
        raise InvoiceStateError(f"{inv.number} is a {inv.status_label.lower()} and takes no "
                                "credit note.")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= inv.net_pence:
        raise errors.Invalid(f"A credit note is for more than £0.00 and at most the "
                             f"{charging.format_pence(inv.net_pence)} due on {inv.number}.",
                             field="amount")
    seq = next_number(inv.alliance_id)
    cn = Invoice(
        number=format_number(inv.alliance_id, seq, credit=True), sequence=seq,
        alliance_id=inv.alliance_id, deployment_id=inv.deployment_id, payer=inv.payer,
        payer_school_id=inv.payer_school_id, payer_board_id=inv.payer_board_id,
        payee_school_id=inv.payee_school_id, status="credit", issued_on=today, due_on=None,
        academic_year=charging.academic_year(today),
        credits_invoice_id=inv.id, note=reason, vat_rate_bp=inv.vat_rate_bp,
        po_number=inv.po_number,
    )
    # the amount is what comes off the invoice, VAT included: split into its net and VAT
    net = charging.net_of(amount, inv.vat_rate_bp)
    cn.lines = [InvoiceLine(position=0, description=f"Credit against {inv.number}: {reason}"[:300],
                            quantity=1, unit="item", unit_pence=net, amount_pence=net,
                            vat_pence=amount - net)]
    cn.vat_pence, cn.total_pence = amount - net, amount
    db.session.add(cn)
    inv.credited_pence += amount
    if inv.net_pence == 0 and inv.paid_pence == 0:
        inv.status = "void"  # nothing left to pay and nothing to return
    _refresh_status(inv)
    db.session.flush()
    audit.record(actor, "invoice.credited", inv, detail={
        "credit_note": cn.number, "amount_pence": amount, "refund_due_pence":
        inv.refund_due_pence}, ip=ip)
    if inv.sent_at is not None:  # the payer has the invoice: they hear of what changed it
        refund = (f"; {charging.format_pence(inv.refund_due_pence)} will be refunded"
                  if inv.refund_due_pence else "")
        notify.notify(recipients(inv),
                      f"Credit note {cn.number} for {charging.format_pence(amount)} against "
                      f"invoice {inv.number}{refund}", f"/finance/invoices/{inv.id}",
                      alliance_id=inv.alliance_id, attachment=f"invoice:{cn.id}")
    return cn


def settle(deployment: Deployment, actor: User | None = None, *, half_days: int | None = None,
           note: str | None = None, today: date | None = None, ip: str = "") -> list[Invoice]:
    """Charge a deployment for ``half_days`` (by default the half days delivered) and no more.

    With no invoices yet, invoices are raised for those half days only (nothing for the rest is
    ever charged). With invoices raised in advance, each is reduced by a credit note to its share
    for those half days; whatever was paid beyond that shows as a refund due on the invoice.
    Used for an early end and for a completion that delivered fewer days than were invoiced
    ahead. Returns the invoices and credit notes created.
    """
    today = today or date.today()
    delivered = (deployment.half_days_delivered or 0) if half_days is None else half_days
    if note is None:
        note = (f"Ended early after {charging.describe_half_days(delivered)} of "
                f"{charging.describe_half_days(deployment.half_days_agreed)} agreed.")
    lock_deployment(deployment)
    existing = charge_invoices(deployment.id)
    if not existing:
        if not delivered:
            return []
        return raise_invoices(deployment, actor, half_days=delivered, today=today, note=note,
                              ip=ip)
    if delivered and uses_allowance(deployment, to_card(rate_card_for(deployment))):
        return []  # a visit or consultation that happened is charged as invoiced
    due = {p.key: p for p in plan(deployment, delivered)} if delivered else {}
    created = []
    for inv in existing:
        planned = due.get(invoice_key(inv))
        if inv.status == "draft":  # not sent: corrected in place, no credit note
            amend_draft(inv, planned, actor, reason=note, ip=ip)
            continue
        credit = inv.net_pence - (gross(planned.lines, inv.vat_rate_bp) if planned else 0)
        if credit > 0:
            created.append(credit_note(inv, credit, actor, today=today, reason=note, ip=ip))
    return created


def amend_draft(inv: Invoice, planned: PlannedInvoice | None, actor: User | None, *,
                reason: str, ip: str = "") -> None:
    """Correct an unsent draft to what is now due (``planned``'s lines), or void it when nothing
    is (its total then 0, so no list or export counts it). The old amount is in the audit."""
    if inv.status != "draft":
        raise InvoiceStateError(f"{inv.number} has been sent: only a credit note reduces it.")
    before = inv.total_pence
    lines = planned.lines if planned and planned.total > 0 else []
    if before == gross(lines, inv.vat_rate_bp) + inv.credited_pence and lines:
        return  # already what is due
    set_lines(inv, lines)
    inv.total_pence += inv.credited_pence
    if not lines:
        inv.status = "void"  # nothing left to send
    inv.note = reason
    db.session.flush()
    audit.record(actor, "invoice.amended", inv, detail={
        "number": inv.number, "was_pence": before, "total_pence": inv.total_pence,
        "voided": not lines}, ip=ip)


def statement(deployment: Deployment, invoices: list[Invoice]) -> Statement:
    """What the settlement statement shows, from the invoices this user may see."""
    settlement = None
    card = None
    if deployment.status == "ended_early":
        try:
            card = to_card(rate_card_for(deployment))
        except LookupError:
            card = None
    if card is not None and not uses_allowance(deployment, card):
        agreed = max(1, deployment.half_days_agreed, deployment.half_days_delivered)
        paid = paid_by_party(deployment.id)
        settlement = charging.settle_early_end(
            card, deployment.designation, agreed, deployment.half_days_delivered,
            paid=paid, **terms(deployment))
    return Statement(settlement, [i for i in invoices if not i.is_credit],
                     [i for i in invoices if i.is_credit])


# --------------------------------------------------------------------------------------------
# NLE/LLE commissions: one set of invoices for everyone deployed under the commission
# --------------------------------------------------------------------------------------------

CLOSED = ("completed", "ended_early", "declined", "cancelled")
NOT_DEPLOYED = ("declined", "cancelled")


def is_commission(deployment: Deployment) -> bool:
    return deployment.commission_id is None and deployment.request.kind == "commission"


def commission_root(deployment: Deployment) -> Deployment | None:
    """The commission a deployment belongs to (itself for the commissioner's own), or None."""
    if deployment.commission_id is not None:
        return deployment.commission
    return deployment if is_commission(deployment) else None


def commission_members(commission: Deployment, *, deployed_only: bool = True) -> list[Deployment]:
    """The commissioner's own deployment first, then everyone deployed under it in the order
    they were deployed; without those declined or taken off unless ``deployed_only`` is False."""
    query = select(Deployment).where(Deployment.commission_id == commission.id)
    if deployed_only:
        query = query.where(Deployment.status.not_in(NOT_DEPLOYED))
    return [commission, *db.session.scalars(query.order_by(Deployment.id))]


_UNREAD = object()  # "the commission's signed agreement is not read yet"


def _last_signed_commission(person: Deployment) -> Agreement | None:
    from .agreements import last_signed  # agreements prices with this module

    return last_signed(person.commission_id) if person.commission_id is not None else None


def commission_signed_half_days(person: Deployment, signed: Any = _UNREAD) -> int | None:
    """The half days the commission's last fully signed agreement gives ``person`` (someone
    deployed under a commission), or None where it does not name them (no signed version yet,
    or they joined after it: their own agreement alone governs them until then). ``signed``:
    that agreement, when the caller has read it already (one read for the whole commission).

    Extra days approved for a colleague change the commission's agreement too (it names and
    prices everyone); until every party has signed that new version, the extra days cannot be
    used or billed (:func:`commission_hold`)."""
    if person.commission_id is None:
        return None
    if signed is _UNREAD:
        signed = _last_signed_commission(person)
    if signed is None:
        return None
    content = signed.content or {}
    name = person.leader.name
    for entry in (content.get("commission") or {}).get("people") or []:
        if entry.get("name") == name and "half_days" in entry \
                and entry.get("home_school") in (None, person.home_school.name):
            return int(entry["half_days"])
    for entry in (content.get("charges") or {}).get("people") or []:
        if entry.get("name") == name and entry.get("home_school") in (None,
                                                                      person.home_school.name):
            return int(entry.get("half_days") or 0)
    return None


def commission_hold(person: Deployment, signed: Any = _UNREAD) -> int:
    """Half days agreed for ``person`` that wait for every party to sign the commission's new
    agreement (0 for anyone not on a commission, or once it is signed)."""
    days = commission_signed_half_days(person, signed)
    return 0 if days is None else max(0, person.half_days_agreed - days)


def commission_holds(people: list[Deployment]) -> dict[int, int]:
    """:func:`commission_hold` of each of the people of one commission, reading its signed
    agreement once rather than once a person."""
    under = next((d for d in people if d.commission_id is not None), None)
    signed = _last_signed_commission(under) if under is not None else None
    return {d.id: commission_hold(d, signed) for d in people}


def usable_half_days(d: Deployment, hold: int | None = None) -> int:
    """The half days that can be used (visits) and billed: those agreed, less any the
    commission's new agreement still has to be signed for (``hold``, when known)."""
    return d.half_days_agreed - (commission_hold(d) if hold is None else hold)


def _charged_half_days(d: Deployment, hold: int | None = None) -> int:
    """What a closed person is charged for: the days delivered (a completion with none logged
    is charged as agreed, as for any deployment, but never days the commission's agreement has
    not been signed for)."""
    if d.status == "completed":
        return d.half_days_delivered or usable_half_days(d, hold)
    return d.half_days_delivered or 0


def commission_people(commission: Deployment, *, delivered: bool = False,
                      half_days: dict[int, int] | None = None) -> list[charging.Person]:
    """Everyone on the commission as :class:`charging.Person` (keyed by deployment id), at the
    days signed for (:func:`usable_half_days`); ``half_days`` overrides someone's agreed days
    (an amendment being priced)."""
    out = []
    members = commission_members(commission)
    holds = commission_holds(members)
    for d in members:
        agreed = (half_days or {}).get(d.id) or usable_half_days(d, holds[d.id])
        done = _charged_half_days(d, holds[d.id]) if delivered \
            else min(d.half_days_delivered, agreed)
        out.append(charging.Person(d.id, d.designation, max(agreed, done), done))
    return out


def commission_quote(commission: Deployment, *, delivered: bool = False,
                     half_days: dict[int, int] | None = None) -> charging.CommissionQuote:
    """The commission's charge on its agreed card: as agreed, or (``delivered``) for what each
    person delivered."""
    card = to_card(rate_card_for(commission))
    people = commission_people(commission, delivered=delivered, half_days=half_days)
    schools = max(1, len(receiving_school_ids(commission)))
    price = charging.commission_delivered if delivered else charging.commission_quote
    return price(card, people, schools=schools)


def plan_commission(commission: Deployment) -> list[PlannedInvoice]:
    """The commission's invoices at its end: each receiving school pays its share of every
    person's delivered days at their rate and of the brokerage on the whole; each person's
    home school receives their supply cover from the Teaching School."""
    members = {d.id: d for d in commission_members(commission)}
    q = commission_quote(commission, delivered=True)
    card = to_card(rate_card_for(commission))
    schools = receiving_school_ids(commission)
    n = max(1, len(schools))
    shared = f" (your share of {n} schools)" if n > 1 else ""
    out: list[PlannedInvoice] = []
    for i, school_id in enumerate(schools):
        inv = PlannedInvoice("school", payer_school_id=school_id)
        for person in q.people:
            amount = charging.split_evenly(person.cost, n)[i]
            if amount:
                d = members[int(str(person.key))]
                inv.lines.append((
                    f"{charging.describe_half_days(person.half_days)} of "
                    f"{charging.DESIGNATION_LABELS[person.designation]} support by "
                    f"{d.leader.name} at {charging.format_pence(person.day_rate)} a day{shared}",
                    amount))
        if q.fee_shares[i]:
            inv.lines.append((f"Brokerage fee to the Teaching School: "
                              f"{card.brokerage_bp / 100:g}% of the "
                              f"{charging.format_pence(q.commission_cost)} cost of the whole "
                              f"commission{shared}", q.fee_shares[i]))
        if inv.lines:
            out.append(inv)
    cover: dict[int, PlannedInvoice] = {}
    for person in q.people:
        if not person.cost:
            continue
        d = members[int(str(person.key))]
        statement = cover.setdefault(d.home_school_id, PlannedInvoice(
            "teaching_school", payee_school_id=d.home_school_id))
        statement.lines.append((
            f"Supply cover for {charging.describe_half_days(person.half_days)} of release of "
            f"{d.leader.name} ({charging.DESIGNATION_LABELS[person.designation]}) under "
            f"commission {commission.reference}, paid on from the receiving school(s)",
            person.cost))
    return out + list(cover.values())


def settle_commission(commission: Deployment, actor: User | None, *, today: date | None = None,
                      ip: str = "") -> list[Invoice]:
    """Invoice the commission once, at its end (Sefton F): when the commissioner's own
    deployment and everyone deployed under it have closed. Until then, and once raised, does
    nothing (under the commission's row lock, so two closings at once raise once)."""
    lock_deployment(commission)
    if charge_invoices(commission.id):
        return []
    members = commission_members(commission)
    if any(d.status not in CLOSED for d in members):
        return []
    try:
        planned = plan_commission(commission)
    except LookupError:
        log.warning("no invoices for commission %s: no rate card", commission.reference)
        return []
    today = today or date.today()
    early = [d for d in members if d.status == "ended_early"]
    note = ("Charged for the days each person delivered: "
            + "; ".join(f"{d.leader.name} {charging.describe_half_days(d.half_days_delivered)} "
                        f"of {charging.describe_half_days(d.half_days_agreed)}" for d in early)
            ) if early else ""
    saved = [_save(commission, p, actor, today=today, note=note[:500], ip=ip) for p in planned]
    if saved:
        _tell_admins(commission, f"{plural(len(saved), 'invoice')} raised for commission "
                     f"{commission.reference}: check and send them", "/finance/?status=draft")
    return saved


def _settle_member(deployment: Deployment, actor: User | None) -> bool:
    """A commission's people are invoiced together at its end: answers whether ``deployment``
    is one of them (and so must not be invoiced on its own)."""
    root = commission_root(deployment)
    if root is None:
        return False
    settle_commission(root, actor)
    return True


@workflow.on_enter(Deployment, "completed")
def _raise_on_completion(deployment: Deployment, actor: User | None, _reason: str) -> None:
    if _settle_member(deployment, actor):
        return
    half_days = deployment.half_days_delivered or deployment.half_days_agreed
    settle(deployment, actor, half_days=half_days,
           note="" if half_days >= deployment.half_days_agreed else
           f"Completed in {charging.describe_half_days(half_days)} of "
           f"{charging.describe_half_days(deployment.half_days_agreed)} agreed.")


@workflow.on_enter(Deployment, "ended_early")
def _settle_on_early_end(deployment: Deployment, actor: User | None, _reason: str) -> None:
    if _settle_member(deployment, actor):
        return
    settle(deployment, actor)


@workflow.on_enter(Deployment, "cancelled")
def _settle_commission_on_cancel(deployment: Deployment, actor: User | None,
                                 _reason: str) -> None:
    """Someone taken off a closed commission's last open place: the commission may be due."""
    if deployment.commission_id is not None:
        _settle_member(deployment, actor)


# --------------------------------------------------------------------------------------------
# Sending, payments and refunds
# --------------------------------------------------------------------------------------------


def _refresh_status(inv: Invoice) -> None:
    if inv.status in ("credit", "void", "draft"):
        return
    if inv.paid_pence >= inv.net_pence:
        inv.status = "paid"
    elif inv.paid_pence > 0:
        inv.status = "part_paid"
    else:
        inv.status = "sent"


def mark_sent(inv: Invoice, actor: User, *, ip: str = "") -> None:
    require(policy.send(inv, actor), not_now=InvoiceStateError)
    inv.status = "sent"
    inv.sent_at = utcnow()
    _refresh_status(inv)
    audit.record(actor, "invoice.sent", inv, detail={"number": inv.number}, ip=ip)
    # one word for an invoice, in the email and in the portal (issue 15, item 7)
    notify.notify(recipients(inv),
                  f"Invoice {inv.number} for {charging.format_pence(inv.net_pence)}",
                  f"/finance/invoices/{inv.id}", attachment=f"invoice:{inv.id}")


def recipients_where(inv: Invoice):
    """The condition on ``User`` of who pays (is told about) an invoice, or None."""
    if inv.payer == "school" and inv.payer_school_id:
        return (User.role == "headteacher") & (User.school_id == inv.payer_school_id)
    if inv.payer == "board" and inv.payer_board_id:
        return (User.role == "board") & (User.board_id == inv.payer_board_id)
    if inv.payer == "teaching_school" and inv.payee_school_id:
        return (User.role == "home_school") & (User.school_id == inv.payee_school_id)
    return None


def payers_where(invoices) -> ColumnElement[bool]:
    """:func:`recipients_where` for many invoices at once, as three IN lists (the sweep)."""
    schools = {i.payer_school_id for i in invoices if i.payer == "school" and i.payer_school_id}
    boards = {i.payer_board_id for i in invoices if i.payer == "board" and i.payer_board_id}
    homes = {i.payee_school_id for i in invoices
             if i.payer == "teaching_school" and i.payee_school_id}
    return or_(and_(User.role == "headteacher", User.school_id.in_(schools)),
               and_(User.role == "board", User.board_id.in_(boards)),
               and_(User.role == "home_school", User.school_id.in_(homes)))


def pays(inv: Invoice, user: User) -> bool:
    """The Python form of :func:`recipients_where` for one user (the reminder sweep)."""
    if inv.payer == "school":
        return user.role == "headteacher" and user.school_id == inv.payer_school_id
    if inv.payer == "board":
        return user.role == "board" and user.board_id == inv.payer_board_id
    if inv.payer == "teaching_school":
        return user.role == "home_school" and user.school_id == inv.payee_school_id
    return False


def recipients(inv: Invoice) -> list[User]:
    """Who is told about an invoice: the paying school's headteachers or the Board's members,
    and for a supply-cover statement the home school's leaders."""
    where = recipients_where(inv)
    if where is None:
        return []
    return list(db.session.scalars(select(User).where(where, User.active.is_(True))).all())


def record_payment(inv: Invoice, amount: int, actor: User, *, received_on: date,
                   reference: str = "", ip: str = "") -> Payment:
    """Record money received against an invoice. Never more than the balance still due."""
    require(policy.record_payment(inv, actor), not_now=InvoiceStateError)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PaymentRefused("Enter an amount greater than £0.00.")
    if received_on > date.today():
        raise errors.Invalid("The date received cannot be in the future", field="received_on")
    if amount > inv.balance_pence:
        raise PaymentRefused(
            f"That is more than the {charging.format_pence(inv.balance_pence)} still due on "
            f"{inv.number}. Overpayments cannot be recorded.")
    payment = Payment(invoice_id=inv.id, amount_pence=amount, received_on=received_on,
                      reference=reference, recorded_by_id=actor.id)
    db.session.add(payment)
    inv.paid_pence += amount
    _refresh_status(inv)
    audit.record(actor, "invoice.payment", inv, detail={
        "number": inv.number, "amount_pence": amount, "reference": reference}, ip=ip)
    return payment


def record_refund(inv: Invoice, actor: User, *, on: date, ip: str = "") -> Payment:
    """Return what was paid beyond the invoice's amount after a credit note."""
    require(policy.refund(inv, actor), not_now=InvoiceStateError)
    amount = inv.refund_due_pence
    payment = Payment(invoice_id=inv.id, amount_pence=-amount, received_on=on,
                      reference="Refund", recorded_by_id=actor.id)
    db.session.add(payment)
    inv.paid_pence -= amount
    _refresh_status(inv)
    audit.record(actor, "invoice.refunded", inv, detail={
        "number": inv.number, "amount_pence": amount}, ip=ip)
    notify.notify(recipients(inv), f"Refund of {charging.format_pence(amount)} made on invoice "
                  f"{inv.number}", f"/finance/invoices/{inv.id}", alliance_id=inv.alliance_id)
    return payment
