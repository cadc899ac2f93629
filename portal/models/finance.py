"""Rate cards (kept with history), invoices, payments and free allowances. All money in pence."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .deployments import Deployment
from .requests import _in
from .schools import Board, School


class RateCard(Model):
    """One version of an alliance's rates. Deployments point at the version they were agreed at."""

    __tablename__ = "rate_card"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    model: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date]
    nle_day_pence: Mapped[int]
    lle_day_pence: Mapped[int]
    slt_day_pence: Mapped[int]
    sle_day_pence: Mapped[int]
    non_sle_day_pence: Mapped[int]
    brokerage_bp: Mapped[int] = mapped_column(default=0)
    board_grant_day_pence: Mapped[int] = mapped_column(default=0)
    board_school_day_pence: Mapped[int] = mapped_column(default=0)
    gpv_half_day_pence: Mapped[int] = mapped_column(default=0)
    gpv_free_per_year: Mapped[int] = mapped_column(default=0)
    consult_hour_pence: Mapped[int] = mapped_column(default=0)
    consult_free_hours: Mapped[int] = mapped_column(default=0)
    # VAT on what this card charges, in basis points (2000 = 20%); None = outside the scope of
    # VAT (the default: support between schools is usually not a taxable supply)
    vat_rate_bp: Mapped[int | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        Index("ix_rate_card_alliance_effective", "alliance_id", "effective_from"),
        CheckConstraint(
            "nle_day_pence >= 0 and lle_day_pence >= 0 and slt_day_pence >= 0 and "
            "sle_day_pence >= 0 and non_sle_day_pence >= 0 and brokerage_bp between 0 and 10000 "
            "and board_grant_day_pence >= 0 and board_school_day_pence >= 0 and "
            "gpv_half_day_pence >= 0 and gpv_free_per_year >= 0 and consult_hour_pence >= 0 "
            "and consult_free_hours >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("vat_rate_bp is null or vat_rate_bp between 0 and 10000",
                        name="vat_rate_range"),
    )


INVOICE_STATUSES = {"draft": "Draft", "sent": "Sent", "part_paid": "Part paid", "paid": "Paid",
                    "void": "Void", "credit": "Credit note"}
PO_NUMBER_MAX = 30  # Xero's Reference and Sage's Reference both fit it
PAYERS = {"school": "Receiving school", "board": "Board", "teaching_school": "Teaching School"}


class Invoice(Model):
    __tablename__ = "invoice"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"), index=True)
    payer: Mapped[str] = mapped_column(String(20))
    payer_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    payer_board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"))
    payee_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    issued_on: Mapped[date | None]
    due_on: Mapped[date | None]
    total_pence: Mapped[int] = mapped_column(default=0)
    paid_pence: Mapped[int] = mapped_column(default=0)
    credited_pence: Mapped[int] = mapped_column(default=0)  # sum of its credit notes
    note: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)
    # Per-alliance number, gapless (see portal.domain.finance.next_number)
    sequence: Mapped[int] = mapped_column(default=0)
    academic_year: Mapped[int] = mapped_column(default=0)
    # A credit note (status "credit") names the invoice it reduces
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    # The payer's purchase-order number, quoted on the invoice and in the exports
    po_number: Mapped[str] = mapped_column(String(PO_NUMBER_MAX), default="", server_default="")
    # The rate card's VAT treatment when raised (None = outside the scope of VAT) and the VAT
    # included in total_pence (the sum of the lines' vat_pence)
    vat_rate_bp: Mapped[int | None] = mapped_column(nullable=True)
    vat_pence: Mapped[int] = mapped_column(default=0, server_default="0")

    payer_school: Mapped[School | None] = relationship(foreign_keys=[payer_school_id])
    payee_school: Mapped[School | None] = relationship(foreign_keys=[payee_school_id])
    payer_board: Mapped[Board | None] = relationship()
    deployment: Mapped[Deployment | None] = relationship()

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("status", INVOICE_STATUSES), name="status"),
        CheckConstraint(_in("payer", PAYERS), name="payer"),
        CheckConstraint("paid_pence >= 0", name="paid_not_negative"),
        CheckConstraint("paid_pence <= total_pence", name="paid_within_total"),
        Index("ix_invoice_alliance_status_issued", "alliance_id", "status", "issued_on"),
        UniqueConstraint("alliance_id", "sequence", name="uq_invoice_alliance_sequence"),
        Index("ix_invoice_alliance_year", "alliance_id", "academic_year"),
        Index("ix_invoice_payer_board_id", "payer_board_id"),
        CheckConstraint("vat_rate_bp is null or vat_rate_bp between 0 and 10000",
                        name="invoice_vat_rate_range"),
    )

    @property
    def is_overdue(self) -> bool:
        """Sent (or part paid) and unpaid past its due date, on today's London calendar."""
        from ..formatting import london_today

        return (self.status in ("sent", "part_paid") and self.due_on is not None
                and london_today() > self.due_on)

    @property
    def status_word(self) -> str:
        """The status as Money shows it: "Overdue" for an overdue invoice (a badge class too)."""
        return "overdue" if self.is_overdue else self.status

    @property
    def status_label(self) -> str:
        return "Overdue" if self.is_overdue else INVOICE_STATUSES[self.status]

    @property
    def is_credit(self) -> bool:
        return self.status == "credit"

    @property
    def subtotal_pence(self) -> int:
        """The total before VAT."""
        return self.total_pence - self.vat_pence

    @property
    def net_pence(self) -> int:
        """What is due after credit notes."""
        return self.total_pence - self.credited_pence

    @property
    def balance_pence(self) -> int:
        """Still to pay (never below zero; see refund_due_pence)."""
        return max(0, self.net_pence - self.paid_pence)

    @property
    def refund_due_pence(self) -> int:
        """Paid beyond what is now due (after a credit note): to be returned."""
        return max(0, self.paid_pence - self.net_pence) if not self.is_credit else 0


