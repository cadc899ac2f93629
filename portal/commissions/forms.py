"""Forms of the commission page: deploy a colleague, take someone off."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    StopValidation,
    ValidationError,
)

from ..idempotency import OneTimeKey
from ..validators import Finite

DAYS_HINT = "Whole or half days, like 6 or 2.5."
DAYS_MISSING = "Enter the days asked of them, like 6 or 2.5."


class DaysField(DecimalField):
    """Days as a number: anything else gets one plain message, and no second one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(DAYS_MISSING) from exc

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


class DeployForm(OneTimeKey, FlaskForm):
    leader_id = IntegerField("Colleague", validators=[
        InputRequired(message="Choose a colleague from the ranked list.")])
    days = DaysField("Days asked of them", places=1, description=DAYS_HINT, validators=[
        InputRequired(message=DAYS_MISSING), Finite(DAYS_MISSING),
        NumberRange(min=Decimal("0.5"), max=Decimal("100"),
                    message="Enter between 0.5 and 100 days.")])

    def validate_days(self, field):
        if field.data is not None and not field.errors and (field.data * 2) % 1:
            raise ValidationError(DAYS_HINT)

    @property
    def half_days(self) -> int:
        return int(self.days.data * 2) if self.days.data is not None else 0


class RemoveForm(FlaskForm):
    reason = TextAreaField("Why are they coming off the commission?", validators=[
        DataRequired(message="Say why they are coming off the commission."),
        Length(max=2000)], render_kw={"rows": 2})
