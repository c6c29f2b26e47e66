"""The therapist's side: the diary, the note and the contact (audited, in its window),
outcomes and messages, availability, and the private calendar feed."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from booking.models import Booking, TherapistProfile
from service.clock import clock
from service.db import db
from tests.booking.conftest import first_free_slot
from tests.booking.test_booking import NOTE, PHONE, book_through_the_pages, booking_key, open_with_key
from tests.conftest import audit_actions, csrf_token_from, sign_in


def test_the_therapist_sees_the_booking_reads_the_note_and_marks_it_attended(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    visitor = seeded.test_client()
    key = booking_key(book_through_the_pages(visitor, therapist, slot.starts_at))
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    week = staff.get("/staff/appointments/?view=week").get_data(as_text=True)
    reference = re.search(r'href="/staff/appointments/([0-9A-F]+)"', week).group(1)
    page = staff.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert NOTE in page and PHONE not in page
    assert "booking.note_viewed" in audit_actions(seeded)
    staff.post(f"/staff/appointments/{reference}/message", data={"csrf_token": csrf_token_from(page),
                                                                 "message": "The video link is on its way."})
    open_with_key(visitor, key)
    assert "The video link is on its way." in visitor.get("/booking/manage").get_data(as_text=True)
    clock.freeze(slot.starts_at)  # an outcome is recorded once the session has started
    sign_in(staff, therapist.account)
    page = staff.get(f"/staff/appointments/{reference}").get_data(as_text=True)  # a form of this sign-in
    staff.post(f"/staff/appointments/{reference}/status", data={"csrf_token": csrf_token_from(page),
                                                                "status": "attended"})
    with seeded.app_context():
        assert db.session.scalar(select(Booking)).status == "attended"
    assert "booking.attended" in audit_actions(seeded)


def test_the_contact_is_revealed_only_from_an_hour_before_to_an_hour_after(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    book_through_the_pages(seeded.test_client(), therapist, slot.starts_at)
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    with seeded.app_context():
        reference = db.session.scalar(select(Booking)).reference
    for moment, visible in ((slot.starts_at - dt.timedelta(minutes=61), False),
                            (slot.starts_at - dt.timedelta(minutes=59), True),
                            (slot.ends_at + dt.timedelta(minutes=59), True),
                            (slot.ends_at + dt.timedelta(minutes=61), False)):
        clock.freeze(moment)
        if staff.get("/staff/").status_code != 200:
            sign_in(staff, therapist.account)
        page = staff.get(f"/staff/appointments/{reference}").get_data(as_text=True)
        response = staff.post(f"/staff/appointments/{reference}/reveal", data={"csrf_token": csrf_token_from(page)},
                              follow_redirects=True)
        assert (PHONE in response.get_data(as_text=True)) is visible, moment
    assert audit_actions(seeded).count("booking.contact_viewed") == 2


def test_availability_is_edited_with_clear_errors(seeded, therapist):
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    page = staff.get("/staff/appointments/availability").get_data(as_text=True)
    token = csrf_token_from(page)
    base = {"csrf_token": token, "display_name": "Theo", "time_zone": "Europe/Brussels", "session_minutes": "50",
            "buffer_minutes": "10", "notice_hours": "12", "horizon_days": "42", "languages": ["en"],
            "modalities": ["video"], "active": "y"}
    refused = staff.post("/staff/appointments/availability", data={
        **base, "time_zone": "Mars/Olympus", "window-0-0-start": "12:00", "window-0-0-end": "09:00"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Please choose a time zone" in page
    assert "The end must come after the start." in page
    saved = staff.post("/staff/appointments/availability", data={
        **base, "window-2-0-start": "14:00", "window-2-0-end": "16:00", "off-from": "2026-11-25"})
    assert saved.status_code == 302
    with seeded.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        assert [(w.weekday, w.start, w.end) for w in profile.windows] == [(2, dt.time(14), dt.time(16))]
        assert [(e.day, e.kind) for e in profile.exceptions] == [(dt.date(2026, 11, 25), "off")]
    # Wednesday 25 November is off, so the first free time is the week after.
    # Nothing is free this week (the only day is off): the page says so and links to the next free times.
    this_week = seeded.test_client().get("/booking/?language=en").get_data(as_text=True)
    assert "start=20261202T1300" not in this_week and "No free times this week." in this_week
    next_link = re.search(r'href="([^"]*week=1[^"]*)">See the next free times', this_week).group(1)
    assert "start=20261202T1300" in seeded.test_client().get(next_link.replace("&amp;", "&")).get_data(as_text=True)


def test_the_private_calendar_feed_is_neutral_and_revocable(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    book_through_the_pages(seeded.test_client(), therapist, slot.starts_at)
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    page = staff.get("/staff/appointments/availability").get_data(as_text=True)
    made = staff.post("/staff/appointments/calendar", data={"csrf_token": csrf_token_from(page), "action": "new"})
    link = re.search(r'id="calendar-link">http://[^/]+(/calendar/[\w-]+\.ics)<', made.get_data(as_text=True)).group(1)
    feed = seeded.test_client().get(link)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    ics = feed.get_data(as_text=True)
    assert "BEGIN:VEVENT" in ics and "nervous" not in ics and PHONE.replace(" ", "") not in ics.replace(" ", "")
    staff.post("/staff/appointments/calendar", data={"csrf_token": csrf_token_from(page), "action": "revoke"})
    assert seeded.test_client().get(link).status_code == 404
