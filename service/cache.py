"""The one in-process cache: cachetools' TTLCache, timed by service/clock.py, so tests
move the clock instead of sleeping.

What is cached is built from the database and named by what it depends on: its key
holds the database and the current version of that freshness name (service/freshness),
so a change, once seen, is never answered from an older entry."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from service.clock import clock

T = TypeVar("T")
MISSING = object()


def _weight(value: object) -> int:
    # A rendered text weighs its length; a view of a module about what its text would.
    return len(value) if isinstance(value, str) else 8_000


class Cache:
    """A bounded TTLCache behind a lock (cachetools' caches are not thread-safe)."""

    def __init__(self, maxsize: int, ttl: float, getsizeof: Callable[[object], int] | None = None) -> None:
        self.maxsize, self.ttl, self.getsizeof = maxsize, ttl, getsizeof
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.entries: TTLCache = TTLCache(self.maxsize, self.ttl, timer=clock.timestamp, getsizeof=self.getsizeof)

    def get(self, key: Hashable, default: object = MISSING) -> object:
        with self.lock:
            return self.entries.get(key, default)

    def set(self, key: Hashable, value: object) -> None:
        with self.lock:
            try:
                self.entries[key] = value
            except ValueError:  # larger than the whole cache: not kept
                pass

    def pop(self, key: Hashable) -> None:
        with self.lock:
            self.entries.pop(key, None)


# What is built from published content: bounded in memory (16 MB of text), kept an hour
# at most, and keyed by the content's freshness version.
built = Cache(maxsize=16_000_000, ttl=3600, getsizeof=_weight)

_database_names: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_of(engine: Engine) -> str:
    """The database an engine talks to, as part of a key (tests run many apps)."""
    name = _database_names.get(engine)
    if name is None:
        name = _database_names[engine] = engine.url.render_as_string(hide_password=True)
    return name


def cached(session: Session, key: Hashable, build: Callable[[], T | None], depends_on: str = "published-content") -> T:
    """`build()`'s result for `key` as long as `depends_on` has not changed. A build that
    returns None (nothing there) is not kept, so made-up addresses cannot fill the cache."""
    from service import freshness

    full_key = (database_of(session.get_bind()), depends_on, freshness.version(session, depends_on), key)
    value = built.get(full_key)
    if value is MISSING:
        value = build()
        if value is not None:
            built.set(full_key, value)
    return value  # type: ignore[return-value]


def clear() -> None:
    """Forget everything (a new app: tests make one per database)."""
    from service import freshness

    built.clear()
    freshness.known.clear()
