from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DecimalField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
    ValidationError,
)

from ..idempotency import OneTimeKey
from ..models import DESIGNATIONS, PHASES, ROLES
from ..validators import is_amount


def _optional_int(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class UserFields(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's name"),
                                                Length(max=120)])
    job_title = StringField("Job title (optional)", validators=[Length(max=120)])
    role = SelectField("Role", choices=list(ROLES.items()),
                       validators=[DataRequired("Choose a role")])
    school_id = SelectField("School", coerce=_optional_int, choices=[], validate_choice=True)
    board_id = SelectField("Board", coerce=_optional_int, choices=[], validate_choice=True)

    def validate_school_id(self, field):
        if self.role.data in ("headteacher", "sle", "home_school") and not field.data:
            raise ValidationError("Choose the school this person works at")

    def validate_board_id(self, field):
        if self.role.data == "board" and not field.data:
            raise ValidationError("Choose the Board this person sits on")


class InviteForm(OneTimeKey, UserFields):
    email = EmailField("Email address", validators=[
        DataRequired("Enter the email address"),
        Email("Enter an email address like name@school.sch.uk"), Length(max=254)])
    designation = SelectField("Designation (system leaders only)",
                              choices=list(DESIGNATIONS.items()), default="sle")


class UserForm(UserFields):
    designation = SelectField("Designation (system leaders only)",
                              choices=list(DESIGNATIONS.items()), default="sle")


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class SchoolForm(FlaskForm):
    urn = StringField("URN", validators=[
        DataRequired("Enter the school's URN"),
        Regexp(r"^\d{5,8}$", message="A URN is 5 to 8 digits")])
    name = StringField("Name", validators=[DataRequired("Enter the school's name"),
                                           Length(max=200)])
    phase = SelectField("Phase", choices=list(PHASES.items()))
    postcode = StringField("Postcode", validators=[Length(max=10)])
    local_authority_id = SelectField("Local authority", coerce=_optional_int, choices=[])
    eip_id = SelectField("EIP", coerce=_optional_int, choices=[])


class NewSchoolForm(OneTimeKey, SchoolForm):
    """Adding a school: sent twice, it still adds one."""


class ImportForm(OneTimeKey, FlaskForm):
    file = FileField("GIAS extract (CSV)", validators=[FileRequired("Choose a CSV file")])


class PoundsField(DecimalField):
    """Pounds in the form, whole pence in the model."""

    def process_formdata(self, valuelist):
        if valuelist:
            raw = (valuelist[0] or "").strip().replace(",", "").lstrip("£")
            try:
                self.data = Decimal(raw) if raw else None
            except InvalidOperation:
                self.data = None
            if raw and (self.data is None or not is_amount(self.data)):
                self.data = None
                raise ValueError("Enter an amount in pounds, like 12000 or 12000.50")


class BoardForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the Board's name"),
                                           Length(max=200)])
    phase = SelectField("Phase", choices=[("primary", "Primary"), ("secondary", "Secondary"),
                                          ("special", "Special"), ("all_through", "All-through")])
    budget = PoundsField("Budget (£)", places=2, validators=[
        InputRequired("Enter the budget in pounds, 0 if none"),
        NumberRange(min=0, max=100_000_000, message="Enter an amount from £0 to £100,000,000")])

    def validate_budget(self, field):
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError("Enter pounds and whole pence, like 12000.50")

    @property
    def budget_pence(self) -> int:
        return int((self.budget.data * 100).to_integral_value())


class NewBoardForm(OneTimeKey, BoardForm):
    """Adding a Board: sent twice, it still adds one."""


class EIPForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the EIP's name"),
                                           Length(max=200)])


class NewEIPForm(OneTimeKey, EIPForm):
    """Adding an EIP: sent twice, it still adds one."""


class SpecialismForm(OneTimeKey, FlaskForm):
    name = StringField("Specialism", validators=[DataRequired("Enter the specialism"),
                                                 Length(max=120)])


class TemplateForm(FlaskForm):
    seen_hash = HiddenField()  # the terms as they were when the page was drawn
    agreement_terms = TextAreaField("Terms and conditions", validators=[Length(max=50_000)],
                                    render_kw={"rows": 20})
