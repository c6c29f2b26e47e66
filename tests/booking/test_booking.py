"""Booking anonymously: book, manage with the key, move and cancel until the cut-off,
reminders by a real SMTP server, and erasure after the session."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from booking.models import Booking
from service.clock import clock
from service.db import db
from service.jobs import run_all
from tests.booking.conftest import first_free_slot
from tests.conftest import csrf_token_from, every_row

NOTE = "canary-booking-note-5521 I am nervous"
PHONE = "+32 470 55 66 77"
EMAIL = "canary-reminder-5521@example.net"
SLOT_FORMAT = "%Y%m%dT%H%M"


def book_through_the_pages(client, therapist, starts_at, **fields):
    url = f"/booking/book?therapist={therapist.profile_id}&start={starts_at.strftime(SLOT_FORMAT)}"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "modality": "phone", "language": "en", "note": NOTE,
            "contact": PHONE, "reminder_email": "", "calendar_title": ""}
    data.update(fields)
    return client.post(url, data=data)


def booking_key(response) -> str:
    return re.search(r'id="booking-key"><code>([0-9A-Z-]+)</code>', response.get_data(as_text=True)).group(1)


def open_with_key(client, key: str):
    page = client.get("/booking/manage").get_data(as_text=True)
    return client.post("/booking/manage", data={"csrf_token": csrf_token_from(page), "key": key})


def test_free_slots_are_listed_by_day_in_the_visitors_zone(seeded, therapist):
    page = seeded.test_client().get("/booking/?language=en&modality=phone").get_data(as_text=True)
    # Notice of 12 hours from Monday 08:00 UTC: the first slot is Monday 20:00 UTC... outside hours,
    # so Tuesday 09:00 Brussels (08:00 UTC).
    assert "start=20261124T0800" in page
    assert ">09:00</a>" in page
    london = seeded.test_client().get("/booking/?language=en&zone=Europe/London").get_data(as_text=True)
    assert ">08:00</a>" in london


def test_a_visitor_books_without_giving_a_name_and_the_details_are_sealed(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    response = book_through_the_pages(client, therapist, slot.starts_at)
    assert response.status_code == 200
    key = booking_key(response)
    raw = every_row(seeded)
    for planted in (NOTE, PHONE, key, key.replace("-", "")):
        assert planted.encode() not in raw
    calendar = client.post("/booking/appointment.ics", data={"csrf_token": csrf_token_from(
        response.get_data(as_text=True))})
    ics = calendar.get_data(as_text=True)
    assert calendar.mimetype == "text/calendar" and "SUMMARY:Appointment" in ics
    assert "nervous" not in ics and "Theo" not in ics
    assert slot.starts_at.strftime("%Y%m%dT%H%M00Z") in ics


def test_the_key_opens_the_appointment_in_another_browser(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    key = booking_key(book_through_the_pages(seeded.test_client(), therapist, slot.starts_at))
    other = seeded.test_client()
    assert open_with_key(other, key.lower()).status_code == 302
    page = other.get("/booking/manage").get_data(as_text=True)
    assert 'id="appointment"' in page and "Theo" in page


def test_a_wrong_booking_key_is_answered_clearly_and_throttled(seeded, therapist):
    client = seeded.test_client()
    wrong = open_with_key(client, "ABCD-EFGH-JKMN-PQRS-TVWX")
    assert wrong.status_code == 422 and "We found no appointment" in wrong.get_data(as_text=True)
    for _ in range(9):
        open_with_key(client, "ABCD-EFGH-JKMN-PQRS-TVWX")
    assert open_with_key(client, "ABCD-EFGH-JKMN-PQRS-TVWX").status_code == 429


def test_invalid_details_are_explained_and_kept(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    response = book_through_the_pages(seeded.test_client(), therapist, slot.starts_at, contact="",
                                      reminder_email="not an address", note="n" * 1500)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "please give a number" in page and "does not look like an e-mail" in page and "1500 characters" in page
    assert 'value="not an address"' in page and "n" * 1500 in page


def test_cancel_and_move_until_the_cut_off_but_not_after(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    key = booking_key(book_through_the_pages(client, therapist, slot.starts_at))
    open_with_key(client, key)
    page = client.get("/booking/manage/move").get_data(as_text=True)
    later = re.findall(r'name="start" value="(\d{8}T\d{4})"', page)[3]
    # Other weeks page the same way as on the booking page.
    next_week = client.get(re.search(r'href="([^"]*week=1[^"]*)" rel="next"', page).group(1).replace("&amp;", "&"))
    next_starts = re.findall(r'name="start" value="(\d{8})T\d{4}"', next_week.get_data(as_text=True))
    assert next_starts and all("20261130" <= day <= "20261206" for day in next_starts)
    response = client.post("/booking/manage/move", data={"csrf_token": csrf_token_from(page), "start": later})
    assert response.status_code == 302
    with seeded.app_context():
        booking = db.session.scalar(select(Booking))
        assert booking.starts_at.strftime(SLOT_FORMAT) == later
        starts_at = booking.starts_at
    clock.freeze(starts_at - dt.timedelta(hours=23))
    # Days later the visit has ended on the server (idle timeout): the key opens it again.
    open_with_key(client, key)
    page = client.get("/booking/manage").get_data(as_text=True)
    assert "too late to change" in page
    refused = client.post("/booking/manage/cancel", data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "too late to change" in refused.get_data(as_text=True)
    clock.freeze(starts_at - dt.timedelta(hours=25))
    client.post("/booking/manage/cancel", data={"csrf_token": csrf_token_from(page)})
    with seeded.app_context():
        assert db.session.scalar(select(Booking)).status == "cancelled"
    # The time is free again.
    assert f"start={later}" in client.get("/booking/?language=en").get_data(as_text=True)


def test_a_taken_slot_is_answered_kindly_with_fresh_slots(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    url = f"/booking/book?therapist={therapist.profile_id}&start={slot.starts_at.strftime(SLOT_FORMAT)}"
    first, second = seeded.test_client(), seeded.test_client()
    pages = [client.get(url).get_data(as_text=True) for client in (first, second)]
    assert first.post(url, data={"csrf_token": csrf_token_from(pages[0]), "modality": "video",
                                 "language": "en"}).status_code == 200
    late = second.post(url, data={"csrf_token": csrf_token_from(pages[1]), "modality": "video", "language": "en"})
    assert late.status_code == 302
    followed = second.get(late.headers["Location"]).get_data(as_text=True)
    assert "This time was just taken" in followed and "start=" in followed
    # Opening a taken time directly says the same.
    assert seeded.test_client().get(url).status_code == 302


def test_reminders_go_a_day_and_an_hour_before_once_and_never_for_a_cancelled_booking(seeded, therapist,
                                                                                       mail_server):
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    open_with_key(client, booking_key(book_through_the_pages(client, therapist, slot.starts_at,
                                                             reminder_email=EMAIL)))
    second = seeded.test_client()
    other_slot_key = booking_key(book_through_the_pages(second, therapist, slot.starts_at + dt.timedelta(hours=1),
                                                        reminder_email="other@example.net"))
    open_with_key(second, other_slot_key)
    page = second.get("/booking/manage").get_data(as_text=True)
    second.post("/booking/manage/cancel", data={"csrf_token": csrf_token_from(page)})
    with seeded.app_context():
        clock.freeze(slot.starts_at - dt.timedelta(hours=25))
        run_all()
        assert mail_server.recipients() == []
        clock.freeze(slot.starts_at - dt.timedelta(hours=24))
        run_all()
        run_all()
        assert mail_server.recipients() == [EMAIL]
        clock.freeze(slot.starts_at - dt.timedelta(minutes=59))
        run_all()
        run_all()
        assert mail_server.recipients() == [EMAIL, EMAIL]
    assert "other@example.net" not in mail_server.recipients()
    assert "nervous" not in mail_server.text() and "Theo" not in mail_server.text()


def test_details_are_erased_a_day_after_and_the_booking_reduced_after_thirty_days(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    book_through_the_pages(seeded.test_client(), therapist, slot.starts_at, reminder_email=EMAIL)
    with seeded.app_context():
        clock.freeze(slot.ends_at + dt.timedelta(hours=23))
        run_all()
        assert db.session.scalar(select(Booking)).sealed_note is not None
        clock.freeze(slot.ends_at + dt.timedelta(hours=24, minutes=1))
        run_all()
        db.session.expire_all()
        booking = db.session.scalar(select(Booking))
        assert booking.sealed_note is None and booking.sealed_contact is None
        assert booking.sealed_reminder_email is None
        clock.freeze(slot.ends_at + dt.timedelta(days=31))
        run_all()
        db.session.expire_all()
        booking = db.session.scalar(select(Booking))
        assert booking.starts_at is None and booking.key_digest is None
        assert (booking.therapist_id, booking.session_day, booking.modality) == (
            therapist.profile_id, slot.starts_at.date(), "phone")
    raw = every_row(seeded)
    for planted in (b"canary-booking-note-5521", PHONE.encode(), EMAIL.encode()):
        assert planted not in raw


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_booking_pages_speak_the_visitors_language(seeded, therapist, language):
    page = seeded.test_client().get("/booking/", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<html lang="{language}">' in page
