"""Fixtures shared by every test: an app on a fresh database (SQLite by default, the
PostgreSQL of PAUSE_TEST_DATABASE_URL when set), a client, a CLI runner, seeded content.

The same tests run on both databases; only this file knows which one it is.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Integer, create_engine, select, text

from service import create_app
from service.clock import clock
from service.db import db
from service.models import metadata

POSTGRES_URL = os.environ.get("PAUSE_TEST_DATABASE_URL", "")
DATA_KEY = Fernet.generate_key().decode()


def on_postgres() -> bool:
    return POSTGRES_URL.startswith("postgresql")


@pytest.fixture(scope="session")
def postgres_schema():
    """On PostgreSQL the tables are made once per run and emptied after each test."""
    if not on_postgres():
        yield None
        return
    engine = create_engine(POSTGRES_URL)
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def empty_postgres(engine) -> None:
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_test_app(tmp_path: Path, **overrides):
    settings = {
        "env": "testing",
        "database_url": POSTGRES_URL or f"sqlite:///{tmp_path / 'pause.db'}",
        "secret_key": "test-secret-key-not-for-production",
        "data_keys": (DATA_KEY,),
        "instance_path": str(tmp_path / "instance"),
    }
    settings.update(overrides)
    app = create_app(settings)
    _apps_made.append(app)
    return app


# Every app a test makes has its pool closed when the test ends: an engine left to the
# garbage collector drops open PostgreSQL connections, which psycopg reports, and pytest
# then blames whichever later test happened to be running.
_apps_made: list = []


@pytest.fixture(autouse=True)
def _close_the_pools_of_apps_made():
    yield
    while _apps_made:
        # Straight from the extension: an app context would run the test's own clean-ups.
        _apps_made.pop().extensions["pause_db"]["engine"].dispose()


@contextmanager
def app_on_empty_database(tmp_path: Path, postgres_schema):
    """An app on an empty database, emptied again (and the clock reset) afterwards."""
    app = make_test_app(tmp_path)
    with app.app_context():
        if postgres_schema is None:
            metadata.create_all(db.engine)
    try:
        yield app
    finally:
        if postgres_schema is not None:
            empty_postgres(postgres_schema)
        with app.app_context():
            db.engine.dispose()
        clock.reset()


@pytest.fixture
def app(tmp_path, postgres_schema):
    with app_on_empty_database(tmp_path, postgres_schema) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# The rows the shipped content makes, per state of the clock: the seed is the same for
# every test, and running it (bleach, Markdown, a few hundred inserts) was a large part of
# each test's setup. The first test of a run to seed at a given clock runs the real
# seed_all; later ones get its rows back as written. Tests of the seed call seed_all.
_SEEDED_ROWS: dict[tuple, list[tuple]] = {}


def _clock_state() -> tuple:
    frozen = clock._frozen
    return (frozen, clock._offset) if frozen is not None else ("running", clock._offset)


def seed(app):
    from content.seeding import seed_all

    state = _clock_state()
    with app.app_context():
        rows = _SEEDED_ROWS.get(state)
        # Only an empty database takes the rows back; anything else runs the real seed.
        empty = not _anything_stored(db.engine)
        if rows is None or not empty:
            with db.transaction() as session:
                seed_all(session)
            if rows is None and empty and state == _clock_state():
                _SEEDED_ROWS[state] = _rows_of(db.engine)
            return app
        with db.engine.begin() as connection:
            for table, values in rows:
                connection.execute(table.insert(), values)
            if connection.dialect.name == "postgresql":
                _move_sequences_on(connection, [table for table, _ in rows])
    return app


def _anything_stored(engine) -> bool:
    with engine.connect() as connection:
        return any(connection.execute(select(text("1")).select_from(table).limit(1)).first()
                   for table in metadata.sorted_tables)


def _rows_of(engine) -> list[tuple]:
    with engine.connect() as connection:
        found = [(table, [dict(row._mapping) for row in connection.execute(select(table))])
                 for table in metadata.sorted_tables]
    return [(table, values) for table, values in found if values]


def _move_sequences_on(connection, tables) -> None:
    # Rows written with their ids leave PostgreSQL's sequences behind: the next insert
    # of the test must get the id after them.
    for table in tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and len(table.primary_key.columns) == 1:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                    f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) FROM "{table.name}"'))


@pytest.fixture
def seeded(app):
    return seed(app)


@pytest.fixture
def captured_logs():
    """Every log record written while the test runs, formatted as they would be output."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    # The same filters as the app's own output handler: what it would write, we see.
    for output in [h for h in root.handlers if getattr(h, "_pause", False)]:
        for log_filter in output.filters:
            handler.addFilter(log_filter)
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(previous)


