"""A cache of what is built from published content, per language and content version.

Every publish (and the seed) changes the set of published versions, so the "generation"
(the sum and count of their ids, one cheap query) changes, and nothing built from an
older generation is served again, in any process. Entries are immutable views.

The generation itself is asked of the database at most once a second per process: a
commit in this process that touches a content version forgets it at once, and another
process sees a publish within that second. That keeps the cached pages free of any
database round trip while staying exact where it matters: the person who publishes
sees the new text on their next page."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from content.models import ContentVersion

T = TypeVar("T")
MAX_ENTRIES = 4096
# Memory is bounded too: a rendered page weighs its length in characters, a view of a
# module about what its text would. The booking page changes every minute, and the old
# minutes go first.
MAX_WEIGHT = 16_000_000
VIEW_WEIGHT = 8_000
GENERATION_CHECK_SECONDS = 1.0
MISSING = object()

_entries: OrderedDict[Hashable, object] = OrderedDict()
_total_weight = 0
_generations: dict[str, tuple[float, tuple[int, int]]] = {}
_lock = threading.Lock()


def clear() -> None:
    """Forget everything (a new app: tests make one per database)."""
    global _total_weight
    with _lock:
        _entries.clear()
        _total_weight = 0
        _generations.clear()


_database_names: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_of(engine: Engine) -> str:
    """The database an engine talks to, as part of a cache key (rendering the URL each
    time cost more than the rest of a cached page)."""
    name = _database_names.get(engine)
    if name is None:
        name = _database_names[engine] = engine.url.render_as_string(hide_password=True)
    return name


def generation(engine: Engine) -> tuple[int, int]:
    database = database_of(engine)
    known = confirmed_generation(database)
    if known is not None:
        return known
    checked_at = time.monotonic()
    with engine.connect() as connection:
        total, count = connection.execute(
            select(func.coalesce(func.sum(ContentVersion.id), 0), func.count(ContentVersion.id))
            .where(ContentVersion.state == "published")
        ).one()
    value = (int(total), int(count))
    with _lock:
        _generations[database] = (checked_at, value)
    return value


def confirmed_generation(database: str) -> tuple[int, int] | None:
    """The generation this process read from the database within the check interval,
    or None: never a query, so it can be asked before a request exists."""
    known = _generations.get(database)
    if known is not None and time.monotonic() - known[0] < GENERATION_CHECK_SECONDS:
        return known[1]
    return None


def lookup(engine: Engine, key: Hashable) -> tuple[tuple, object]:
    """The entry for this key in the current generation, or MISSING, with the full key
    to `store` a freshly built entry under."""
    full_key = (database_of(engine), generation(engine), key)
    with _lock:
        if full_key in _entries:
            _entries.move_to_end(full_key)
            return full_key, _entries[full_key]
    return full_key, MISSING


def get(full_key: tuple) -> object:
    """The entry stored under a full key from `lookup`, or MISSING."""
    with _lock:
        return _entries.get(full_key, MISSING)


def _weight(value: object) -> int:
    return len(value) if isinstance(value, str) else VIEW_WEIGHT


def store(full_key: tuple, value: object) -> None:
    global _total_weight
    with _lock:
        if full_key in _entries:
            _total_weight -= _weight(_entries.pop(full_key))
        _entries[full_key] = value
        _total_weight += _weight(value)
        while len(_entries) > MAX_ENTRIES or _total_weight > MAX_WEIGHT:
            _, dropped = _entries.popitem(last=False)
            _total_weight -= _weight(dropped)


def cached(session: Session, key: Hashable, build: Callable[[], T]) -> T:
    """`build()`'s result for this key in the current generation of published content."""
    full_key, value = lookup(session.get_bind(), key)
    if value is MISSING:
        value = build()
        store(full_key, value)
    return value  # type: ignore[return-value]


@event.listens_for(Session, "after_flush")
def _note_content_writes(session: Session, _context) -> None:
    if any(isinstance(item, ContentVersion) for item in (*session.new, *session.dirty, *session.deleted)):
        session.info["content_written"] = True


# A note left by a write that was rolled back only costs one early check, later.
@event.listens_for(Session, "after_commit")
def _forget_generation_after_content_writes(session: Session) -> None:
    if session.info.pop("content_written", False):
        with _lock:
            _generations.pop(database_of(session.get_bind()), None)

