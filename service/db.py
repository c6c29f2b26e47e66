"""The database: one declarative base, one engine per app, one session per app context.

Units of work are explicit: code that writes opens `db.transaction()`, which commits at
the end or rolls back on error. On SQLite that transaction starts with BEGIN IMMEDIATE,
so two writers queue on the busy timeout instead of failing half-way with "database is
locked" when one upgrades a read lock.

Faults (README, "Faults"): on PostgreSQL every connection, pooled ones too, has a
deadline (connect, statement, socket, pool), and a breaker answers everyone at once
while the database is away, letting one probe through every PROBE_EVERY_SECONDS.
Work that may take long (a migration) sets the execution option `pause_patient`.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event, exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations can drop and alter them by name
# on both SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_write_transaction = contextvars.ContextVar("pause_write_transaction", default=False)


# How long a request may wait on PostgreSQL before it is told the database is away:
# for a statement (the server's own limit), for the socket (a frozen server or a network
# that drops packets, which the server's limit cannot see), for a pooled connection and
# for a new one. Together they keep every answer within about 3 s.
STATEMENT_TIMEOUT_MS = 2500
SOCKET_TIMEOUT_SECONDS = 2.6
POOL_TIMEOUT_SECONDS = 2.5
CONNECT_TIMEOUT_SECONDS = 2  # the least libpq allows
# While the database is away, one request at a time may find out whether it is back,
# and no more often than this; everyone else is answered at once.
PROBE_EVERY_SECONDS = 0.25


class Breaker:
    """When the database is away (a connection fails, a statement's socket goes quiet,
    the server ends the session), one request finds out and every other request is told
    at once: its page answers the translated 503 without waiting, instead of every
    thread waiting out the timeouts in turn while visitors queue behind them. One
    request at a time, every PROBE_EVERY_SECONDS, is let through as a probe; the first
    that succeeds closes the breaker, so the portal comes back by itself within a
    fraction of a second of the database."""

    def __init__(self) -> None:
        self.open_since: float | None = None
        self.probe_after = 0.0
        self.probe_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.open_since is not None

    def trip(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self.open_since is None:
                self.open_since = now
                log.warning("database away: answering at once until it is back")
            self.probe_after, self.probe_until = now + PROBE_EVERY_SECONDS, 0.0

    def succeeded(self) -> None:
        if self.open_since is not None:
            with self._lock:
                if self.open_since is not None:
                    log.warning("database back after %.1f s", time.monotonic() - self.open_since)
                self.open_since, self.probe_until = None, 0.0

    def may_try(self) -> bool:
        """False while the database is known to be away and another probe is under way
        or was tried a moment ago."""
        if self.open_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self.probe_after or now < self.probe_until:
                return False
            # This caller is the probe; a probe that hangs is over by the socket timeout.
            self.probe_until = now + SOCKET_TIMEOUT_SECONDS + CONNECT_TIMEOUT_SECONDS
            return True


class SocketWatchdog:
    """A frozen server (or a network that drops everything) keeps its socket open and the
    kernel acknowledges what we send, so neither the server's statement timeout nor TCP
    notices: psycopg would wait for ever. Every statement, commit and rollback arms a
    deadline for its connection; one thread shuts down the socket of any connection past
    its deadline, so the driver returns at once with a connection error (the pool then
    throws that connection away)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._deadlines: dict[int, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._watch, name="pause-db-watchdog", daemon=True).start()

    def arm(self, dbapi_connection) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + self.timeout, dbapi_connection)

    def disarm(self, dbapi_connection) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            with self._lock:
                late = [(key, connection) for key, (deadline, connection) in self._deadlines.items()
                        if deadline <= now]
                for key, _ in late:
                    self._deadlines.pop(key, None)
            for _, connection in late:
                _shut_down_socket(connection)


def _shut_down_socket(dbapi_connection) -> None:
    try:
        descriptor = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - already closed: nothing waits on it
        return
    try:
        # A duplicate of the descriptor: shutting it down ends the connection for the
        # thread blocked on it, and closing the duplicate leaves the driver's own intact.
        with socket.socket(fileno=os.dup(descriptor)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    log.warning("database socket quiet for %.1f s: connection dropped", SOCKET_TIMEOUT_SECONDS)


# Server-side conditions that mean the session is gone: an administrator ended it, the
# server is shutting down or starting, or the connection failed.
_SESSION_ENDED = ("57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006")


def _means_database_away(context) -> bool:
    original = context.original_exception
    if getattr(original, "pause_refused", False):
        return False  # the breaker's own answer: no new failure
    if context.is_disconnect:
        return True
    if not isinstance(original, context.dialect.loaded_dbapi.OperationalError):
        return False
    sqlstate = getattr(original, "sqlstate", None)
    # No state: the driver's own connection failures. A statement the server cancelled
    # for taking too long says the database answers; it is not away.
    return sqlstate is None or sqlstate in _SESSION_ENDED


def postgres_connect_args() -> dict:
    """libpq settings for every connection, pooled ones included."""
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 1,
        "keepalives_count": 2,
        "tcp_user_timeout": int(SOCKET_TIMEOUT_SECONDS * 1000),
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
    }


