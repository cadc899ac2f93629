from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import ListWidget

from ..domain.profiles import DAYS_MESSAGE, MAX_TERM_DAYS
from ..idempotency import OneTimeKey
from ..models import PHASES, STANDARDS
from ..validators import (
    GroupCheckbox,
    PlausibleDate,
    UKDateField,
    choice_errors,
    whole_number,
    years,
)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = GroupCheckbox()


def _days(label: str) -> IntegerField:
    return IntegerField(label, validators=[
        InputRequired("Enter a number of days, 0 if none"),
        NumberRange(min=0, max=MAX_TERM_DAYS, message=DAYS_MESSAGE)])


class ProfileForm(FlaskForm):
    bio = TextAreaField("About you", validators=[Length(max=4000)])
    phases = MultiCheckboxField("Phases you work in", choices=list(PHASES.items()))
    standards = MultiCheckboxField("Teachers' Standards you support",
                                   choices=[(k, f"{k}: {v}") for k, v in STANDARDS.items()])
    specialisms = MultiCheckboxField("Specialisms", coerce=whole_number, choices=[],
                                     **choice_errors("Choose specialisms from the list."))
    autumn_days = _days("Days offered in the autumn term")
    spring_days = _days("Days offered in the spring term")
    summer_days = _days("Days offered in the summer term")
    accepting = BooleanField("I am accepting new deployments")
    version = HiddenField()


class UnavailableForm(OneTimeKey, FlaskForm):
    start = UKDateField("First day unavailable", validators=[
        DataRequired("Enter the first day"), PlausibleDate(past=years(1), future=years(3))])
    end = UKDateField("Last day unavailable", validators=[
        DataRequired("Enter the last day"), PlausibleDate(past=years(1), future=years(4))])
    note = StringField("Note (optional)", validators=[Length(max=200)])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            from wtforms.validators import ValidationError

            raise ValidationError("The last day must be on or after the first day")


class ReleaseForm(FlaskForm):
    days = IntegerField("Days you approve for release this year", validators=[
        InputRequired("Enter the days you approve, 0 if none"),
        NumberRange(min=0, max=195, message="Enter a number of days from 0 to 195")])
    version = HiddenField()


class DeleteForm(FlaskForm):
    pass


__all__ = ["DeleteForm", "Optional", "ProfileForm", "ReleaseForm", "UnavailableForm"]
