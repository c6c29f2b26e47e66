from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional


class ContactRequestForm(FlaskForm):
    # Choices are checked by services.validate_request, which says what is wrong in the
    # visitor's words and keeps what they typed.
    channel = RadioField(_l("How should we contact you?"), validate_choice=False, choices=[
        SelectChoice("phone", _l("Call me on a phone number I give")),
        SelectChoice("call-line", _l("I will call the programme's line myself")),
        SelectChoice("message", _l("Write to me here: I read and answer with my case code")),
    ])
    contact = StringField(_l("Phone number (only if you want us to call you)"), validators=[Optional(), Length(max=40)],
                          render_kw={"autocomplete": "off", "inputmode": "tel"})
    time_window = RadioField(_l("When suits you best?"), validate_choice=False, choices=[
        SelectChoice("soon", _l("As soon as possible")), SelectChoice("morning", _l("Morning")),
        SelectChoice("afternoon", _l("Afternoon")), SelectChoice("evening", _l("Evening")),
    ])
    language = SelectField(_l("Language"), validate_choice=False)
    message = TextAreaField(_l("A short message (optional)"), validators=[Optional()])


class StatusForm(FlaskForm):
    code = StringField(_l("Your case code"), validators=[Optional(), Length(max=64)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