def make_engine(url: str, pool_size: int = 5) -> Engine:
    # hide_parameters: an error message must never quote the values of a statement.
    breaker = Breaker()
    if url.startswith("sqlite"):
        # isolation_level=None hands transaction control to us (see _begin) because
        # pysqlite's own implicit BEGIN cannot be made IMMEDIATE.
        engine = create_engine(url, hide_parameters=True, connect_args={"isolation_level": None, "timeout": 15})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    else:
        # No pre-ping: it is a round trip that itself waits on a frozen server. A pooled
        # connection that died is found out by its first statement, which the pool then
        # replaces; the breaker turns that one failure into immediate answers for others.
        engine = create_engine(url, hide_parameters=True, pool_pre_ping=False, pool_size=pool_size,
                               max_overflow=10, pool_timeout=POOL_TIMEOUT_SECONDS,
                               connect_args=postgres_connect_args())
        _watch_sockets(engine, breaker)
    engine.pause_breaker = breaker
    _listen_breaker(engine, breaker)
    return engine


def breaker_of(engine: Engine) -> Breaker:
    return engine.pause_breaker


def _listen_breaker(engine: Engine, breaker: Breaker) -> None:
    def connect(dialect, _connection_record, cargs, cparams):
        if not breaker.may_try():
            raise _refusal(dialect)
        try:
            connection = dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError:
            breaker.trip()
            raise
        breaker.succeeded()
        return connection

    def checkout(_dbapi_connection, _record, _proxy):
        # A pooled connection to a database known to be away would wait out its socket
        # timeout: refuse it at once. The pool then tries a new connection, which the
        # breaker refuses at once too, unless this request is the probe.
        if breaker.is_open and not breaker.may_try():
            raise exc.DisconnectionError("the database could not be reached a moment ago")


    def handle_error(context) -> None:
        if _means_database_away(context) and not (engine.dialect.name == "sqlite" and context.connection):
            breaker.trip()

    event.listen(engine, "do_connect", connect)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "handle_error", handle_error)
    if engine.dialect.name != "sqlite":
        event.listen(engine, "after_cursor_execute", lambda *_args: breaker.succeeded())


def _refusal(dialect) -> Exception:
    """The driver's own OperationalError, so every layer above treats it as the database
    being away, marked so that it does not count as one more failure."""
    error = dialect.loaded_dbapi.OperationalError("the database could not be reached a moment ago")
    error.pause_refused = True
    return error


def _watch_sockets(engine: Engine, breaker: Breaker) -> None:
    watchdog = _watchdog()

    def arm(connection, *_args) -> None:
        # Work that is allowed to take long (a migration) says so with an execution option.
        if connection.get_execution_options().get("pause_patient"):
            return
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None:
            watchdog.arm(dbapi_connection)

    def disarm(connection, *_args) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None:
            watchdog.disarm(dbapi_connection)

    def disarm_pooled(dbapi_connection, *_args) -> None:
        if dbapi_connection is not None:
            watchdog.disarm(dbapi_connection)

    def arm_pooled(dbapi_connection, *_args) -> None:
        # The pool's own rollback, when a connection goes back.
        watchdog.arm(dbapi_connection)

    def disarm_after_error(context) -> None:
        # A statement that failed (a constraint, a cancelled query) is over too; the
        # connection may stay in use, idle, for a while.
        if context.connection is not None and not context.connection.invalidated:
            try:
                disarm(context.connection)
            except exc.SQLAlchemyError:
                pass  # closed meanwhile: nothing is armed for it

    event.listen(engine, "before_cursor_execute", arm)
    event.listen(engine, "after_cursor_execute", disarm)
    event.listen(engine, "handle_error", disarm_after_error)
    event.listen(engine, "commit", arm)
    event.listen(engine, "rollback", arm)
    event.listen(engine, "reset", arm_pooled)
    event.listen(engine, "checkin", disarm_pooled)
    event.listen(engine, "close", disarm_pooled)
    event.listen(engine, "invalidate", disarm_pooled)


_watchdog_instance: SocketWatchdog | None = None
_watchdog_lock = threading.Lock()


def _watchdog() -> SocketWatchdog:
    """One watching thread per process, started with the first PostgreSQL engine."""
    global _watchdog_instance
    with _watchdog_lock:
        if _watchdog_instance is None:
            _watchdog_instance = SocketWatchdog(SOCKET_TIMEOUT_SECONDS)
        return _watchdog_instance


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        # Deleted rows are overwritten with zeros, so a purge really erases.
        "PRAGMA secure_delete=ON",
        "PRAGMA busy_timeout=15000",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _begin_sqlite(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_transaction.get() else "BEGIN")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Commits when the block ends, rolls back if it raises; any session, any engine."""
    if session.in_transaction():
        # End any read transaction first: on SQLite the write must begin IMMEDIATE.
        session.commit()
    token = _write_transaction.set(True)
    try:
        with session.begin():
            yield session
    finally:
        _write_transaction.reset(token)


class Database:
    """Holds the engine and hands out one session per application context."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["PAUSE"].database_url)
        app.extensions["pause_db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
        }
        app.teardown_appcontext(self._remove_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["pause_db"]["engine"]

    @property
    def session(self) -> Session:
        if "pause_session" not in g:
            g.pause_session = current_app.extensions["pause_db"]["sessionmaker"]()
        return g.pause_session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that writes; commits when the block ends, rolls back if it raises."""
        with write_transaction(self.session) as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @property
    def breaker(self) -> Breaker:
        return breaker_of(self.engine)

    @staticmethod
    def _remove_session(_exception: BaseException | None) -> None:
        """Never raises: the rollback of a connection the server already ended fails,
        and an exception here would replace the page with the server's plain 500."""
        session = g.pop("pause_session", None)
        if session is None:
            return
        try:
            session.close()
        except Exception as error:  # noqa: BLE001 - the answer is given; the connection is dropped
            log.warning("database session could not be closed cleanly: %s", type(error).__name__)
            try:
                session.invalidate()
            except Exception as still:  # noqa: BLE001 - nothing more can be done with a dead connection
                log.warning("database session dropped: %s", type(still).__name__)


db = Database()