class InvoiceCounter(Model):
    """The last invoice number used by an alliance; its row lock makes numbering gapless."""

    __tablename__ = "invoice_counter"
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"), primary_key=True,
                                             autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class InvoiceLine(Model):
    __tablename__ = "invoice_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(default=1)
    unit: Mapped[str] = mapped_column(String(20), default="item")
    unit_pence: Mapped[int] = mapped_column(default=0)
    amount_pence: Mapped[int] = mapped_column(default=0)  # before VAT
    vat_pence: Mapped[int] = mapped_column(default=0, server_default="0")

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class AllianceFinance(Model):
    """An alliance's finance-system settings: the payee's bank details printed on invoices, and
    the codes its exports carry (Xero account code and tax types, Sage 50 nominal and tax codes).
    An alliance without a row uses the defaults (:data:`portal.domain.exports.DEFAULT_CODES`)."""

    __tablename__ = "alliance_finance"
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    account_name: Mapped[str] = mapped_column(String(60), default="")
    sort_code: Mapped[str] = mapped_column(String(8), default="")  # "12-34-56"
    account_number: Mapped[str] = mapped_column(String(8), default="")
    vat_number: Mapped[str] = mapped_column(String(14), default="")
    xero_account_code: Mapped[str] = mapped_column(String(10), default="200")
    xero_tax_outside: Mapped[str] = mapped_column(String(40), default="No VAT")
    xero_tax_vat: Mapped[str] = mapped_column(String(40), default="20% (VAT on Income)")
    sage_nominal_code: Mapped[str] = mapped_column(String(8), default="4000")
    sage_tax_outside: Mapped[str] = mapped_column(String(3), default="T9")
    sage_tax_vat: Mapped[str] = mapped_column(String(3), default="T1")
    sage_department: Mapped[str] = mapped_column(String(3), default="0")
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Payment(Model):
    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    amount_pence: Mapped[int]
    received_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")

    __table_args__ = (CheckConstraint("amount_pence <> 0", name="amount_not_zero"),)


class AllowanceUse(Model):
    """Free good-practice visits and consultation hours a school has used in an academic year."""

    __tablename__ = "allowance_use"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    academic_year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))
    units: Mapped[int] = mapped_column(default=0)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    # 1, 2, 3 ... per school, year and kind: two uses at once cannot take the same place (and so
    # cannot both have the free allowance)
    seq: Mapped[int] = mapped_column(default=1)
    charged_pence: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("school_id", "academic_year", "kind", "deployment_id",
                         name="uq_allowance_use_once"),
        UniqueConstraint("school_id", "academic_year", "kind", "seq",
                         name="uq_allowance_use_seq"),
        Index("ix_allowance_use_school_year", "school_id", "academic_year", "kind"),
    )
