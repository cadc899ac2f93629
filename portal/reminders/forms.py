from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField
from wtforms.validators import InputRequired, NumberRange

from ..models.reminders import SETTINGS


class SettingsForm(FlaskForm):
    """One whole-number field per setting of ``models/reminders.SETTINGS``."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        pairs = (("match_remind_hours", "match_overdue_hours"),
                 ("response_remind_working_days", "response_escalate_working_days"),
                 ("contact_remind_days", "contact_escalate_days"))
        for first, second in pairs:
            a, b = getattr(self, first), getattr(self, second)
            if not a.errors and not b.errors and a.data is not None and b.data is not None \
                    and a.data > b.data:
                b.errors = list(b.errors) + [f"Must be at least {a.data}, the reminder before it"]
                ok = False
        return ok


for _name, _default, _low, _high, _label in SETTINGS:
    setattr(SettingsForm, _name, IntegerField(_label, validators=[
        InputRequired("Enter a whole number"),
        NumberRange(min=_low, max=_high, message=f"Enter a whole number from {_low} to {_high}"),
    ]))


class EmailChoiceForm(FlaskForm):
    choice = RadioField("How would you like your emails?", choices=[
        ("immediate", "An email for each thing that needs you, as it happens"),
        ("digest", "One email a day listing everything"),
    ], validators=[InputRequired("Choose how you would like your emails")])
