"""A cache of what is built from published content, per language and content version.

Every publish (and the seed) changes the set of published versions, so the "generation"
(the sum and count of their ids, one cheap query) changes, and nothing built from an
older generation is served again, in any process. Entries are immutable views."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.models import ContentVersion

T = TypeVar("T")
MAX_ENTRIES = 4096
_entries: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def clear() -> None:
    """Forget everything (a new app: tests make one per database)."""
    with _lock:
        _entries.clear()


def generation(session: Session) -> tuple[int, int]:
    total, count = session.execute(
        select(func.coalesce(func.sum(ContentVersion.id), 0), func.count(ContentVersion.id))
        .where(ContentVersion.state == "published")
    ).one()
    return int(total), int(count)


def cached(session: Session, key: Hashable, build: Callable[[], T]) -> T:
    """`build()`'s result for this key in the current generation of published content."""
    full_key = (str(session.get_bind().url), generation(session), key)
    with _lock:
        if full_key in _entries:
            _entries.move_to_end(full_key)
            return _entries[full_key]  # type: ignore[return-value]
    value = build()
    with _lock:
        _entries[full_key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value
