"""Anonymous keys: made by the server, shown once, kept only as a hash."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.clock import clock
from service.hashing import anonymous_key_digest
from service.visitor.models import AnonymousKey

# Crockford's base 32: no I, L, O or U, so a key copied by hand is hard to get wrong.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_LENGTH = 20  # 20 characters x 5 bits = 100 bits of entropy
GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


class MalformedKey(ValueError):
    """The text cannot be a key: wrong length or characters."""


def generate_key() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(KEY_LENGTH))
    return format_key(raw)


def format_key(normalised: str) -> str:
    return "-".join(normalised[i : i + GROUP] for i in range(0, len(normalised), GROUP))


def normalise_key(typed: str) -> str:
    """Forgiving of case, spaces, dashes and look-alike letters; strict about the rest."""
    candidate = _SEPARATORS.sub("", typed or "").upper().translate(_LOOKALIKES)
    if len(candidate) != KEY_LENGTH or any(char not in ALPHABET for char in candidate):
        raise MalformedKey
    return candidate


def create_key(session: Session) -> tuple[AnonymousKey, str]:
    """A new key and its plain text, which the caller shows once and then forgets."""
    plain = generate_key()
    today = clock.today()
    key = AnonymousKey(digest=anonymous_key_digest(normalise_key(plain)), created_on=today, last_used_on=today)
    session.add(key)
    session.flush()
    return key, plain


def find_key(session: Session, typed: str) -> AnonymousKey | None:
    """The key the visitor typed, or None. Raises MalformedKey before hashing anything
    that cannot be a key."""
    digest = anonymous_key_digest(normalise_key(typed))
    key = session.scalar(select(AnonymousKey).where(AnonymousKey.digest == digest))
    if key is not None:
        key.last_used_on = clock.today()
    return key


def forget_key(session: Session, key_id: int) -> None:
    """Deletes the key; the database cascades to everything linked to it, and packages
    that keep more for a key (bookings) erase it first, in the same transaction."""
    from service.visitor.current import key_forgetting

    key_forgetting.send(session, key_id=key_id)
    session.execute(delete(AnonymousKey).where(AnonymousKey.id == key_id))


def erase_unused_keys(session: Session, unused_for_days: int) -> int:
    cutoff = clock.today() - dt.timedelta(days=unused_for_days)
    result = session.execute(delete(AnonymousKey).where(AnonymousKey.last_used_on < cutoff))
    return result.rowcount or 0
