"""Size limits on what staff save. Every text a staff form stores has a limit, checked
before anything is saved; over it, the form says so and keeps what was typed (nothing is
cut off silently). The request itself is bounded too (MAX_CONTENT_LENGTH), but that
alone would let one field take all of it."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l

# One text field of a content document (a step's body, a question, a band's text).
MAX_CONTENT_FIELD = 20_000
# The whole document as stored.
MAX_CONTENT_DOCUMENT = 200_000
# A version's note for colleagues, a reason for sending back.
MAX_STAFF_NOTE = 500


def too_long(what: str, text: str | None, limit: int) -> str | None:
    """A message for staff if `text` is over `limit` characters, else None."""
    length = len(text or "")
    if length <= limit:
        return None
    return str(_l("%(what)s is %(length)d characters long; the most it can be is %(limit)d.", what=what,
                  length=length, limit=limit))


def texts_in(value: object) -> Iterator[str]:
    """Every string in a document (dicts, lists), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from texts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_in(item)


def document_problems(document: dict, serialized_length: int) -> list[str]:
    problems = []
    if serialized_length > MAX_CONTENT_DOCUMENT:
        problems.append(str(_l("The whole text is %(length)d characters long; the most it can be is %(limit)d.",
                               length=serialized_length, limit=MAX_CONTENT_DOCUMENT)))
    longest = max((len(text) for text in texts_in(document)), default=0)
    if longest > MAX_CONTENT_FIELD:
        problems.append(str(_l("One field is %(length)d characters long; the most a field can be is %(limit)d.",
                               length=longest, limit=MAX_CONTENT_FIELD)))
    return problems
