"""No double booking, ever: 50 visitors at once for one time, each through their own
browser session and database connection, end with exactly one booking."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import create_engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from booking.models import Booking
from service.db import db, make_engine, write_transaction
from tests.booking.conftest import first_free_slot
from tests.conftest import csrf_token_from
from tests.e2e.conftest import LiveServer

ATTEMPTS = 50
SLOT_FORMAT = "%Y%m%dT%H%M"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def visitor(base: str, path: str):
    """A browser of its own: cookie jar, CSRF token from its own page view."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(base + path, timeout=30) as response:
        token = csrf_token_from(response.read().decode())
    return opener, token


def test_fifty_visitors_booking_the_same_time_get_one_booking_and_kind_refusals(seeded, therapist):
    from service.security import limiter

    slot = first_free_slot(seeded, therapist)
    server = LiveServer(seeded)
    # Fifty different visitors would come from fifty addresses; here they share one, so
    # the per-client limit on booking posts is lifted for this test only.
    limiter.enabled = False
    try:
        path = f"/booking/book?therapist={therapist.profile_id}&start={slot.starts_at.strftime(SLOT_FORMAT)}"
        visitors = [visitor(server.url, path) for _ in range(ATTEMPTS)]
        start_together = threading.Barrier(ATTEMPTS)
        outcomes: list[tuple[int, str, object]] = []

        def attempt(opener, token):
            data = urllib.parse.urlencode({"csrf_token": token, "modality": "video", "language": "en"}).encode()
            start_together.wait()
            try:
                with opener.open(server.url + path, data=data, timeout=60) as response:
                    outcomes.append((response.status, response.read().decode(), opener))
            except urllib.error.HTTPError as answer:
                outcomes.append((answer.code, answer.headers.get("Location", ""), opener))

        threads = [threading.Thread(target=attempt, args=pair) for pair in visitors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        statuses = sorted(status for status, _body, _opener in outcomes)
        assert statuses == [200] + [302] * (ATTEMPTS - 1)
        for status, location, opener in outcomes:
            if status == 302:
                assert location.startswith("/booking/?")
                with opener.open(server.url + location, timeout=30) as response:
                    assert "This time was just taken" in response.read().decode()
    finally:
        limiter.enabled = True
        server.stop()
    with seeded.app_context():
        live = db.session.scalars(select(Booking).where(Booking.status == "booked")).all()
        assert len(live) == 1 and live[0].starts_at == slot.starts_at


def test_overlapping_but_unequal_bookings_cannot_both_be_live(seeded, therapist):
    """The database itself refuses: rows written straight to the table, bypassing every
    check in the code, from 50 threads with their own connections."""
    slot = first_free_slot(seeded, therapist)
    starts = [slot.starts_at + dt.timedelta(minutes=10 * (index % 5)) for index in range(ATTEMPTS)]
    accepted, refused = [], []
    start_together = threading.Barrier(ATTEMPTS)
    # A pool as large as the crowd, so no thread waits for a connection: PostgreSQL breaks
    # the deadlocks that racing exclusion checks make after its deadlock_timeout, and
    # fifty such waits can outlast the application pool's timeout on a busy machine.
    url = seeded.config["PAUSE"].database_url
    # On PostgreSQL, without the app's 2.5 s timeouts and breaker: fifty connections opened
    # at once on a loaded machine can take longer than that, and the breaker would then
    # refuse every thread. What is tested here is the table's own constraint.
    engine = (create_engine(url, pool_size=ATTEMPTS, max_overflow=0) if url.startswith("postgresql")
              else make_engine(url, pool_size=ATTEMPTS))

    def insert(index: int):
        with Session(engine) as own_session:
            start_together.wait()
            try:
                with write_transaction(own_session) as session:
                    session.add(Booking(
                        therapist_id=therapist.profile_id, reference=f"R{index:04d}", key_digest=None, status="booked",
                        modality="video", language="en", starts_at=starts[index],
                        ends_at=starts[index] + dt.timedelta(minutes=50), session_day=starts[index].date(),
                        created_at=starts[index]))
                accepted.append(index)
            except (IntegrityError, DBAPIError):
                refused.append(index)

    threads = [threading.Thread(target=insert, args=(index,)) for index in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    engine.dispose()
    assert len(accepted) == 1 and len(refused) == ATTEMPTS - 1
    with seeded.app_context():
        assert len(db.session.scalars(select(Booking).where(Booking.status == "booked")).all()) == 1
