"""The database: one declarative base, one engine per app, one session per app context.

Units of work are explicit: code that writes opens `db.transaction()`, which commits at
the end or rolls back on error. On SQLite that transaction starts with BEGIN IMMEDIATE,
so two writers queue on the busy timeout instead of failing half-way with "database is
locked" when one upgrades a read lock.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event, text
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_write_transaction = contextvars.ContextVar("pause_write_transaction", default=False)


# After the database could not be reached, how long new connections fail at once.
RECONNECT_PAUSE_SECONDS = 1.0


class ConnectBreaker:
    """When the database is away, one request finds out (refused at once, or after the
    connect timeout if it hangs) and for the next second every other request is told at
    once: each page answers its 503 immediately instead of every thread waiting out the
    timeout in turn while visitors queue behind them. The first connection tried after
    that second is a real attempt, so the portal comes back by itself."""

    def __init__(self) -> None:
        self.refusing_until = 0.0

    def connect(self, dialect, _connection_record, cargs, cparams):
        if time.monotonic() < self.refusing_until:
            raise dialect.loaded_dbapi.OperationalError("the database could not be reached a moment ago")
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError:
            self.refusing_until = time.monotonic() + RECONNECT_PAUSE_SECONDS
            raise


def make_engine(url: str, pool_size: int = 5) -> Engine:
    # hide_parameters: an error message must never quote the values of a statement.
    if url.startswith("sqlite"):
        # isolation_level=None hands transaction control to us (see _begin) because
        # pysqlite's own implicit BEGIN cannot be made IMMEDIATE.
        engine = create_engine(url, hide_parameters=True, connect_args={"isolation_level": None, "timeout": 15})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    else:
        # A request waits for a pooled connection as long as SQLite waits for its lock;
        # a connection attempt 2 seconds, the least libpq allows.
        engine = create_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=pool_size, max_overflow=10,
                               pool_timeout=15, connect_args={"connect_timeout": 2})
    event.listen(engine, "do_connect", ConnectBreaker().connect)
    return engine


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

    @staticmethod
    def _remove_session(_exception: BaseException | None) -> None:
        session = g.pop("pause_session", None)
        if session is not None:
            session.close()


db = Database()
