from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


class BookingForm(FlaskForm):
    # Lengths and formats are checked by services.validate_request, which says what is
    # wrong in the visitor's words and keeps what they typed.
    note = TextAreaField(_l("A short note for the therapist (optional)"), validators=[Optional()])
    contact = StringField(_l("Phone number the therapist will call"), validators=[Optional()],
                          render_kw={"autocomplete": "off", "inputmode": "tel"})
    reminder_email = StringField(_l("E-mail address for reminders (optional)"), validators=[Optional()],
                                 render_kw={"autocomplete": "off", "inputmode": "email", "spellcheck": "false"})
    calendar_title = StringField(_l("Title in your calendar file (optional; otherwise “Appointment”)"),
                                 validators=[Optional(), Length(max=80)])
    from_relative = BooleanField(_l("I am a relative or friend of someone worried about their thoughts"))
    use_my_key = BooleanField(_l("Keep this appointment with my anonymous key instead of a new booking key"))
    # One random token per filling-in of the form: posting it again recovers the booking.
    attempt = HiddenField()


class ManageForm(FlaskForm):
    key = StringField(_l("Your booking key"), validators=[InputRequired(), Length(max=64)],
                      render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
