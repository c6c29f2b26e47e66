from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class OpenKeyForm(FlaskForm):
    key = StringField(
        _l("Your key"),
        validators=[InputRequired(message=_l("Please type your key.")),
                    Length(max=64, message=_l("That is too long to be a key."))],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: create, close and forget."""
