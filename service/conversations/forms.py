"""Forms of /talk and /staff/messages. Lengths and contents are checked by the services,
which say what is wrong in the writer's words and keep what they wrote; these forms
carry the CSRF token and the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField


class FirstMessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), render_kw={"rows": 10, "spellcheck": "true"})
    from_relative = BooleanField(_l("I'm writing about someone close to me"))
    notice_address = StringField(
        _l("E-mail address for a notice (optional)"),
        render_kw={"autocomplete": "off", "inputmode": "email", "spellcheck": "false"})


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), render_kw={"rows": 8, "spellcheck": "true"})


class NoticeForm(FlaskForm):
    notice_address = StringField(
        _l("E-mail address for a notice (optional)"),
        render_kw={"autocomplete": "off", "inputmode": "email", "spellcheck": "false"})


class ConfirmForm(FlaskForm):
    """Nothing but the CSRF token: delete, claim, close, make urgent."""


class FeedbackForm(FlaskForm):
    """From a self-help exercise: send the answer into a thread and ask for feedback."""

    exercise_id = HiddenField()
    body = TextAreaField(_l("Anything you want to add (optional)"), render_kw={"rows": 4})


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the visitor"), render_kw={"rows": 8, "spellcheck": "true"})
    # Set by the counsellor after being told another holds the thread.
    take_over = BooleanField(_l("Take this thread over and answer"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (never shown to the visitor)"), render_kw={"rows": 4})


class HandOverForm(FlaskForm):
    to = SelectField(_l("Hand over to"), validate_choice=False)
