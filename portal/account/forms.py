from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..domain.invites import MIN_PASSWORD


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a password"),
                    Length(min=MIN_PASSWORD, max=200,
                           message=f"Use at least {MIN_PASSWORD} characters")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[DataRequired("Type the password again"),
                    EqualTo("password", message="The two passwords are not the same")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        "Your current password",
        validators=[DataRequired("Enter your current password")],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"),
                    Email("Enter an email address like name@school.sch.uk"), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


class PasswordCheckForm(FlaskForm):
    """Your password again, before a change to how you sign in."""

    password = PasswordField(
        "Your password, or a code from your app",
        validators=[DataRequired("Enter your password or a code from your app"),
                    Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
