"""Forms for payments and rate cards. Money is typed in pounds and kept as integer pence."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..domain.errors import Invalid
from ..idempotency import OneTimeKey
from ..validators import MAX_AHEAD, MoneyField, PlausibleDate, UKDateField, years

MAX_RATE_PENCE = 1_000_000  # £10,000 a day or an hour: far above any rate, and charges fit


class PaymentForm(OneTimeKey, FlaskForm):
    amount = MoneyField("Amount received (£)", validators=[InputRequired("Enter the amount")],
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})
    received_on = UKDateField("Date received", default=date.today, validators=[
        DataRequired("Enter the date the money arrived"),
        PlausibleDate(past=years(2), future=timedelta(0),
                      too_early="Enter the date the money arrived, on or after {earliest}.",
                      too_late="The date received cannot be in the future")])
    reference = StringField("Reference (optional)", validators=[Optional(), Length(max=100)])


def _money(label: str, required: bool = True) -> MoneyField:
    return MoneyField(label, validators=[InputRequired(f"Enter the {label.lower()}")]
                      if required else [Optional()], render_kw={"inputmode": "decimal"},
                      maximum=MAX_RATE_PENCE)


class RateCardForm(OneTimeKey, FlaskForm):
    effective_from = UKDateField("Effective from", validators=[
        DataRequired("Enter the date the new rates start"),
        PlausibleDate(past=timedelta(0), future=MAX_AHEAD,
                      too_early="The new rates must start today or later, so no agreed charge "
                                "changes",
                      too_late="Enter a start date by {latest}: rates are set at most two "
                               "years ahead")])
    nle_day = _money("NLE day rate (£)")
    lle_day = _money("LLE day rate (£)")
    slt_day = _money("Non-accredited working as SLT, day rate (£)")
    sle_day = _money("SLE day rate (£)")
    non_sle_day = _money("Non-accredited working as SLE, day rate (£)")
    brokerage_percent = StringField("Brokerage fee (% of the commission cost)", validators=[
        InputRequired("Enter the brokerage fee, 0 for none")], render_kw={"inputmode": "decimal"})
    board_grant_day = _money("Board grant to the home school per day (£)")
    board_school_day = _money("School's share per day on a Board-targeted deployment (£)")
    gpv_half_day = _money("Good-practice visit, per half day after the free allowance (£)")
    gpv_free_per_year = IntegerField("Free good-practice visit half days per school per year",
                                     validators=[InputRequired("Enter a number, 0 for none"),
                                                 NumberRange(0, 50, "Enter 0 to 50")])
    consult_hour = _money("Consultation, per hour after the free allowance (£)")
    consult_free_hours = IntegerField("Free consultation hours per school per year",
                                      validators=[InputRequired("Enter a number, 0 for none"),
                                                  NumberRange(0, 50, "Enter 0 to 50")])
    vat_percent = StringField("VAT rate (%)", validators=[Optional()],
                              render_kw={"inputmode": "decimal", "autocomplete": "off"})

    vat_rate_bp: int | None = None

    def validate_vat_percent(self, field):
        """Empty: outside the scope of VAT (the default). Otherwise 0 to 100, up to two
        decimal places (20, 5, 12.5)."""
        text = (field.data or "").strip().rstrip("%").strip()
        if not text:
            self.vat_rate_bp = None
            return
        if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", text, flags=re.ASCII) \
                or Decimal(text) > 100:
            raise ValidationError("Enter a VAT rate from 0 to 100, like 20, or leave it empty "
                                  "for outside the scope of VAT")
        self.vat_rate_bp = int(Decimal(text) * 100)

    def validate_brokerage_percent(self, field):
        text = (field.data or "").strip().rstrip("%").strip()
        if not re.match(r"^\d+(\.\d{1,2})?$", text) or Decimal(text) > 100:
            raise ValidationError("Enter a percentage from 0 to 100, like 10 or 12.5")
        self.brokerage_bp = int(Decimal(text) * 100)

    def amounts(self) -> dict[str, int]:
        return {
            "nle_day_pence": self.nle_day.data, "lle_day_pence": self.lle_day.data,
            "slt_day_pence": self.slt_day.data, "sle_day_pence": self.sle_day.data,
            "non_sle_day_pence": self.non_sle_day.data, "brokerage_bp": self.brokerage_bp,
            "board_grant_day_pence": self.board_grant_day.data,
            "board_school_day_pence": self.board_school_day.data,
            "gpv_half_day_pence": self.gpv_half_day.data,
            "gpv_free_per_year": self.gpv_free_per_year.data,
            "consult_hour_pence": self.consult_hour.data,
            "consult_free_hours": self.consult_free_hours.data,
            "vat_rate_bp": self.vat_rate_bp,
        }

    def fill_from(self, card) -> None:
        self.nle_day.data = card.nle_day_pence
        self.lle_day.data = card.lle_day_pence
        self.slt_day.data = card.slt_day_pence
        self.sle_day.data = card.sle_day_pence
        self.non_sle_day.data = card.non_sle_day_pence
        whole, frac = divmod(card.brokerage_bp, 100)
        self.brokerage_percent.data = f"{whole}.{frac:02d}".rstrip("0") if frac else str(whole)
        self.board_grant_day.data = card.board_grant_day_pence
        self.board_school_day.data = card.board_school_day_pence
        self.gpv_half_day.data = card.gpv_half_day_pence
        self.gpv_free_per_year.data = card.gpv_free_per_year
        self.consult_hour.data = card.consult_hour_pence
        self.consult_free_hours.data = card.consult_free_hours
        if card.vat_rate_bp is None:
            self.vat_percent.data = ""
        else:
            whole, frac = divmod(card.vat_rate_bp, 100)
            self.vat_percent.data = f"{whole}.{frac:02d}".rstrip("0") if frac else str(whole)

    def show(self, exc: Invalid) -> None:
        """Put a refusal of :func:`finance.new_rate_card` beside its field: the command names
        the amount by its keyword (``nle_day_pence``, ``brokerage_bp``), this form by its own."""
        name = exc.field or ""
        if name == "brokerage_bp":
            name = "brokerage_percent"
        elif name == "vat_rate_bp":
            name = "vat_percent"
        elif name.endswith("_pence"):
            name = name.removesuffix("_pence")
        exc.field = name or None
        exc.show_on(self)


class PONumberForm(FlaskForm):
    po_number = StringField("Purchase-order number", validators=[Optional()],
                            render_kw={"autocomplete": "off"})
    version = IntegerField(validators=[Optional()])


class FinanceSettingsForm(FlaskForm):
    """The alliance's bank details and finance-system codes (checked by
    ``domain.exports.clean_codes``, whose messages go beside these fields)."""

    bank_name = StringField("Bank (optional)", validators=[Length(max=60)])
    account_name = StringField("Account name", validators=[Length(max=60)])
    sort_code = StringField("Sort code", validators=[Length(max=8)],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    account_number = StringField("Account number", validators=[Length(max=8)],
                                 render_kw={"inputmode": "numeric", "autocomplete": "off"})
    vat_number = StringField("VAT registration number (if registered)",
                             validators=[Length(max=14)])
    xero_account_code = StringField("Xero account code", validators=[Length(max=10)])
    xero_tax_outside = StringField("Xero tax rate for support outside the scope of VAT",
                                   validators=[Length(max=40)])
    xero_tax_vat = StringField("Xero tax rate for support with VAT", validators=[Length(max=40)])
    sage_nominal_code = StringField("Sage nominal code", validators=[Length(max=8)])
    sage_tax_outside = StringField("Sage tax code, outside the scope of VAT",
                                   validators=[Length(max=3)])
    sage_tax_vat = StringField("Sage tax code, with VAT", validators=[Length(max=3)])
    sage_department = StringField("Sage department", validators=[Length(max=3)])
    version = IntegerField(validators=[Optional()])

    FIELDS = ("bank_name", "account_name", "sort_code", "account_number", "vat_number",
              "xero_account_code", "xero_tax_outside", "xero_tax_vat", "sage_nominal_code",
              "sage_tax_outside", "sage_tax_vat", "sage_department")

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in self.FIELDS}
