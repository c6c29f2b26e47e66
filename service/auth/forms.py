from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from service.auth.passwords import MAX_LENGTH


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    # Paste allowed, no maximum below the policy's: password managers must work.
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[InputRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"})


class EnrolForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    secret = HiddenField()
    code = StringField(_l("Code shown by your authenticator app"), validators=[InputRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                            render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[InputRequired(), Length(max=32)], render_kw={"autocomplete": "one-time-code"})


class RolesForm(FlaskForm):
    """One box per role (service.auth.models.ROLES)."""

    admin = BooleanField("admin")
    editor = BooleanField("editor")
    publisher = BooleanField("publisher")
    therapist = BooleanField("therapist")
    duty = BooleanField("duty")
    counsellor = BooleanField("counsellor")


class InviteForm(RolesForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=63)])
    display_name = StringField(_l("Display name"), validators=[InputRequired(), Length(max=120)])
    email = EmailField(_l("Work e-mail"), validators=[InputRequired(), Email(check_deliverability=False),
                                                      Length(max=254)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""
