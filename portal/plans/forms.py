"""Forms for the action plan, first contact, visits and variations.

Row forms carry a per-row prefix (``a12-description``) so several rows can be open for editing
on one page with unique ids. CSRF is checked for every POST by ``CSRFProtect``; each template
form carries the ``csrf_token`` input (htmx sends the header), so the forms' own CSRF field is
switched off to keep the prefixed names simple.
"""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..idempotency import OneTimeKey
from ..models import ACTION_STATUSES, STANDARDS
from ..validators import PlausibleDate, UKDateField, choice_errors, whole_number, years


class _Form(FlaskForm):
    class Meta:
        csrf = False


def _int_or_none(value):
    if value in (None, "", "None", "0", 0):
        return None
    return whole_number(value)


class ActionForm(_Form):
    description = TextAreaField(
        "What will be done", validators=[DataRequired("Describe the action"), Length(max=2000)],
        render_kw={"rows": 2})
    owner = StringField("Who", validators=[Length(max=120)])
    due_date = UKDateField("By when", validators=[
        Optional(), PlausibleDate(past=years(2), future=years(3))],
                         render_kw={"autocomplete": "off"})
    status = SelectField("Status", choices=list(ACTION_STATUSES.items()), default="not_started")
    success_criteria = TextAreaField("Success criteria", validators=[Length(max=2000)],
                                     render_kw={"rows": 2})
    outcome_id = SelectField("Outcome it serves", coerce=_int_or_none, validate_choice=False,
                             invalid_value_message="Choose an outcome from this plan")
    between_visits = BooleanField("Agreed for between visits")
    version = HiddenField()

    def set_outcomes(self, outcomes) -> ActionForm:
        self.outcome_id.choices = [("", "None")] + [
            (o.id, f"{i}. {o.text[:60]}") for i, o in enumerate(outcomes, start=1)]
        self._outcome_ids = {o.id for o in outcomes}
        return self

    def validate_outcome_id(self, field):
        if field.data is not None and field.data not in getattr(self, "_outcome_ids", set()):
            from wtforms.validators import ValidationError

            raise ValidationError("Choose an outcome from this plan")

    def values(self) -> dict:
        return {
            "description": self.description.data or "",
            "owner": self.owner.data or "",
            "due_date": self.due_date.data,
            "status": self.status.data,
            "success_criteria": self.success_criteria.data or "",
            "outcome_id": self.outcome_id.data,
            "between_visits": bool(self.between_visits.data),
        }


class OutcomeForm(_Form):
    text = TextAreaField("Intended outcome",
                         validators=[DataRequired("Describe the outcome"), Length(max=2000)],
                         render_kw={"rows": 2})
    standard = SelectField("Teachers' Standard",
                           choices=[("", "None")] + [(k, k) for k in STANDARDS],
                           validators=[Optional()])
    version = HiddenField()

    def values(self) -> dict:
        return {"text": self.text.data or "", "standard": self.standard.data or None}


class NewActionForm(OneTimeKey, ActionForm):
    """Adding an action: sent twice, it still adds one row."""


class NewOutcomeForm(OneTimeKey, OutcomeForm):
    """Adding an outcome: sent twice, it still adds one row."""


class TextForm(_Form):
    next_steps = TextAreaField("Next steps and actions agreed between visits",
                               validators=[Length(max=10000)], render_kw={"rows": 5})
    notes = TextAreaField("Notes", validators=[Length(max=10000)], render_kw={"rows": 5})
    version = HiddenField()


class VersionForm(_Form):
    version = HiddenField()


class MoveForm(_Form):
    direction = SelectField("Direction", choices=[("up", "Up"), ("down", "Down")])


class FirstContactForm(_Form):
    note = StringField("How you made contact (optional)", validators=[Length(max=300)])


class VisitForm(OneTimeKey, _Form):
    # the deployment's own dates (its time frame, when it was signed) are checked by log_visit
    visit_date = UKDateField("Date of the visit", validators=[
        InputRequired("Enter the date of the visit"),
        PlausibleDate(past=years(3), future=timedelta(0),
                      too_early="Enter the date of the visit, on or after {earliest}",
                      too_late="The visit date cannot be in the future")])
    half_days = RadioField("Length", choices=[("2", "Full day"), ("1", "Half day")], default="2",
                           validators=[InputRequired("Choose a half or full day")])
    notes = TextAreaField("What was done", validators=[Length(max=10000)],
                          render_kw={"rows": 5})
    actions = SelectMultipleField("Actions worked on", coerce=whole_number, validate_choice=True,
                                  **choice_errors("Choose actions of this plan from the list."),
                                  option_widget=widgets.CheckboxInput(),
                                  widget=widgets.ListWidget(prefix_label=False))


class PlanVisitForm(OneTimeKey, _Form):
    # the deployment's time frame and days left are checked by plan_visit
    visit_date = UKDateField("Date of the visit", validators=[
        InputRequired("Enter the date of the visit"),
        PlausibleDate(past=timedelta(0), future=years(2),
                      too_early="A visit is planned for today or later; log a visit already "
                                "made instead",
                      too_late="Enter a date before {latest}")])
    half_days = RadioField("Length", choices=[("2", "Full day"), ("1", "Half day")], default="2",
                           validators=[InputRequired("Choose a half or full day")])
    notes = TextAreaField("What is planned (optional)", validators=[Length(max=10000)],
                          render_kw={"rows": 3})


class DeliverVisitForm(_Form):
    """Log a planned visit as delivered: what was done and the actions worked on."""

    notes = TextAreaField("What was done", validators=[Length(max=10000)],
                          render_kw={"rows": 5})
    actions = SelectMultipleField("Actions worked on", coerce=whole_number, validate_choice=True,
                                  **choice_errors("Choose actions of this plan from the list."),
                                  option_widget=widgets.CheckboxInput(),
                                  widget=widgets.ListWidget(prefix_label=False))


class VariationForm(OneTimeKey, _Form):
    half_days = IntegerField(
        "Extra half-days", validators=[InputRequired("Enter the number of extra half-days"),
                                       NumberRange(1, 40, "Between 1 and 40 half-days")])
    reason = TextAreaField("Why they are needed",
                           validators=[DataRequired("Say why the extra days are needed"),
                                       Length(max=2000)], render_kw={"rows": 3})


class DeclineForm(_Form):
    reason = TextAreaField("Reason for declining",
                           validators=[DataRequired("Say why you decline"), Length(max=2000)],
                           render_kw={"rows": 2})
