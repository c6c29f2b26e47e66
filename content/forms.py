from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp


class NewPageForm(FlaskForm):
    slug = StringField(_l("Address (after /pages/)"), validators=[
        InputRequired(), Length(max=80),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Use lowercase letters, digits and single hyphens."))])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])


class ReviewForm(FlaskForm):
    reason = TextAreaField(_l("Why it goes back (for the author)"), validators=[Length(max=500)])
