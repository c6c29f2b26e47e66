"""Booking is open to family and friends: a visitor can say they are a relative or
friend, and the therapist sees it, in words, in the diary and on the appointment. The
flag goes with the rest when the booking is reduced after 30 days."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from booking.models import Booking
from booking.services import erase_booking_details
from service.clock import clock
from service.db import db
from tests.booking.conftest import first_free_slot
from tests.booking.test_booking import book_through_the_pages
from tests.conftest import sign_in


def test_a_booking_from_a_relative_is_shown_as_such_to_the_therapist(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    form = seeded.test_client().get(
        f"/booking/book?therapist={therapist.profile_id}&start={slot.starts_at.strftime('%Y%m%dT%H%M')}")
    assert 'name="from_relative"' in form.get_data(as_text=True)
    booked = book_through_the_pages(seeded.test_client(), therapist, slot.starts_at, from_relative="y")
    assert booked.status_code == 200
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    week = staff.get("/staff/appointments/?view=week").get_data(as_text=True)
    assert "from a relative or friend" in week
    reference = re.search(r'href="/staff/appointments/([0-9A-F]+)"', week).group(1)
    appointment = staff.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert 'id="from-relative">A relative or friend of someone worried about their thoughts<' in appointment


def test_an_ordinary_booking_says_nothing_about_relatives(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    book_through_the_pages(seeded.test_client(), therapist, slot.starts_at)
    with seeded.app_context():
        assert db.session.scalar(select(Booking.from_relative)) is False


def test_the_flag_is_erased_when_the_booking_is_reduced(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    book_through_the_pages(seeded.test_client(), therapist, slot.starts_at, from_relative="y")
    clock.freeze(slot.starts_at + dt.timedelta(days=31))
    with seeded.app_context(), db.transaction() as session:
        erase_booking_details(session)
    with seeded.app_context():
        assert db.session.scalar(select(Booking.from_relative)) is False
