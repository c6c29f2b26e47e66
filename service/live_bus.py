"""Wake-ups for live conversations: "conversation 42 has something new".

A wake-up carries only a conversation id, never a message: the messages stay in the
database (sealed), and whoever is woken reads what is new there by message id. So a
wake-up lost (Redis restarting, a process starting) costs latency, never a message:
every listener also looks on its own every few seconds.

With `PAUSE_REDIS_URL` set, wake-ups go through Redis pub/sub, so a message posted
through one instance wakes the listeners of every instance; without it (development on
SQLite, one process), they stay in the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

log = logging.getLogger(__name__)
CHANNEL = "pause:live"


class Bus:
    """One per app. `listening(conversation_id)` gives an Event set by every wake-up of
    that conversation, from this process or (with Redis) any other."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._lock = threading.Lock()
        self._listeners: dict[int, set[threading.Event]] = {}
        self._subscriber: threading.Thread | None = None
        self._publisher = None

    # Posting side.
    def wake(self, conversation_id: int) -> None:
        if not self.redis_url:
            self.wake_here(conversation_id)
            return
        try:
            self._redis().publish(CHANNEL, str(conversation_id))
        except Exception:  # noqa: BLE001 - Redis away: listeners still look on their own
            log.warning("live wake-up not published (Redis unreachable); listeners will poll")
            self.wake_here(conversation_id)

    def wake_here(self, conversation_id: int) -> None:
        with self._lock:
            events = tuple(self._listeners.get(conversation_id, ()))
        for event in events:
            event.set()

    # Listening side.
    @contextmanager
    def listening(self, conversation_id: int) -> Iterator[threading.Event]:
        event = threading.Event()
        self._start_subscriber()
        with self._lock:
            self._listeners.setdefault(conversation_id, set()).add(event)
        try:
            yield event
        finally:
            with self._lock:
                waiting = self._listeners.get(conversation_id)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del self._listeners[conversation_id]

    def listener_count(self) -> int:
        with self._lock:
            return sum(len(events) for events in self._listeners.values())

    def _redis(self):
        if self._publisher is None:
            import redis

            from service.security import redis_options

            self._publisher = redis.Redis.from_url(self.redis_url, **redis_options())
        return self._publisher

    def _start_subscriber(self) -> None:
        if not self.redis_url:
            return
        with self._lock:
            if self._subscriber is not None and self._subscriber.is_alive():
                return
            self._subscriber = threading.Thread(target=self._subscribe, name="pause-live-bus", daemon=True)
            self._subscriber.start()

    def _subscribe(self) -> None:
        """One connection per process, kept for its life; reconnects after a failure."""
        import time

        import redis

        while True:
            try:
                connection = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2,
                                                  health_check_interval=15)
                pubsub = connection.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                for item in pubsub.listen():
                    try:
                        self.wake_here(int(item["data"]))
                    except (TypeError, ValueError):
                        continue
            except Exception:  # noqa: BLE001 - keep the thread; listeners poll meanwhile
                log.warning("live wake-ups: Redis subscription lost; retrying in a second")
                time.sleep(1)  # the clock's time is for the domain; this is a retry pause


def init_app(app: Flask) -> None:
    app.extensions["pause_live_bus"] = Bus(app.config["PAUSE"].redis_url)


def bus() -> Bus:
    return current_app.extensions["pause_live_bus"]
