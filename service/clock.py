"""The one clock. Everything that needs the time asks here, so tests can move it.

Times are stored in UTC (naive datetimes, UTC by convention, because SQLite keeps no
zone) and converted to a visitor's zone only for display.
"""

from __future__ import annotations

import datetime as _dt
import threading


class Clock:
    def __init__(self) -> None:
        self._frozen: _dt.datetime | None = None
        self._offset = _dt.timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> _dt.datetime:
        """The current UTC time as a naive datetime."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen + self._offset
            return _dt.datetime.now(_dt.UTC).replace(tzinfo=None) + self._offset

    def timestamp(self) -> float:
        """Seconds since the epoch, for one-time codes."""
        return self.now().replace(tzinfo=_dt.UTC).timestamp()

    def today(self) -> _dt.date:
        return self.now().date()

    # Test controls.
    def freeze(self, at: _dt.datetime) -> None:
        with self._lock:
            self._frozen, self._offset = at, _dt.timedelta(0)

    def advance(self, delta: _dt.timedelta) -> None:
        with self._lock:
            self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._frozen, self._offset = None, _dt.timedelta(0)


clock = Clock()
