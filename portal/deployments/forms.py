"""Forms of the deployment page: a school's answer recorded on its behalf, and inviting that
school's leader (issue 15: a school with no login is never a dead end)."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..idempotency import OneTimeKey
from ..validators import PlausibleDate, UKDateField

VIA_CHOICES = [("", "Choose how"), ("email", "By email"), ("phone", "By phone"),
               ("letter", "By letter")]
DECISION_CHOICES = [("accepted", "They agreed"), ("declined", "They declined")]


class OnBehalfForm(FlaskForm):
    school = SelectField("Whose answer", validators=[DataRequired("Choose whose answer")])
    decision = SelectField("Their answer", choices=DECISION_CHOICES, default="accepted")
    agreed_by_name = StringField("Name of the person who answered", validators=[
        DataRequired("Enter the name of the person who gave the answer"), Length(max=120)],
        render_kw={"autocomplete": "off"})
    agreed_by_role = StringField("Their role", validators=[
        DataRequired("Enter their role, for example headteacher"), Length(max=120)])
    agreed_via = SelectField("How they answered", choices=VIA_CHOICES, validators=[
        DataRequired("Choose how they gave their answer")])
    agreed_on = UKDateField("Date they answered", validators=[
        DataRequired("Enter the date they gave their answer"),
        PlausibleDate(past=timedelta(days=365), future=timedelta(0),
                      too_early="Enter the date they answered: it cannot be more than a year "
                                "ago.",
                      too_late="The date they answered cannot be in the future.")])
    reason = TextAreaField("Reason they declined", validators=[Optional(), Length(max=2000)])

    def validate_reason(self, field):
        if self.decision.data == "declined" and not (field.data or "").strip():
            raise ValidationError("Give the reason they declined")


class InviteLeaderForm(OneTimeKey, FlaskForm):
    school = SelectField("School", validators=[DataRequired("Choose the school")])
    name = StringField("Their name", validators=[
        DataRequired("Enter their name"), Length(max=120)], render_kw={"autocomplete": "off"})
    email = EmailField("Their email address", validators=[
        DataRequired("Enter their email address"),
        Email("Enter an email address like name@school.sch.uk"), Length(max=254)],
        render_kw={"autocomplete": "off"})
