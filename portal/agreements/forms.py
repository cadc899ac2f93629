"""Forms for signing, declining, editing and voiding agreements, and re-confirming a password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput


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
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
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
