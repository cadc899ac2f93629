"""Exports a finance system imports, the alliance's finance settings, and the aged-debt view.

Two line-level layouts of invoices and credit notes (one row per invoice line):

* **Xero** sales-invoice import (the columns of Xero's own template, ``XERO_COLUMNS``; dates
  DD/MM/YYYY; unit amounts tax exclusive; a credit note's lines have a negative quantity,
  which Xero's import turns into a credit note, with its total and VAT negative too);
* **Sage 50** audit-trail transactions (``SAGE_COLUMNS``): ``SI`` for an invoice line, ``SC``
  for a credit-note line, with the alliance's nominal code, department and tax codes (T9
  outside the scope of VAT, T1 standard-rated by default).

Amounts are integer pence, written as pounds with two decimals; a line's VAT is the one stored
on it (``InvoiceLine.vat_pence``, worked out half up when the invoice was raised), so the lines
of every invoice add up exactly to its total. Rows are produced by generators over a
``yield_per`` query, so a year of a national alliance's invoices never sits in memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AllianceFinance, Invoice, InvoiceLine, User
from . import audit, charging, errors
from .policy import finance as policy
from .policy import require

XERO_COLUMNS = (
    "*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
    "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber",
    "Reference", "*InvoiceDate", "*DueDate", "Total", "InventoryItemCode", "*Description",
    "*Quantity", "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TaxAmount",
    "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency",
    "BrandingTheme",
)
SAGE_COLUMNS = (
    "Type", "Account Reference", "Nominal A/C Ref", "Department Code", "Date", "Reference",
    "Details", "Net Amount", "Tax Code", "Tax Amount", "Exchange Rate", "Extra Reference",
    "User Name", "Project Refn", "Cost Code Refn",
)

# The settings an alliance without a row uses (its co-ordinator changes them in the admin).
DEFAULT_CODES = {
    "bank_name": "", "account_name": "", "sort_code": "", "account_number": "",
    "vat_number": "",
    "xero_account_code": "200", "xero_tax_outside": "No VAT",
    "xero_tax_vat": "20% (VAT on Income)",
    "sage_nominal_code": "4000", "sage_tax_outside": "T9", "sage_tax_vat": "T1",
    "sage_department": "0",
}
FIELDS = tuple(DEFAULT_CODES)


@dataclass(frozen=True)
class Codes:
    bank_name: str
    account_name: str
    sort_code: str
    account_number: str
    vat_number: str
    xero_account_code: str
    xero_tax_outside: str
    xero_tax_vat: str
    sage_nominal_code: str
    sage_tax_outside: str
    sage_tax_vat: str
    sage_department: str

    @property
    def has_bank(self) -> bool:
        return bool(self.sort_code and self.account_number)


def codes_for(alliance_id: int) -> Codes:
    row = db.session.get(AllianceFinance, alliance_id)
    if row is None:
        return Codes(**DEFAULT_CODES)
    return Codes(**{k: getattr(row, k) for k in FIELDS})


# Each field's rule: (pattern, the message beside the field). Codes are what Xero and Sage
# accept: Sage nominal codes are digits, tax codes T0..T99, departments 0..999.
RULES: dict[str, tuple[str, str]] = {
    "bank_name": (r"[A-Za-z0-9 &'.,()-]{0,60}", "A bank's name: letters, digits and spaces, "
                  "at most 60 characters."),
    "account_name": (r"[A-Za-z0-9 &'.,()/-]{0,60}", "The account's name: letters, digits and "
                     "spaces, at most 60 characters."),
    "sort_code": (r"(\d\d-\d\d-\d\d)?", "A sort code is six digits, like 12-34-56."),
    "account_number": (r"(\d{8})?", "An account number is eight digits."),
    "vat_number": (r"((GB)?\d{9}(\d{3})?)?", "A UK VAT number is GB and 9 digits (or 12)."),
    "xero_account_code": (r"[A-Za-z0-9]{1,10}", "Xero's account code: 1 to 10 letters or "
                          "digits, like 200."),
    "xero_tax_outside": (r"[A-Za-z0-9 %()&.-]{1,40}", "The name of a Xero tax rate, like "
                         "No VAT (at most 40 characters)."),
    "xero_tax_vat": (r"[A-Za-z0-9 %()&.-]{1,40}", "The name of a Xero tax rate, like "
                     "20% (VAT on Income) (at most 40 characters)."),
    "sage_nominal_code": (r"\d{1,8}", "A Sage nominal code is 1 to 8 digits, like 4000."),
    "sage_tax_outside": (r"T\d{1,2}", "A Sage tax code is T and a number, like T9."),
    "sage_tax_vat": (r"T\d{1,2}", "A Sage tax code is T and a number, like T1."),
    "sage_department": (r"\d{1,3}", "A Sage department is a number from 0 to 999."),
}


def clean_codes(values: dict[str, str]) -> dict[str, str]:
    """The settings as stored, or :class:`errors.Invalid` beside the first field that breaks
    its rule (sort codes are written 12-34-56 whatever spacing was typed)."""
    out: dict[str, str] = {}
    for name in FIELDS:
        text = " ".join(str(values.get(name) or "").split())
        if name == "sort_code" and re.fullmatch(r"\d\d[ -]?\d\d[ -]?\d\d", text):
            digits = re.sub(r"\D", "", text)
            text = f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"
        if name == "vat_number":
            text = text.replace(" ", "").upper()
        pattern, message = RULES[name]
        if not re.fullmatch(pattern, text, flags=re.ASCII):
            raise errors.Invalid(message, field=name)
        out[name] = text
    if bool(out["sort_code"]) != bool(out["account_number"]):
        raise errors.Invalid("Give both the sort code and the account number, or neither.",
                             field="account_number")
    return out


def save_codes(actor: User, values: dict[str, str], *, version: int | None,
               ip: str = "") -> AllianceFinance:
    """The co-ordinator saves the alliance's bank details and finance-system codes. ``version``
    is the one their form showed (None: there was no row); a stale form is a conflict."""
    require(policy.general(actor)["finance_settings"])
    clean = clean_codes(values)
    row = db.session.get(AllianceFinance, actor.alliance_id, with_for_update=True)
    if row is None:
        if version is not None:
            raise errors.Conflict("Someone else has just changed these settings.")
        row = AllianceFinance(alliance_id=actor.alliance_id, **DEFAULT_CODES)
        db.session.add(row)
    elif version != row.version:
        raise errors.Conflict("Someone else has just changed these settings: check them, "
                              "then save again.")
    before = {k: getattr(row, k) for k in FIELDS}
    for key, value in clean.items():
        setattr(row, key, value)
    db.session.flush()
    changed = {k: v for k, v in clean.items() if before.get(k) != v}
    # bank details are recorded as changed, never copied into the log
    audit.record(actor, "finance_settings.saved", row, alliance_id=actor.alliance_id,
                 detail={k: ("changed" if k in ("sort_code", "account_number") else v)
                         for k, v in changed.items()}, ip=ip)
    return row


# ---------------------------------------------------------------------------- one invoice


def _postal(inv: Invoice) -> tuple[list[str], str, str]:
    """The payer's postal address as (lines before the town, town, postcode): a school's
    street address (GIAS's, or as the co-ordinator entered it); a Board is written to care of
    the alliance."""
    school = inv.payer_school if inv.payer == "school" else \
        inv.payee_school if inv.payer == "teaching_school" else None  # supply cover: home school
    if school is not None:
        street = [line for line in (school.address_line1, school.address_line2,
                                    school.address_line3) if line]
        return ["The Headteacher", school.name, *street], school.town, school.postcode
    if inv.payer == "board" and inv.payer_board is not None:
        alliance = inv.payer_board.alliance
        return ([f"The Chair, {inv.payer_board.name}", f"care of {alliance.name}",
                 *[part.strip() for part in (alliance.address or "").split(",")
                   if part.strip()]], "", alliance.postcode)
    return [], "", ""


def payer_address(inv: Invoice) -> list[str]:
    """The lines of the payer's postal address, for the envelope window: who, the street
    lines, the town and the postcode (the empty ones left out)."""
    lines, town, postcode = _postal(inv)
    return [line for line in (*lines, town, postcode) if line] or [""]


def contact_name(inv: Invoice) -> str:
    if inv.payer == "school":
        return inv.payer_school.name if inv.payer_school else "Receiving school"
    if inv.payer == "board":
        return inv.payer_board.name if inv.payer_board else "The Board"
    return inv.payee_school.name if inv.payee_school else "Home school"


def account_reference(inv: Invoice) -> str:
    """Sage's customer account (8 characters at most): S + the school's URN, B + the Board's
    number, H + the home school's URN for a supply-cover statement."""
    if inv.payer == "school" and inv.payer_school is not None:
        return f"S{inv.payer_school.urn}"[:8]
    if inv.payer == "board" and inv.payer_board_id:
        return f"B{inv.payer_board_id}"[:8]
    return f"H{inv.payee_school.urn}"[:8] if inv.payee_school else "TS"


def vat_label(inv: Invoice) -> str:
    return charging.vat_label(inv.vat_rate_bp)


def pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _text(value: object, limit: int) -> str:
    """A cell as a finance system wants it: one line, no formula, at most ``limit``."""
    text = " ".join(str(value or "").split())
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text[:limit]


# ---------------------------------------------------------------------------- the rows


def export_stmt(where: Iterable[ColumnElement[bool]], kind: str):
    """Invoices (``kind="invoice"``), credit notes (``"credit"``) or both (``"all"``) matching
    ``where``, oldest first, fetched in batches; drafts and void invoices are never exported."""
    stmt = (select(Invoice).where(*where)
            .options(joinedload(Invoice.payer_school), joinedload(Invoice.payee_school),
                     joinedload(Invoice.payer_board), joinedload(Invoice.deployment))
            .order_by(Invoice.issued_on, Invoice.sequence, Invoice.id))
    if kind == "invoice":
        stmt = stmt.where(Invoice.status.in_(("sent", "part_paid", "paid")))
    elif kind == "credit":
        stmt = stmt.where(Invoice.status == "credit")
    else:
        stmt = stmt.where(Invoice.status.in_(("sent", "part_paid", "paid", "credit")))
    return stmt.execution_options(yield_per=500)


def export_rows(where: Iterable[ColumnElement[bool]], kind: str
                ) -> Iterator[tuple[Invoice, list[InvoiceLine]]]:
    """:func:`export_stmt`'s invoices, each with its lines, from one statement streamed in
    batches: one query however many invoices (the lines were read a batch of invoices at a
    time, so a national alliance's year took a query per 500; issue 20). An invoice without
    lines exports no row, so it is not read."""
    stmt = (export_stmt(where, kind).add_columns(InvoiceLine)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .order_by(InvoiceLine.position, InvoiceLine.id))
    current: Invoice | None = None
    lines: list[InvoiceLine] = []
    for inv, line in cast(Iterable[tuple[Invoice, InvoiceLine]], db.session.execute(stmt)):
        if current is not None and inv.id != current.id:
            yield current, lines
            lines = []
        current = inv
        lines.append(line)
    if current is not None:
        yield current, lines


def _with_lines(invoices: Iterable[Invoice | tuple[Invoice, list[InvoiceLine]]],
                batch: int = 500) -> Iterator[tuple[Invoice, list[InvoiceLine]]]:
    """Each invoice with its lines: as they come from :func:`export_rows`, or, for plain
    invoices, the lines read for a batch of invoices at once."""
    chunk: list[Invoice] = []

    def flush() -> Iterator[tuple[Invoice, list[InvoiceLine]]]:
        by_invoice: dict[int, list[InvoiceLine]] = {inv.id: [] for inv in chunk}
        for line in db.session.scalars(
                select(InvoiceLine).where(InvoiceLine.invoice_id.in_(list(by_invoice)))
                .order_by(InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.id)):
            by_invoice[line.invoice_id].append(line)
        for inv in chunk:
            yield inv, by_invoice[inv.id]

    for inv in invoices:
        if isinstance(inv, tuple):
            yield inv
            continue
        chunk.append(inv)
        if len(chunk) >= batch:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def xero_rows(invoices: Iterable[Invoice | tuple[Invoice, list[InvoiceLine]]],
              codes: Codes) -> Iterator[list[str]]:
    yield list(XERO_COLUMNS)
    for inv, lines in _with_lines(invoices):
        who_where, town, postcode = _postal(inv)
        street = (who_where[:3] + [", ".join(who_where[3:])] if len(who_where) > 4 else
                  who_where + ["", "", "", ""])[:4]
        tax = codes.xero_tax_vat if inv.vat_rate_bp else codes.xero_tax_outside
        reference = inv.po_number or (inv.deployment.reference if inv.deployment else "")
        sign = -1 if inv.is_credit else 1
        for line in lines:
            yield [
                _text(contact_name(inv), 255), "", *(_text(s, 500) for s in street),
                _text(town, 255), "", _text(postcode, 50), "United Kingdom", inv.number,
                _text(reference, 255),
                _dmy(inv.issued_on), _dmy(inv.due_on or inv.issued_on),
                pounds(sign * inv.total_pence), "", _text(line.description, 4000),
                str(sign * line.quantity), pounds(line.unit_pence), "",
                codes.xero_account_code, tax, pounds(sign * line.vat_pence),
                "", "", "", "", "GBP", "",
            ]


def sage_rows(invoices: Iterable[Invoice | tuple[Invoice, list[InvoiceLine]]],
              codes: Codes) -> Iterator[list[str]]:
    yield list(SAGE_COLUMNS)
    for inv, lines in _with_lines(invoices):
        tax = codes.sage_tax_vat if inv.vat_rate_bp else codes.sage_tax_outside
        kind = "SC" if inv.is_credit else "SI"
        for line in lines:
            yield [
                kind, account_reference(inv), codes.sage_nominal_code, codes.sage_department,
                _dmy(inv.issued_on), inv.number[:30], _text(line.description, 60),
                pounds(line.amount_pence), tax, pounds(line.vat_pence), "",
                _text(inv.po_number, 30), "", "", "",
            ]


def csv_stream(rows: Iterable[list[str]]) -> Iterator[str]:
    """Rows as CSV text, one row at a time (CRLF line ends, as both importers expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# ---------------------------------------------------------------------------- aged debt

AGE_BANDS = (("current", "Current"), ("d30", "1 to 30 days overdue"),
             ("d60", "31 to 60 days overdue"), ("d90", "61 to 90 days overdue"),
             ("d90plus", "More than 90 days overdue"))


def age_band(due_on: date | None, today: date) -> str:
    """The band of an unpaid balance by days past its due date: current (not yet due), then
    1-30, 31-60, 61-90 and 90+ days overdue."""
    late = (today - due_on).days if due_on else 0
    if late <= 0:
        return "current"
    if late <= 30:
        return "d30"
    if late <= 60:
        return "d60"
    if late <= 90:
        return "d90"
    return "d90plus"


@dataclass
class DebtRow:
    payer: str
    bands: dict[str, int]
    count: int = 0

    @property
    def total(self) -> int:
        return sum(self.bands.values())


def aged_debt(where: Iterable[ColumnElement[bool]], today: date) -> tuple[list[DebtRow],
                                                                              DebtRow]:
    """What each payer still owes, by age band, and the totals (pence). Only sent or part-paid
    invoices with a balance count; credit notes have already reduced them."""
    rows: dict[str, DebtRow] = {}
    total = DebtRow("Total", {key: 0 for key, _l in AGE_BANDS})
    stmt = (select(Invoice).where(*where, Invoice.status.in_(policy.OPEN))
            .options(joinedload(Invoice.payer_school), joinedload(Invoice.payee_school),
                     joinedload(Invoice.payer_board))
            .execution_options(yield_per=1000))
    for inv in db.session.scalars(stmt):
        balance = inv.balance_pence
        if balance <= 0:
            continue
        name = contact_name(inv)
        row = rows.setdefault(name, DebtRow(name, {key: 0 for key, _l in AGE_BANDS}))
        band = age_band(inv.due_on, today)
        row.bands[band] += balance
        row.count += 1
        total.bands[band] += balance
        total.count += 1
    return sorted(rows.values(), key=lambda r: (-r.total, r.payer)), total
