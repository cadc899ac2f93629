from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"),
                    Email("Enter an email address like name@school.sch.uk"), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password"), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class CodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator app or a recovery code."""

    code = StringField(
        "Code",
        validators=[DataRequired("Enter the 6-digit code from your authenticator app"),
                    Length(max=20, message="Enter the 6-digit code from your app, or a "
                                           "recovery code")],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none"},
    )