def every_row(app, skip=()) -> bytes:
    """Every value of every row of every table (but those named in `skip`), as bytes to
    search for planted text or to compare."""
    with app.app_context(), db.engine.connect() as connection:
        return b"\n".join(repr(tuple(row)).encode() for table in metadata.sorted_tables if table.name not in skip
                          for row in connection.execute(text(f'SELECT * FROM "{table.name}"')))


def every_row_as_tuples(app, skip=()) -> list[tuple[str, list[tuple]]]:
    """The same rows as `every_row`, as tuples: to compare before and after, where
    turning each value into text would cost more than the comparison."""
    with app.app_context(), db.engine.connect() as connection:
        return [(table.name, [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table.name}"'))])
                for table in metadata.sorted_tables if table.name not in skip]


def audit_actions(app) -> list[str]:
    """The actions in the audit log, oldest first."""
    from service.auth.models import AuditEntry

    with app.app_context():
        return [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def csrf_token_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


# Staff ------------------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple 42"


class StaffAccount:
    def __init__(self, id: int, username: str, password: str, secret: str, recovery_codes: list[str]):
        self.id, self.username, self.password = id, username, password
        self.secret, self.recovery_codes = secret, recovery_codes

    def next_code(self) -> str:
        """A fresh code: the clock moves on one 30-second step, because a code is
        accepted once only."""
        import datetime as dt

        import pyotp

        clock.advance(dt.timedelta(seconds=30))
        return pyotp.TOTP(self.secret).at(clock.timestamp())


@pytest.fixture
def make_staff(app):
    """Creates and enrols a staff member the way the invitation link would."""
    return staff_maker(app)


def staff_maker(app):
    from service.auth import services, totp

    def make(username: str = "alice", roles=("admin",), password: str = STAFF_PASSWORD) -> StaffAccount:
        import pyotp

        with app.app_context():
            with db.transaction() as session:
                staff = services.create_staff(session, username, username.title(), f"{username}@example.org",
                                              set(roles), None)
                token = services.invite(session, staff, None)
            secret = totp.new_secret()
            with db.transaction() as session:
                enrolment = services.complete_enrolment(session, token, password, secret,
                                                        pyotp.TOTP(secret).at(clock.timestamp()))
            return StaffAccount(enrolment.staff.id, username, password, secret, enrolment.recovery_codes)

    return make


def sign_in(client, account: StaffAccount, code: str | None = None):
    """Both sign-in steps through the real pages; returns the last response."""
    page = client.get("/staff/login").get_data(as_text=True)
    response = client.post("/staff/login", data={"csrf_token": csrf_token_from(page), "username": account.username,
                                                 "password": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get("/staff/login/code").get_data(as_text=True)
    return client.post("/staff/login/code", data={"csrf_token": csrf_token_from(page),
                                                  "code": code or account.next_code()})


# Mail -------------------------------------------------------------------------------------


class MailServer:
    """A real SMTP server (aiosmtpd) on a free port that the test can stop and restart."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages: list = []
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        server = self

        class Collect:
            async def handle_DATA(self, _server, _session, envelope):
                server.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Collect(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def recipients(self) -> list[str]:
        return [address for envelope in self.messages for address in envelope.rcpt_tos]

    def text(self) -> str:
        return "\n".join(envelope.content.decode("utf-8", "replace") for envelope in self.messages)


@pytest.fixture
def mail_server(app):
    server = MailServer()
    server.start()
    from dataclasses import replace

    app.config["PAUSE"] = replace(app.config["PAUSE"], smtp_port=server.port)
    yield server
    server.stop()
