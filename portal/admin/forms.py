from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
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
    Optional,
    Regexp,
    ValidationError,
)

from ..domain.policy import commissions as commission_policy
from ..idempotency import OneTimeKey
from ..models import DESIGNATIONS, PHASES, ROLES
from ..validators import IdSelectField, MoneyField, PlausibleDate, UKDateField, years


class Versioned:
    """An edit form that carries the version of the row it was drawn from (``version``)."""

    version = HiddenField()

    def seen_version(self) -> int | None:
        """The version the form was sent with; None when sent without one."""
        sent = self.version.raw_data
        try:
            return int(sent[0]) if sent else None
        except (TypeError, ValueError):
            return None


class UserFields(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's name"),
                                                Length(max=120)])
    job_title = StringField("Job title (optional)", validators=[Length(max=120)])
    role = SelectField("Role", choices=list(ROLES.items()),
                       validators=[DataRequired("Choose a role")])
    school_id = IdSelectField("School", choices=[],
                              message="Choose a school from the list, or No school")
    board_id = IdSelectField("Board", choices=[],
                             message="Choose a Board from the list, or No Board")
    group = SelectField("EIP or local authority", choices=[], validate_choice=False)
    # checked by the command (domain/admin.py ``_check_charged_as``), its message beside it
    leader_profile = SelectField(
        "Leader profile (Teaching School headteacher only)",
        choices=[("", "No leader profile")]
        + list(commission_policy.TEACHING_SCHOOL_HEAD_CHARGED_AS.items()),
        default="", validate_choice=False)

    def validate_school_id(self, field):
        if self.role.data in ("headteacher", "sle", "home_school") and not field.data \
                and not field.errors:
            raise ValidationError("Choose the school this person works at")

    def validate_group(self, field):
        if self.role.data == "officer" and not field.data:
            raise ValidationError("Choose the EIP or local authority this officer represents")

    def validate_board_id(self, field):
        if self.role.data == "board" and not field.data and not field.errors:
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


class SchoolForm(Versioned, FlaskForm):
    urn = StringField("URN", validators=[
        DataRequired("Enter the school's URN"),
        Regexp(r"^\d{5,8}$", message="A URN is 5 to 8 digits")])
    name = StringField("Name", validators=[DataRequired("Enter the school's name"),
                                           Length(max=200)])
    phase = SelectField("Phase", choices=list(PHASES.items()))
    address_line1 = StringField("Address line 1", validators=[Length(max=100)])
    address_line2 = StringField("Address line 2 (optional)", validators=[Length(max=100)])
    address_line3 = StringField("Address line 3 (optional)", validators=[Length(max=100)])
    town = StringField("Town or city", validators=[Length(max=100)])
    postcode = StringField("Postcode", validators=[Length(max=10)])
    local_authority_id = IdSelectField("Local authority", choices=[],
                                       message="Choose a local authority from the list, or None")
    eip_id = IdSelectField("EIP", choices=[], message="Choose an EIP from the list, or None")


class NewSchoolForm(OneTimeKey, SchoolForm):
    """Adding a school: sent twice, it still adds one."""


class ImportForm(OneTimeKey, FlaskForm):
    file = FileField("GIAS extract (CSV)", validators=[FileRequired("Choose a CSV file")])
    local_authorities = StringField(
        "Only these local authorities (optional)",
        validators=[Optional(), Length(max=2000, message="Name at most a few dozen authorities")])

    def only_las(self) -> set[str] | None:
        """The local authorities named (one a line or separated by commas), or None: all."""
        names = {n.strip() for n in (self.local_authorities.data or "").replace("\n", ",")
                 .split(",") if n.strip()}
        return names or None


class BoardForm(Versioned, FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the Board's name"),
                                           Length(max=200)])
    phase = SelectField("Phase", choices=[("primary", "Primary"), ("secondary", "Secondary"),
                                          ("special", "Special"), ("all_through", "All-through")])
    # pounds and pence as typed (1,500.50 or £1500); at most £10m, which the column holds
    budget = MoneyField("Budget (£)", maximum=1_000_000_000, validators=[
        InputRequired("Enter the budget in pounds, 0 if none")])

    @property
    def budget_pence(self) -> int:
        if self.budget.data is None:  # InputRequired: only a form that did not validate
            raise ValueError("the budget is read from a form that did not validate")
        return self.budget.data


class NewBoardForm(OneTimeKey, BoardForm):
    """Adding a Board: sent twice, it still adds one."""


class EIPForm(Versioned, FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the EIP's name"),
                                           Length(max=200)])


class NewEIPForm(OneTimeKey, EIPForm):
    """Adding an EIP: sent twice, it still adds one."""


class SpecialismForm(OneTimeKey, FlaskForm):
    name = StringField("Specialism", validators=[DataRequired("Enter the specialism"),
                                                 Length(max=120)])


class AuditFilterForm(FlaskForm):
    """The audit trail's date filters (a GET form): a day no audit record can have, like
    9999-12-31, is refused beside the field rather than overflowing the date sums."""

    class Meta:
        csrf = False  # a GET lookup that changes nothing

    date_from = UKDateField("From", validators=[
        Optional(), PlausibleDate(past=years(20), future=years(1))])
    date_to = UKDateField("To", validators=[
        Optional(), PlausibleDate(past=years(20), future=years(1))])


class TemplateForm(FlaskForm):
    seen_hash = HiddenField()  # the terms as they were when the page was drawn
    agreement_terms = TextAreaField("Terms and conditions", validators=[Length(max=50_000)],
                                    render_kw={"rows": 20})


class SignInForm(FlaskForm):
    """How the alliance's people sign in (issue 21). The client secret is not a field: it comes
    from the environment, and the page shows only its last four characters."""

    provider = SelectField("School accounts", choices=[
        ("", "Not used: email address and password only"),
        ("microsoft", "Microsoft 365 (Entra ID)"),
        ("google", "Google Workspace")])
    client_id = StringField("Client id (application id)",
                            validators=[Length(max=200, message="At most 200 characters")])
    tenants = TextAreaField("Microsoft tenant ids, one a line",
                            validators=[Length(max=1000, message="At most 1,000 characters")])
    domains = TextAreaField("Email domains, one a line",
                            validators=[Length(max=1000, message="At most 1,000 characters")])
    require_two_factor = BooleanField(
        "Require two-factor sign-in for the co-ordinator and directors")
