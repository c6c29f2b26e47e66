from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField


class AnswerForm(FlaskForm):
    # Length is checked by services.validate_answer so the visitor gets a message that
    # says how long the text is, and the text is shown again, not lost.
    text = TextAreaField(_l("Your answer"))


class StepDoneForm(FlaskForm):
    """Marks a step done; nothing but its CSRF token."""
