"""Mail under faults (issue 20, finding 3; issue 14, finding 1): every message exactly
once when the scheduler is killed mid-round or the database restarts mid-round (a real
scheduler process, a real SMTP server, a PostgreSQL server of the test's own); one bad
message never holds up the others; urgent notifications are retried every minute."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess  # nosec B404 - the test's own scheduler process
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from service import outbox
from service.clock import clock
from service.db import db
from service.jobs import deliver_mail
from service.models import metadata
from service.outbox import OutboxMessage
from tests.conftest import DATA_KEY, make_test_app
from tests.service.test_urgent_contact import request_contact
from tests.support.private_postgres import PrivatePostgres, binaries

ROOT = Path(__file__).resolve().parents[2]


# One bad message, on SQLite and PostgreSQL --------------------------------------------------


def test_a_malformed_address_in_the_outbox_does_not_delay_the_next_duty_alert(seeded, make_staff, mail_server,
                                                                                captured_logs):
    from service.crypto import seal

    make_staff("dora", roles=("duty",))
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0))
    with seeded.app_context(), db.transaction() as session:
        # Straight into the table, as booking's form once let through, and urgent too.
        session.add(OutboxMessage(sealed_recipient=seal("john.doe@[gmail.com"), subject="Pause: a reminder",
                                  body="Reminder", created_at=clock.now(), next_attempt_at=clock.now(),
                                  attempts=0, urgent=True, failures=0))
    request_contact(seeded.test_client())
    with seeded.app_context():
        assert deliver_mail() == 1
        assert mail_server.recipients() == ["dora@example.org"]
        bad = db.session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        assert bad.set_aside_at is not None and bad.failure == outbox.UNUSABLE_ADDRESS
        # Set aside: no further attempt, however many rounds follow.
        clock.advance(dt.timedelta(hours=1))
        assert deliver_mail() == 0
    logged = "\n".join(captured_logs)
    assert "gmail" not in logged and "john.doe" not in logged
    assert "set aside" in logged


def test_a_message_the_server_keeps_refusing_is_set_aside_and_the_others_go(app, tmp_path):
    server = ScriptedMailServer(refuse={"stuck@example.org": "451 4.3.0 try again later"})
    from dataclasses import replace

    app.config["PAUSE"] = replace(app.config["PAUSE"], smtp_port=server.port)
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0))
    try:
        with app.app_context():
            with db.transaction() as session:
                outbox.queue(session, "stuck@example.org", "Pause: a reminder", "Reminder")
            for round_number in range(outbox.MAX_FAILURES):
                with db.transaction() as session:
                    outbox.queue(session, f"staff{round_number}@example.org", "Pause: a note", "Note", urgent=True)
                assert deliver_mail() == 1
                clock.advance(dt.timedelta(minutes=16))
            stuck = db.session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
            assert stuck.set_aside_at is not None and stuck.failure == outbox.KEPT_FAILING
            assert stuck.failures == outbox.MAX_FAILURES
        assert sorted(server.delivered) == [f"staff{n}@example.org" for n in range(outbox.MAX_FAILURES)]
    finally:
        server.stop()


def test_urgent_notifications_go_out_within_a_minute_of_the_mail_server_coming_back(seeded, make_staff, mail_server):
    make_staff("dora", roles=("duty",))
    mail_server.stop()
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0))
    request_contact(seeded.test_client())
    with seeded.app_context():
        for _ in range(30):  # half an hour without a mail server, a round every minute
            assert deliver_mail() == 0
            clock.advance(dt.timedelta(minutes=1))
        mail_server.start()
        clock.advance(dt.timedelta(seconds=1))
        assert deliver_mail() == 1
    assert mail_server.recipients() == ["dora@example.org"]
    assert all(outbox.retry_delay(attempts, urgent=True) <= dt.timedelta(minutes=1) for attempts in range(1, 40))


# A real scheduler process on a PostgreSQL server of the test's own ------------------------


class ScriptedMailServer:
    """aiosmtpd on a free port that can refuse given addresses, and hold the n-th
    recipient (before the message is accepted) until the test lets it go."""

    def __init__(self, hold_at: int | None = None, refuse: dict[str, str] | None = None) -> None:
        from aiosmtpd.controller import Controller

        from tests.support.private_postgres import free_port

        self.port = free_port()
        self.delivered: list[str] = []
        self.recipients_seen = 0
        self.holding, self.release = threading.Event(), threading.Event()
        server, refusals = self, refuse or {}

        class Handler:
            async def handle_RCPT(self, _server, _session, envelope, address, _options):
                if address in refusals:
                    return refusals[address]
                server.recipients_seen += 1
                if server.recipients_seen == hold_at:
                    server.holding.set()
                    while not server.release.is_set():
                        await asyncio.sleep(0.02)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, _server, _session, envelope):
                server.delivered.extend(envelope.rcpt_tos)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.release.set()
        self.controller.stop()


@pytest.fixture(scope="module")
def database_server():
    if binaries() is None:
        pytest.skip("needs PostgreSQL's server binaries")
    private = PrivatePostgres().start()
    engine = create_engine(private.url)
    metadata.create_all(engine)
    engine.dispose()
    yield private
    private.close()


MESSAGES = 30
HOLD_AT = 10


@pytest.fixture
def queued(tmp_path, database_server):
    app = make_test_app(tmp_path, database_url=database_server.url)
    with app.app_context():
        from sqlalchemy import text

        with db.transaction() as session:
            session.execute(text("TRUNCATE outbox_messages, job_locks CASCADE"))
            for number in range(MESSAGES):
                outbox.queue(session, f"person{number:02d}@example.org", "Pause: a note", "A note.")
    yield app
    with app.app_context():
        db.engine.dispose()


def scheduler(database_server, port: int, *, later: dt.timedelta | None = None, ticks: int | None = None):
    """The real scheduler (`flask --app service scheduler`) in a process of its own; with
    `later`, on a clock that far ahead, as if the process were started then."""
    env = {**os.environ, "PAUSE_ENV": "testing", "PAUSE_DATABASE_URL": database_server.url,
           "PAUSE_DATA_KEY": DATA_KEY, "PAUSE_SECRET_KEY": "test-secret-key-not-for-production",
           "PAUSE_SMTP_HOST": "127.0.0.1", "PAUSE_SMTP_PORT": str(port)}
    arguments = ["--app", "service", "scheduler", *(["--ticks", str(ticks)] if ticks else [])]
    code = ("import datetime, sys\nfrom service.clock import clock\n"
            f"clock.advance(datetime.timedelta(seconds={later.total_seconds() if later else 0}))\n"
            f"from flask.cli import main\nsys.argv = ['flask', *{arguments!r}]\nmain()\n")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,  # nosec B603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def every_one_exactly_once(delivered: list[str]) -> None:
    assert sorted(delivered) == [f"person{number:02d}@example.org" for number in range(MESSAGES)]


def test_a_scheduler_killed_mid_round_sends_every_message_exactly_once(queued, database_server):
    server = ScriptedMailServer(hold_at=HOLD_AT)
    process = scheduler(database_server, server.port)
    try:
        assert server.holding.wait(60), "the scheduler never reached the mail server"
        assert len(server.delivered) == HOLD_AT - 1
        process.kill()  # mid-round: nine sent, the tenth under way
        process.wait(10)
        server.release.set()
        # Started again later: the lost attempt is retried, nothing already sent goes again.
        again = scheduler(database_server, server.port, later=dt.timedelta(minutes=2), ticks=1)
        assert again.wait(120) == 0
        every_one_exactly_once(server.delivered)
        with queued.app_context():
            assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) is None
    finally:
        process.kill()
        server.stop()


def test_a_database_restarted_mid_round_sends_every_message_exactly_once(queued, database_server):
    server = ScriptedMailServer(hold_at=HOLD_AT)
    process = scheduler(database_server, server.port)
    try:
        assert server.holding.wait(60), "the scheduler never reached the mail server"
        database_server.restart()  # every session of the scheduler ends here
        server.release.set()
        assert wait_for(lambda: len(server.delivered) >= MESSAGES, 60), len(server.delivered)
        time.sleep(1)  # anything sent twice would arrive now
        process.kill()
        process.wait(10)
        again = scheduler(database_server, server.port, later=dt.timedelta(minutes=2), ticks=1)
        assert again.wait(120) == 0
        every_one_exactly_once(server.delivered)
    finally:
        process.kill()
        server.stop()
