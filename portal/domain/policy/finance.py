"""Who may send an invoice, record a payment or a refund, raise invoices in advance, read a
settlement, export the invoices and change the rates, and when. (Money.)

Follows the convention of ``portal/domain/policy/__init__.py`` (worked example:
``evaluations.py``). :func:`actions` answers for one of three things:

* an :class:`Invoice`: ``send``, ``record_payment``, ``mark_paid``, ``refund`` (the
  co-ordinator's or director's; credit notes take none of them); ``set_po_number`` (theirs or
  the payer's);
* a :class:`Deployment`: ``raise_in_advance`` (while :data:`ADVANCE_STATUSES`, once) and
  ``view_settlement`` (the statement of an early end);
* nothing (``None``): the alliance-wide ``view_invoices``, ``export``, ``filter_by_school``,
  ``view_rates``, ``new_rate_card``, ``aged_debt`` and ``finance_settings``.

Credit notes and the invoices for the days delivered are raised by the workflow (completion,
early end: ``finance.settle``), never by a person, so they have no decision here.

:func:`waiting` is the Python form of the money "waiting for me" lists, each with its SQL twin
below (``waiting_send`` ...): drafts to send and payments to record for the overseers, refunds
due, and for a paying school or Board the invoices it still has to pay.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false

from ...models import Deployment, Invoice, User
from . import Decision, allow, forbid, not_now
from .commissions import is_commission

OVERSEERS = ("admin", "director")
FINANCE_ROLES = ("admin", "director", "headteacher", "home_school", "board")
# Invoices may be raised in advance once the proposal is confirmed and until the deployment
# closes (after that the completion or early end raises them for the days delivered).
ADVANCE_STATUSES = ("agreement", "active", "evaluation")
NO_PAYMENTS = ("credit", "void")
OPEN = ("sent", "part_paid")  # sent, with something still to pay

INVOICE_ACTIONS = ("send", "record_payment", "mark_paid", "refund", "set_po_number")
DEPLOYMENT_ACTIONS = ("raise_in_advance", "view_settlement")
GENERAL_ACTIONS = ("view_invoices", "export", "filter_by_school", "view_rates", "new_rate_card",
                   "aged_debt", "finance_settings")


def _overseer(user: User, what: str) -> Decision | None:
    if user.role not in OVERSEERS:
        return forbid(f"Only the co-ordinator or director {what}.")
    return None


# ------------------------------------------------------------------------ invoice predicates


def send(inv: Invoice, user: User) -> Decision:
    if (refused := _overseer(user, "sends invoices")) is not None:
        return refused
    if inv.status in NO_PAYMENTS:
        return not_now(f"{inv.number} is a {inv.status_label.lower()} and is not sent.")
    if inv.status != "draft":
        return not_now(f"{inv.number} has already been sent.")
    return allow()


def record_payment(inv: Invoice, user: User) -> Decision:
    if (refused := _overseer(user, "records payments")) is not None:
        return refused
    if inv.status in NO_PAYMENTS:
        return not_now(f"{inv.number} takes no payments.")
    if inv.status == "draft":
        return not_now(f"Send {inv.number} before recording a payment.")
    if inv.balance_pence == 0:
        return not_now(f"{inv.number} is already paid in full.")
    return allow()


def refund(inv: Invoice, user: User) -> Decision:
    if (refused := _overseer(user, "records refunds")) is not None:
        return refused
    if inv.refund_due_pence <= 0:
        return not_now(f"No refund is due on {inv.number}.")
    return allow()


def set_po_number(inv: Invoice, user: User) -> Decision:
    """The payer's purchase-order number: recorded by the co-ordinator or director, or by the
    payer itself (its headteacher or Board member); not on a credit note (it takes its
    invoice's) or a void invoice."""
    if user.role not in OVERSEERS and not is_payer(inv, user):
        return forbid("Only the payer, the co-ordinator or the director records the "
                      "purchase-order number.")
    if inv.status in NO_PAYMENTS:
        return not_now(f"{inv.number} is a {inv.status_label.lower()}: its purchase-order "
                       "number is not changed.")
    return allow()


def invoice_actions(inv: Invoice, user: User) -> dict[str, Decision]:
    paying = record_payment(inv, user)
    return {"send": send(inv, user), "record_payment": paying, "mark_paid": paying,
            "refund": refund(inv, user), "set_po_number": set_po_number(inv, user)}


# --------------------------------------------------------------------- deployment predicates


def raise_in_advance(d: Deployment, user: User, *, invoiced: bool) -> Decision:
    """``invoiced``: the deployment has invoices (not credit notes, not void) already."""
    if (refused := _overseer(user, "raises invoices")) is not None:
        return refused
    if d.commission_id is not None or is_commission(d):
        return not_now("A commission is invoiced at its end, once the agreed work is complete, "
                       "for everyone deployed under it together.")
    if d.status not in ADVANCE_STATUSES:
        return not_now("Invoices in advance can be raised only once the proposal is confirmed "
                       "and before the deployment closes.")
    if invoiced:
        return not_now("Invoices have already been raised for this deployment.")
    return allow()


def view_settlement(d: Deployment, user: User) -> Decision:
    if user.role not in FINANCE_ROLES:
        return forbid("System leaders see no money.")
    if d.status != "ended_early":
        return not_now("A settlement statement is made only when a deployment ends early.")
    return allow()


def deployment_actions(d: Deployment, user: User, *,
                       invoiced: bool | None = None) -> dict[str, Decision]:
    if invoiced is None:
        from ..finance import charge_invoices

        invoiced = bool(charge_invoices(d.id))
    return {"raise_in_advance": raise_in_advance(d, user, invoiced=invoiced),
            "view_settlement": view_settlement(d, user)}


# ------------------------------------------------------------------------ alliance-wide


def general(user: User) -> dict[str, Decision]:
    money = allow() if user.role in FINANCE_ROLES else forbid("System leaders see no money.")
    overseer = allow() if user.role in OVERSEERS else forbid(
        "Only the co-ordinator or director sees every invoice and the rates.")
    rates = allow() if user.role == "admin" else forbid(
        "Only the co-ordinator changes the rates.")
    settings = allow() if user.role == "admin" else forbid(
        "Only the co-ordinator changes the bank details and finance-system codes.")
    return {"view_invoices": money, "export": overseer, "filter_by_school": overseer,
            "view_rates": overseer, "new_rate_card": rates, "aged_debt": overseer,
            "finance_settings": settings}


def actions(obj: Invoice | Deployment | None, user: User, **facts: bool) -> dict[str, Decision]:
    """Every money action for this user on an invoice, a deployment, or (``None``) the
    alliance's money as a whole."""
    if isinstance(obj, Invoice):
        return invoice_actions(obj, user)
    if isinstance(obj, Deployment):
        return deployment_actions(obj, user, **facts)
    return general(user)


# ------------------------------------------------------------------- waiting for me (Python)


def is_payer(inv: Invoice, user: User) -> bool:
    """The user is the one who pays: the paying school's headteacher or the paying Board's
    member. (A home-school leader is paid, never pays.)"""
    if inv.payer == "school":
        return user.role == "headteacher" and bool(user.school_id) \
            and inv.payer_school_id == user.school_id
    if inv.payer == "board":
        return user.role == "board" and bool(user.board_id) \
            and inv.payer_board_id == user.board_id
    return False


def waiting(inv: Invoice, user: User) -> dict[str, bool]:
    """The "waiting for me" entries this invoice makes for this user (Python form); each key
    has its SQL twin ``waiting_<key>(user)`` below."""
    can = invoice_actions(inv, user)
    return {
        "send": can["send"].allowed,
        "record_payment": can["record_payment"].allowed,
        "refund": can["refund"].allowed,
        "pay": is_payer(inv, user) and inv.status in OPEN and inv.balance_pence > 0,
    }


WAITING_LABELS = {
    "send": "Check and send these draft invoices",
    "record_payment": "Invoices sent and not yet paid",
    "refund": "Refunds due after a credit note",
    "pay": "Invoices for you to pay",
}


# ---------------------------------------------------------------------- the SQL twins


def _balance() -> ColumnElement[int]:
    return Invoice.total_pence - Invoice.credited_pence - Invoice.paid_pence


def waiting_send(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`send` allowed."""
    if user.role not in OVERSEERS:
        return false()
    return Invoice.status == "draft"


def waiting_record_payment(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`record_payment` allowed."""
    if user.role not in OVERSEERS:
        return false()
    return and_(Invoice.status.not_in((*NO_PAYMENTS, "draft")), _balance() > 0)


def waiting_refund(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`refund` allowed: paid beyond what is due after credit notes."""
    if user.role not in OVERSEERS:
        return false()
    return and_(Invoice.status != "credit", _balance() < 0)


def waiting_pay(user: User) -> ColumnElement[bool]:
    """SQL twin of "pay": the user's school or Board pays it and something is still due."""
    if user.role == "headteacher" and user.school_id:
        payer = and_(Invoice.payer == "school", Invoice.payer_school_id == user.school_id)
    elif user.role == "board" and user.board_id:
        payer = and_(Invoice.payer == "board", Invoice.payer_board_id == user.board_id)
    else:
        return false()
    return and_(payer, Invoice.status.in_(OPEN), _balance() > 0)


WAITING_SQL = {"send": waiting_send, "record_payment": waiting_record_payment,
               "refund": waiting_refund, "pay": waiting_pay}


# ------------------------------------------------------------- owed back to the payer


def owed(inv: Invoice, user: User) -> dict[str, bool]:
    """What this invoice owes back to this user (Python form): ``refund_owed`` when the user's
    school or Board paid beyond what is due after a credit note. Not an action of theirs (the
    co-ordinator records the refund: ``waiting_refund``), so it is shown in Money, not listed as
    waiting. SQL twin: :func:`refund_owed_to`."""
    return {"refund_owed": is_payer(inv, user) and inv.refund_due_pence > 0}


def refund_owed_to(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`owed`: invoices (not credit notes) the user's school or Board paid
    beyond what is now due."""
    if user.role == "headteacher" and user.school_id:
        payer = and_(Invoice.payer == "school", Invoice.payer_school_id == user.school_id)
    elif user.role == "board" and user.board_id:
        payer = and_(Invoice.payer == "board", Invoice.payer_board_id == user.board_id)
    else:
        return false()
    return and_(payer, Invoice.status != "credit", _balance() < 0)


OWED_SQL = {"refund_owed": refund_owed_to}


def refunds_due(user: User) -> ColumnElement[bool]:
    """The invoices whose refund the Money list totals for this user: for the co-ordinator and
    director every refund to make (:func:`waiting_refund`), for a payer those owed to it."""
    return waiting_refund(user) if user.role in OVERSEERS else refund_owed_to(user)
