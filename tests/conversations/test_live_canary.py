"""The canary for live transcripts: markers written through the real pages by a visitor
and a therapist in a booked session, and by a visitor and a counsellor in a walk-in
chat, are held only encrypted while the transcripts are kept, and after
PAUSE_LIVE_TRANSCRIPT_HOURS, with the jobs run as the scheduler runs them, no marker is
left in the raw database (SQLite file and WAL, or a full pg_dump), the logs or the mail."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select

from service.clock import clock
from service.conversations.live_models import LiveSession
from service.db import db
from service.scheduler import tick
from tests.conftest import on_postgres, sign_in
from tests.conversations.test_live import (  # noqa: F401 - fixtures
    book_chat,
    chat_therapist,
    join,
    open_booked_as_visitor,
    page,
    post_confirm,
    say,
)
from tests.test_canary import raw_database_bytes, sealed_text

MARKERS = {
    "visitor in a booked session": "canary-live-visitor-5e21a9",
    "therapist in a booked session": "canary-live-therapist-77c0d3",
    "visitor waiting in the walk-in queue": "canary-walkin-visitor-0b9e44",
    "counsellor in a walk-in chat": "canary-walkin-counsellor-c3f1a8",
}


def found(data: bytes) -> list[str]:
    return [name for name, marker in MARKERS.items() if marker.encode() in data]


@pytest.mark.skipif(on_postgres() and not shutil.which("pg_dump"), reason="pg_dump is needed to read PostgreSQL")
def test_no_transcript_marker_outlives_the_transcript_period(app, seeded, chat_therapist, make_staff,  # noqa: F811
                                                              mail_server, captured_logs):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    visitor = app.test_client()
    open_booked_as_visitor(visitor, key)
    say(visitor, MARKERS["visitor in a booked session"])
    with app.app_context():
        live_id = db.session.scalar(select(LiveSession.id))
    therapist = app.test_client()
    sign_in(therapist, chat_therapist.account)
    say(therapist, MARKERS["therapist in a booked session"], f"/staff/live/{live_id}")
    assert MARKERS["therapist in a booked session"] in page(visitor, "/live/frame")
    post_confirm(visitor, "/live/", "/live/end")
    # The visitor downloads the transcript: that copy is theirs; ours is erased on time.
    assert MARKERS["visitor in a booked session"] in post_confirm(visitor, "/live/", "/live/transcript").get_data(
        as_text=True)

    # A walk-in the same day, in staffed hours.
    from service.conversations import live

    ended_at = clock.now()
    with app.app_context(), db.transaction() as session:
        live.set_staffed_hours(session, "en", [(day, dt.time(0), dt.time(23, 59)) for day in range(7)])
    walker = app.test_client()
    join(walker, MARKERS["visitor waiting in the walk-in queue"])
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    with app.app_context():
        walk_in_id = db.session.scalar(select(LiveSession.id).where(LiveSession.kind == "walk-in"))
    post_confirm(counsellor, "/staff/live/", f"/staff/live/{walk_in_id}/pick-up")
    say(counsellor, MARKERS["counsellor in a walk-in chat"], f"/staff/live/{walk_in_id}")
    post_confirm(counsellor, f"/staff/live/{walk_in_id}", f"/staff/live/{walk_in_id}/end")

    # Held, and only encrypted.
    tick(app)
    assert found(sealed_text(app)) == list(MARKERS)
    assert found(raw_database_bytes(app)) == []

    # Just before the period: still held. Just after, with the jobs: gone everywhere.
    hours = app.config["PAUSE"].live_transcript_hours
    clock.freeze(ended_at + dt.timedelta(hours=hours) - dt.timedelta(minutes=30))
    tick(app)
    assert found(sealed_text(app)) == list(MARKERS)
    clock.freeze(clock.now() + dt.timedelta(hours=1))
    tick(app)
    assert found(sealed_text(app)) == []
    assert found(raw_database_bytes(app)) == []
    portal_logs = [line for line in captured_logs if not line.startswith("mail.log ")]
    assert found("\n".join(portal_logs).encode()) == []
    assert found(mail_server.text().encode()) == []
    with app.app_context():
        assert all(erased is not None for erased in db.session.scalars(select(LiveSession.transcript_erased_at)))
