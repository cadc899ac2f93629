"""The Deployment Request form, triage and proposal forms."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import ListWidget

from ..idempotency import OneTimeKey
from ..models import PHASES, ROUTES, STANDARDS, SUPPORT_KINDS
from ..validators import (
    MAX_AHEAD,
    MAX_TIME_FRAME,
    TOLERANCE,
    Finite,
    GroupCheckbox,
    IdSelectField,
    PlausibleDate,
    UKDateField,
    choice_errors,
    time_frame_problem,
    whole_number,
)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = GroupCheckbox()


class DayField(UKDateField):
    """A required date (``message`` when it is left empty), and any further checks."""

    def __init__(self, label, message: str, *checks, **kw):
        super().__init__(label, validators=[InputRequired(message=message), *checks], **kw)


_PLAUSIBLE_END = PlausibleDate(
    past=TOLERANCE, future=MAX_AHEAD + MAX_TIME_FRAME,
    too_early="The support cannot end in the past: enter {earliest} or later.",
    too_late="Enter an end date by {latest}.")


def _standard_label(code: str) -> str:
    return f"{'Part Two' if code == 'PART2' else code}: {STANDARDS[code]}"


def _required(what: str):
    return DataRequired(message=f"Enter {what}.")


def check_time_frame_end(form, field) -> None:
    """A time frame's end (``end_date`` beside ``start_date``): after its start, at most two
    years on; without a usable start, still plausible. Every form with a time frame uses it."""
    if field.errors:
        return
    if not form.start_date.errors:
        problem = time_frame_problem(form.start_date.data, field.data)
        if problem:
            raise ValidationError(problem)
    _PLAUSIBLE_END(form, field)


class RequestForm(FlaskForm):
    title = StringField("Short title", validators=[_required("a short title"), Length(max=200)])
    standards = CheckboxesField(
        "Teachers' Standards the staff need support with",
        choices=[(code, _standard_label(code)) for code in STANDARDS],
        validators=[DataRequired(message="Choose at least one of the Teachers' Standards.")],
    )
    phase = SelectField("Phase", choices=list(PHASES.items()),
                        validators=[DataRequired(message="Choose a phase.")])
    specialism_id = IdSelectField("Subject or specialism", coerce=int,
                                  message="Choose a subject or specialism from the list.",
                                  validators=[InputRequired(message="Choose a subject or "
                                                                    "specialism.")])
    staff_involved = TextAreaField("Staff involved (roles, not names)",
                                   validators=[_required("the staff involved"),
                                               Length(max=4000)])
    priorities = TextAreaField("Priorities", validators=[_required("the priorities"),
                                                         Length(max=4000)])
    desired_outcomes = TextAreaField("Desired outcomes",
                                     validators=[_required("the desired outcomes"),
                                                 Length(max=4000)])
    measures_of_success = TextAreaField("Measures of success",
                                        validators=[_required("the measures of success"),
                                                    Length(max=4000)])
    start_date = DayField(
        "Time frame from", "Enter the date the support should start, like 11/01/2027.",
        PlausibleDate(past=TOLERANCE, future=MAX_AHEAD,
                      too_early="The support cannot start in the past: enter {earliest} or "
                                "later.",
                      too_late="Enter a start date by {latest}: requests are for support in "
                               "the next two years."))
    end_date = DayField("Time frame to", "Enter the date the support should end, like 26/03/2027.")
    days_wanted = DecimalField(
        "Days wanted", places=1,
        description="For a deployment, commission or visit. Whole or half days, like 4 or 2.5.",
        validators=[Optional(),
                    Finite("Enter the number of days wanted, like 4 or 2.5."),
                    NumberRange(min=Decimal("0.5"), max=Decimal("200"),
                                message="Enter between 0.5 and 200 days.")])
    hours_wanted = IntegerField(
        "Hours wanted", description="For a one-off consultation only: it is charged by the hour.",
        validators=[Optional(), NumberRange(min=1, max=40, message="Enter 1 to 40 hours.")])
    kind = RadioField("Kind of support", choices=list(SUPPORT_KINDS.items()),
                      validators=[DataRequired(message="Choose the kind of support.")])
    route = RadioField("Route", choices=list(ROUTES.items()),
                       validators=[DataRequired(message="Choose the route.")])
    school_ids = CheckboxesField("Receiving schools", coerce=whole_number, validators=[
        InputRequired(message="Choose at least one receiving school.")],
        **choice_errors("Choose receiving schools from the list."))

    def validate_end_date(self, field):
        check_time_frame_end(self, field)

    def validate_days_wanted(self, field):
        if field.data is not None and not field.errors and (field.data * 2) % 1:
            raise ValidationError("Enter whole or half days, like 4 or 2.5.")

    def validate(self, extra_validators=None) -> bool:
        """Days for most kinds of support, hours for a consultation: whichever the kind needs
        is required (the other is ignored)."""
        ok = super().validate(extra_validators)
        consultation = self.kind.data == "consultation"
        needed = self.hours_wanted if consultation else self.days_wanted
        if needed.data is None and not needed.errors:
            needed.errors = [*needed.errors, "Enter the hours of consultation wanted, like 2."
                             if consultation else
                             "Enter the number of days wanted, like 4 or 2.5."]
            ok = False
        return ok

    @property
    def half_days(self) -> int:
        if self.kind.data == "consultation" or self.days_wanted.data is None:
            return 0  # set from the hours by brokering.time_asked
        return int(self.days_wanted.data * 2)

    def model_fields(self) -> dict:
        return {
            "title": self.title.data.strip(),
            "standards_mask": _mask(self.standards.data),
            "phase": self.phase.data,
            "specialism_id": self.specialism_id.data,
            "staff_involved": self.staff_involved.data.strip(),
            "priorities": self.priorities.data.strip(),
            "desired_outcomes": self.desired_outcomes.data.strip(),
            "measures_of_success": self.measures_of_success.data.strip(),
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "half_days_wanted": self.half_days,
            "hours_wanted": self.hours_wanted.data if self.kind.data == "consultation" else None,
            "kind": self.kind.data,
            "route": self.route.data,
        }


class NewRequestForm(OneTimeKey, RequestForm):
    """A new request: sent twice, it still makes one. ``alliance_id``: the network it goes to,
    asked only of a headteacher whose school is in more than one (the route drops it
    otherwise)."""

    alliance_id = RadioField("Network to send it to", coerce=whole_number, validators=[
        InputRequired(message="Choose the network to send it to.")],
                             **choice_errors("Choose one of your school's networks."))


def _mask(codes) -> int:
    from ..models import standards_to_mask

    return standards_to_mask(codes)


class TriageForm(FlaskForm):
    action = RadioField("Decision", choices=[
        ("matching", "Accept for matching"),
        ("more_info", "Ask for more information"),
        ("declined", "Decline the request"),
    ], validators=[DataRequired(message="Choose what to do with the request.")])
    reason = TextAreaField("Reason or question for the requester",
                           validators=[Length(max=2000)])

    def validate_reason(self, field):
        if self.action.data in ("more_info", "declined") and not (field.data or "").strip():
            raise ValidationError("Say what you need, or why you are declining.")


class ProposeForm(OneTimeKey, FlaskForm):
    leader_id = IntegerField("System leader", validators=[
        InputRequired(message="Choose a system leader.")])


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Length(max=2000)])


class RespondForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason for declining", validators=[Length(max=2000)])

    def validate_reason(self, field):
        if self.decision.data == "declined" and not (field.data or "").strip():
            raise ValidationError("Give a reason for declining.")
