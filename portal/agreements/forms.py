"""Forms for signing, declining, editing and voiding agreements, and re-confirming a password."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..validators import PlausibleDate, UKDateField


class _Seen(FlaskForm):
    """The version and content hash the user was shown (a signature can only apply to them)."""

    version = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    content_hash = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class SignForm(_Seen):
    typed_name = StringField(
        "Type your full name to sign",
        validators=[DataRequired("Type your full name to sign"), Length(max=120)],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )


class DeclineForm(_Seen):
    reason = TextAreaField(
        "Why are you declining to sign?",
        validators=[DataRequired("Give a reason for declining"), Length(max=2000)],
    )


class EditForm(FlaskForm):
    content_hash = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    desired_outcomes = TextAreaField("Intended outcomes", validators=[
        DataRequired("Enter the intended outcomes"), Length(max=4000)])
    measures_of_success = TextAreaField("Measures of success", validators=[Length(max=4000)])
    start_date = UKDateField("Start date", validators=[Optional()])
    end_date = UKDateField("End date", validators=[Optional()])
    schedule = TextAreaField("Days and dates", validators=[Length(max=2000)])
    exit_arrangements = TextAreaField("Exit arrangements", validators=[
        DataRequired("Enter the exit arrangements"), Length(max=4000)])
    terms = TextAreaField("Terms and conditions", validators=[
        DataRequired("Enter the terms and conditions"), Length(max=20000)])

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("The end date must be on or after the start date")


class VoidForm(FlaskForm):
    # its own id: the decline form on the same page has a "reason" too (issue 18, item 5)
    reason = TextAreaField("Reason for voiding", id="void-reason", validators=[
        DataRequired("Give a reason for voiding the agreement"), Length(max=2000)])


class TermsForm(FlaskForm):
    seen_hash = HiddenField()
    terms = TextAreaField("Terms and conditions for new agreements", validators=[
        DataRequired("Enter the terms and conditions"), Length(max=20000)])


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password"), Length(max=200)],
        render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a GET lookup that changes nothing

    fingerprint = StringField("Fingerprint", validators=[
        DataRequired("Paste the fingerprint printed on the agreement"), Length(max=200)],
        render_kw={"spellcheck": "false", "autocomplete": "off"})


class OnBehalfSignForm(_Seen):
    """The signature of a school with no login, recorded by the co-ordinator or director."""

    party = SelectField("Which school's signature", validators=[
        DataRequired("Choose the school")])
    agreed_by_name = StringField("Name of the person who agreed", validators=[
        DataRequired("Enter the name of the person who agreed"), Length(max=120)],
        render_kw={"autocomplete": "off"})
    agreed_by_role = StringField("Their role", validators=[
        DataRequired("Enter their role, for example headteacher"), Length(max=120)])
    agreed_via = SelectField("How they agreed", choices=[
        ("", "Choose how"), ("email", "By email"), ("phone", "By phone"),
        ("letter", "By letter")], validators=[DataRequired("Choose how they agreed")])
    agreed_on = UKDateField("Date they agreed", validators=[
        DataRequired("Enter the date they agreed"),
        PlausibleDate(past=timedelta(days=365), future=timedelta(0),
                      too_early="Enter the date they agreed: it cannot be more than a year "
                                "ago.",
                      too_late="The date they agreed cannot be in the future.")])
