"""The key open in this browser session, if any. The session holds the key's row id,
never the key itself."""

from __future__ import annotations

from blinker import Namespace
from flask import session

from service.db import db
from service.visitor.models import AnonymousKey

signals = Namespace()
# Sent with the key's id when a visitor opens or creates a key, so packages that keep
# session-only state (progress) can move it onto the key.
key_opened = signals.signal("key-opened")
# Sent with the database session and the key's id, inside the transaction that forgets
# the key, so packages that hold things for a key (bookings) erase them in the same unit.
key_forgetting = signals.signal("key-forgetting")

_SESSION_FIELD = "key_id"


def current_key_id() -> int | None:
    key_id = session.get(_SESSION_FIELD)
    if key_id is None:
        return None
    if db.session.get(AnonymousKey, key_id) is None:
        # Erased meanwhile (forgotten elsewhere, or expired): the session lets go of it.
        session.pop(_SESSION_FIELD, None)
        return None
    return key_id


def remember_open_key(key_id: int) -> None:
    session[_SESSION_FIELD] = key_id


def close_key() -> None:
    """Ends the visitor's session on the server, so a copy of the cookie opens nothing
    any more; only the language choice carries on into the next one."""
    from service import sessions

    sessions.end(keep=("locale",))
