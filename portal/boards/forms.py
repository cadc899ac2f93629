"""The Board's approval of its funding, and the co-ordinator's change of who pays."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import DataRequired, Optional

from ..models import ROUTES
from ..validators import IdSelectField, MoneyField, choice_errors


class ApproveFundingForm(FlaskForm):
    concession = MoneyField("Further concession per day (£)", default=0, maximum=1_000_000,
                            validators=[Optional()])


class ChangeFundingForm(FlaskForm):
    route = RadioField("Who pays (the route)", choices=list(ROUTES.items()),
                       validators=[DataRequired(message="Choose who pays.")],
                       **choice_errors("Choose who pays from the list."))
    board_id = IdSelectField("Board that pays", choices=[],
                             message="Choose the Board that pays from the list.")
