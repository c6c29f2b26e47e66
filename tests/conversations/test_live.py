"""Live text sessions, as scenarios: a booked text chat opens 10 minutes before its start
for the visitor (booking key) and the therapist (appointment), both write, either ends,
the visitor downloads or erases the transcript, and the jobs erase it after the period.
Walk-in chat in staffed hours: the queue and its places, a counsellor picks up; out of
hours or too long a wait, what the visitor wrote becomes a message thread. The event
stream gives each message once, resuming after the id the browser last saw. Only the
two participants can read a session. The transcript frame may be framed by our own
pages only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from booking import services as booking_services
from booking.models import Booking, TherapistProfile
from service.clock import clock
from service.conversations import live
from service.conversations.live_models import LiveSession
from service.conversations.models import Conversation, Message
from service.crypto import unseal
from service.db import db
from service.jobs import erase_live_transcripts
from tests.booking.conftest import make_therapist
from tests.booking.test_booking import open_with_key
from tests.conftest import csrf_token_from, sign_in

# Wednesday 25 November 2026: 10:00 UTC is 11:00 in Brussels, inside the test's hours.
WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0)


@pytest.fixture
def chat_therapist(seeded, make_staff):
    therapist = make_therapist(seeded, make_staff)
    with seeded.app_context(), db.transaction() as session:
        session.get(TherapistProfile, therapist.profile_id).modalities = "chat phone"
    return therapist


def book_chat(app, therapist) -> tuple[int, str, dt.datetime]:
    with app.app_context(), db.transaction() as session:
        profile = session.get(TherapistProfile, therapist.profile_id)
        slot = booking_services.free_slots_for(session, profile)[0]
        booking, key = booking_services.book(session, profile.id, slot.starts_at, {
            "modality": "chat", "language": "en", "note": "", "contact": "", "reminder_email": ""})
        return booking.id, key, slot.starts_at


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def say(client, text: str, path: str = "/live/"):
    token = csrf_token_from(page(client, path))
    return client.post(path.rstrip("/") + "/say" if path != "/live/" else "/live/say",
                       data={"csrf_token": token, "body": text})


def post_confirm(client, page_path: str, action: str):
    return client.post(action, data={"csrf_token": csrf_token_from(page(client, page_path))})


def transcript_words(app, live_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        conversation_id = db.session.get(LiveSession, live_id).conversation_id
        return [(line.author, line.text) for line in live.lines_after(db.session, conversation_id)]


def open_booked_as_visitor(client, key: str):
    open_with_key(client, key)
    return post_confirm(client, "/booking/manage", "/live/open")


def test_a_booked_text_session_opens_ten_minutes_before_for_both_sides_and_either_can_end_it(
        app, client, chat_therapist):
    booking_id, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at - dt.timedelta(minutes=11))
    open_with_key(client, key)
    manage = page(client, "/booking/manage")
    assert 'id="text-session-note"' in manage and 'id="open-text-session"' not in manage
    assert post_confirm(client, "/booking/manage", "/live/open").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(LiveSession)) is None, "too early: nothing opened"

    clock.freeze(starts_at - dt.timedelta(minutes=10))
    assert 'id="open-text-session"' in page(client, "/booking/manage")
    assert post_confirm(client, "/booking/manage", "/live/open").headers["Location"].endswith("/live/")
    assert 'id="live-frame"' in page(client, "/live/")
    assert "This conversation is confidential" in page(client, "/live/frame")

    therapist = app.test_client()
    sign_in(therapist, chat_therapist.account)
    with app.app_context():
        reference = db.session.get(Booking, booking_id).reference
    appointment = page(therapist, f"/staff/appointments/{reference}")
    opened = therapist.post(f"/staff/live/appointment/{reference}",
                            data={"csrf_token": csrf_token_from(appointment)})
    live_id = int(re.search(r"/staff/live/(\d+)$", opened.headers["Location"]).group(1))
    with app.app_context():
        assert db.session.scalar(select(LiveSession.id)) == live_id, "one session for both sides"

    assert say(client, "Hello, I am here.").status_code == 302
    assert say(therapist, "Hello, welcome.", f"/staff/live/{live_id}").status_code == 302
    words = transcript_words(app, live_id)
    assert words[0][0] == live.STATEMENT and "confidential" in words[0][1]
    assert words[1:] == [("visitor", "Hello, I am here."), ("staff", "Hello, welcome.")]
    assert "Hello, welcome." in page(client, "/live/frame") and "Hello, I am here." in page(
        therapist, f"/staff/live/{live_id}/frame")

    # The therapist ends it; the visitor sees the end and can download the transcript.
    assert post_confirm(therapist, f"/staff/live/{live_id}", f"/staff/live/{live_id}/end").status_code == 302
    ended = page(client, "/live/")
    assert "This session has ended." in ended and 'id="live-form"' not in ended
    assert say(therapist, "too late", f"/staff/live/{live_id}").status_code == 302
    assert [author for author, _ in transcript_words(app, live_id)].count("staff") == 1
    download = post_confirm(client, "/live/", "/live/transcript")
    assert download.headers["Content-Disposition"] == 'attachment; filename="conversation.txt"'
    text = download.get_data(as_text=True)
    assert "You:\nHello, I am here." in text and "Theo:\nHello, welcome." in text


def test_the_visitor_can_erase_the_transcript_at_once_and_the_jobs_erase_it_after_the_period(
        app, client, chat_therapist):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    say(client, "First words.")
    post_confirm(client, "/live/", "/live/end")
    post_confirm(client, "/live/", "/live/erase")
    with app.app_context():
        assert db.session.scalar(select(Message.id)) is None and db.session.scalar(select(Conversation.id)) is None
        assert db.session.scalar(select(LiveSession.transcript_erased_at)) is not None

    # A second appointment, ended but not erased: the job erases it 24 hours after the end.
    clock.freeze(starts_at + dt.timedelta(days=2))
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    other = app.test_client()
    open_booked_as_visitor(other, key)
    say(other, "More words.")
    post_confirm(other, "/live/", "/live/end")
    with app.app_context():
        clock.freeze(starts_at + dt.timedelta(hours=23))
        assert erase_live_transcripts() == 0
        clock.freeze(starts_at + dt.timedelta(hours=24, minutes=1))
        assert erase_live_transcripts() == 1
        assert db.session.scalar(select(Message.id)) is None


def test_a_session_left_open_is_ended_after_two_quiet_hours_then_erased(app, client, chat_therapist):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    say(client, "Then I closed the tab.")
    with app.app_context():
        clock.freeze(starts_at + dt.timedelta(hours=2, minutes=1))
        erase_live_transcripts()
        assert db.session.scalar(select(LiveSession.ended_by)) == "unattended"
        clock.freeze(starts_at + dt.timedelta(hours=26, minutes=2))
        assert erase_live_transcripts() == 1


def test_only_the_two_participants_can_read_a_session(app, client, chat_therapist, make_staff):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    say(client, "Private words.")
    with app.app_context():
        live_id = db.session.scalar(select(LiveSession.id))
    stranger = app.test_client()
    assert stranger.get("/live/frame").status_code == 404 and stranger.get("/live/events").status_code == 404
    assert stranger.get("/live/").status_code == 302  # to the walk-in page: there is no session here
    colleague = app.test_client()
    sign_in(colleague, make_staff("other", roles=("therapist", "counsellor")))
    for path in (f"/staff/live/{live_id}", f"/staff/live/{live_id}/frame", f"/staff/live/{live_id}/events"):
        assert colleague.get(path).status_code == 404


def test_the_frame_may_be_shown_only_inside_our_own_pages(app, client, chat_therapist):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    frame = client.get("/live/frame")
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert re.search(r'<meta http-equiv="refresh" content="(\d+)">', frame.get_data(as_text=True)).group(1) in \
        {"1", "2", "3", "4", "5", "6", "7", "8", "9"}
    session_page = client.get("/live/")
    policy = session_page.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in policy and "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy
    assert session_page.headers["X-Frame-Options"] == "DENY"
    # Every other page keeps refusing any frame.
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


def events_of(chunks: list[str]) -> list[tuple[str, dict, int | None]]:
    import json

    found = []
    for chunk in chunks:
        fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines() if not line.startswith(":")
                      and ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"]),
                          int(fields["id"]) if "id" in fields else None))
    return found


def read_stream(app, live_id: int, side: str, after: int, wanted_messages: int) -> list:
    stream = live.event_stream(app, live_id, side, after, "Europe/Brussels")
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if sum(kind == "message" for kind, _, _ in events_of(chunks)) >= wanted_messages:
            break
    stream.close()
    return events_of(chunks)


def test_the_event_stream_gives_each_message_once_and_resumes_after_the_last_id(app, client, chat_therapist):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    for text in ("one", "two", "three"):
        say(client, text)
    with app.app_context():
        live_id = db.session.scalar(select(LiveSession.id))
    events = read_stream(app, live_id, "staff", 0, 4)
    messages = [(data["text"], event_id) for kind, data, event_id in events if kind == "message"]
    assert [text for text, _ in messages][1:] == ["one", "two", "three"]
    assert [data for kind, data, _ in events if kind == "state"] == [{"state": "open", "place": 0}]
    ids = [event_id for _, event_id in messages]
    assert ids == sorted(ids) and len(set(ids)) == 4
    # The browser reconnects with Last-Event-ID = the second message: it gets the rest, once.
    say(client, "four")
    resumed = read_stream(app, live_id, "staff", ids[2], 2)
    assert [data["text"] for kind, data, _ in resumed if kind == "message"] == ["three", "four"]
    # Through the view, Last-Event-ID wins over the page's `after`.
    response = client.get("/live/events?after=0", headers={"Last-Event-ID": str(ids[3])}, buffered=False)
    assert response.mimetype == "text/event-stream"
    body = iter(response.response)
    first = [next(body) for _ in range(3)]  # retry, state, the message
    response.close()
    assert any(b'"four"' in (chunk if isinstance(chunk, bytes) else chunk.encode()) for chunk in first)
    assert not any(b'"three"' in (chunk if isinstance(chunk, bytes) else chunk.encode()) for chunk in first)


def test_a_wake_up_reaches_a_waiting_stream(app, client, chat_therapist):
    """The bus in this process (no Redis): a message posted wakes the stream at once."""
    import threading

    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    with app.app_context():
        live_id = db.session.scalar(select(LiveSession.id))
    received = []
    done = threading.Event()

    def listen():
        for kind, data, _ in read_stream(app, live_id, "staff", 0, 2):
            received.append((kind, data.get("text")))
        done.set()

    listener = threading.Thread(target=listen)
    listener.start()
    say(client, "woken")
    # The stream's own look comes only every 15 seconds: a reply within 10 means the wake-up.
    assert done.wait(10)
    listener.join()
    assert ("message", "woken") in received


# Walk-in chat ----------------------------------------------------------------------------


@pytest.fixture
def staffed_english(app):
    clock.freeze(WEDNESDAY)
    with app.app_context(), db.transaction() as session:
        live.set_staffed_hours(session, "en", [(2, dt.time(9), dt.time(17))])
    return app


def join(client, body: str, language: str = "en"):
    token = csrf_token_from(page(client, "/live/walk-in"))
    return client.post("/live/walk-in", data={"csrf_token": token, "language": language, "body": body})


def test_in_staffed_hours_the_visitor_queues_sees_their_place_and_a_counsellor_picks_up(
        app, seeded, staffed_english, make_staff):
    first, second = app.test_client(), app.test_client()
    assert "Open now." in page(first, "/live/walk-in")
    join(first, "I would like to talk.")
    clock.advance(dt.timedelta(minutes=1))
    join(second, "")
    assert "You are number 1 in the queue" in page(first, "/live/")
    assert "You are number 2 in the queue" in page(second, "/live/frame")
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    queue = page(counsellor, "/staff/live/")
    assert queue.count("Pick up") == 2 and "1 minute" in queue
    with app.app_context():
        entries = live.walk_in_queue(db.session, clock.now())
        assert [entry.place for entry in entries] == [1, 2] and entries[0].waiting >= dt.timedelta(minutes=1)
    picked = counsellor.post(f"/staff/live/{entries[0].live_id}/pick-up",
                             data={"csrf_token": csrf_token_from(queue)})
    assert picked.headers["Location"].endswith(f"/staff/live/{entries[0].live_id}")
    assert "I would like to talk." in page(counsellor, f"/staff/live/{entries[0].live_id}/frame")
    # A second counsellor picking the same chat is told someone was first.
    late = app.test_client()
    sign_in(late, make_staff("dan", roles=("counsellor",)))
    answer = late.post(f"/staff/live/{entries[0].live_id}/pick-up",
                       data={"csrf_token": csrf_token_from(page(late, "/staff/live/"))})
    assert answer.headers["Location"].endswith("/staff/live/")
    assert "You are number 1 in the queue" in page(second, "/live/")
    say(counsellor, "Hello, I am Cora.", f"/staff/live/{entries[0].live_id}")
    assert "Hello, I am Cora." in page(first, "/live/frame")


def test_out_of_hours_the_visitor_is_offered_a_thread_that_holds_what_they_wrote(app, seeded, staffed_english):
    clock.freeze(WEDNESDAY.replace(hour=20))  # 21:00 in Brussels
    visitor = app.test_client()
    assert "Closed now." in page(visitor, "/live/walk-in")
    join(visitor, "Words written out of hours.")
    say(visitor, "And a second message.")
    frame = page(visitor, "/live/frame")
    assert "No counsellor is free right now" in frame and 'target="_top"' in frame
    kept = post_confirm(visitor, "/live/", "/live/keep-as-thread")
    body = kept.get_data(as_text=True)
    key = re.search(r'id="new-key">([A-Z0-9-]+)<', body).group(1)
    thread_path = re.search(r'id="to-thread" href="([^"]+)"', body) or re.search(r'href="([^"]+)" id="to-thread"',
                                                                                  body)
    thread_path = thread_path.group(1)
    thread = page(visitor, thread_path)
    assert "Words written out of hours." in thread and "And a second message." in thread
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.kind == "thread"))
        assert [unseal(message.sealed_body) for message in conversation.messages] == [
            "Words written out of hours.", "And a second message."]
        assert conversation.reply_due_at is not None
    assert key


def test_a_walk_in_nobody_takes_in_time_is_offered_a_thread(app, seeded, staffed_english):
    visitor = app.test_client()
    join(visitor, "Waiting for someone.")
    assert "You are number 1" in page(visitor, "/live/")
    clock.advance(dt.timedelta(minutes=app.config["PAUSE"].walk_in_wait_minutes))
    assert "No counsellor is free right now" in page(visitor, "/live/")


def test_bad_input_keeps_the_text_and_floods_are_refused(app, client, chat_therapist):
    _, key, starts_at = book_chat(app, chat_therapist)
    clock.freeze(starts_at)
    open_booked_as_visitor(client, key)
    too_long = "x" * 4001
    answer = say(client, too_long)
    assert answer.status_code == 302
    assert too_long in page(client, "/live/"), "the text is shown again in the box"
    token = csrf_token_from(page(client, "/live/"))
    answers = [client.post("/live/say", data={"csrf_token": token, "body": f"message {n}"},
                           headers={"Accept": "application/json"}).status_code for n in range(20)]
    # 20 a minute per participant, the refused long message included.
    assert answers == [204] * 19 + [429]


def test_admins_set_the_chat_hours_per_language_and_mistakes_are_explained(app, seeded, make_staff):
    admin = app.test_client()
    sign_in(admin, make_staff("ada", roles=("admin",)))
    form = page(admin, "/staff/live/hours")
    token = csrf_token_from(form)
    wrong = admin.post("/staff/live/hours", data={"csrf_token": token, "en-0-start": "17:00", "en-0-end": "09:00",
                                                  "fr-1-start": "9h", "fr-1-end": "12:00"})
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "The end must come after the start." in text and 'value="9h"' in text
    saved = admin.post("/staff/live/hours", data={"csrf_token": token, "en-0-start": "09:00", "en-0-end": "17:00",
                                                  "fr-1-start": "09:30", "fr-1-end": "12:00"})
    assert saved.status_code == 302
    with app.app_context():
        assert [(hours.language, hours.weekday, hours.start) for hours in live.staffed_hours(db.session)] == [
            ("en", 0, dt.time(9)), ("fr", 1, dt.time(9, 30))]
        # Monday 23 November 2026 10:00 UTC = 11:00 in Brussels: English is staffed, French is not.
        monday = dt.datetime(2026, 11, 23, 10, 0)
        assert live.is_staffed(db.session, "en", monday) and not live.is_staffed(db.session, "fr", monday)
