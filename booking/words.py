"""Booking codes as the words staff read, in their language: an appointment's state, its
kind of session and its language. Staff pages show these, never the codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATES = {
    "booked": _l("Booked"),
    "cancelled": _l("Cancelled"),
    "attended": _l("Attended"),
    "no-show": _l("Did not attend"),
    "unrecorded": _l("Not recorded"),
}
SESSION_KINDS = {"phone": _l("Phone"), "video": _l("Video"), "chat": _l("Text chat"), "in-person": _l("In person")}
LANGUAGES = {"en": _l("English"), "fr": _l("French"), "nl": _l("Dutch")}
# The outcomes a therapist records once the session has started.
OUTCOMES = ("attended", "no-show")


def state(code: str) -> str:
    return str(STATES.get(code, code))


def session_kind(code: str) -> str:
    return str(SESSION_KINDS.get(code, code))


def language(code: str) -> str:
    return str(LANGUAGES.get(code, code))


def template_words() -> dict:
    """For the staff templates: `words.state(code)` and friends."""
    return {"words": {"state": state, "session_kind": session_kind, "language": language}}
