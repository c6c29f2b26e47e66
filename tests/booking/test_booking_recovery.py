"""A booking whose answer was lost (the database or the network failed after the
commit, issue 20 finding 1) is recovered by posting the same form again: the same
booking, the same key, never a second booking nor a slot held by a key no one has."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from booking.models import Booking
from service.db import db
from tests.booking.conftest import first_free_slot
from tests.booking.test_booking import SLOT_FORMAT, booking_key, open_with_key
from tests.conftest import csrf_token_from


def the_form(client, therapist, starts_at) -> tuple[str, dict]:
    url = f"/booking/book?therapist={therapist.profile_id}&start={starts_at.strftime(SLOT_FORMAT)}"
    page = client.get(url).get_data(as_text=True)
    attempt = re.search(r'id="attempt" name="attempt" type="hidden" value="([^"]+)"', page).group(1)
    return url, {"csrf_token": csrf_token_from(page), "attempt": attempt, "modality": "phone", "language": "en",
                 "note": "", "contact": "+32 470 55 66 77", "reminder_email": "", "calendar_title": ""}


def test_posting_the_same_booking_form_again_recovers_the_booking_and_its_key(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    url, form = the_form(client, therapist, slot.starts_at)
    first = client.post(url, data=form)
    assert first.status_code == 200
    key = booking_key(first)
    # The answer never reached the visitor; they send the same form again (the browser's
    # "resend", or the same page once the service is back).
    again = client.post(url, data=form)
    assert again.status_code == 200 and booking_key(again) == key
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    # The key shown the second time opens the appointment.
    other = seeded.test_client()
    assert open_with_key(other, key).status_code == 302
    assert 'id="appointment"' in other.get("/booking/manage").get_data(as_text=True)


def test_each_filling_in_of_the_form_is_its_own_attempt(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    url, form = the_form(client, therapist, slot.starts_at)
    _, other = the_form(seeded.test_client(), therapist, slot.starts_at)
    assert other["attempt"] != form["attempt"]
    assert client.post(url, data=form).status_code == 200
    # Someone else's form for the same time finds the slot taken, not the first booking.
    stranger = seeded.test_client()
    _, fresh = the_form_or_none(stranger, therapist, slot.starts_at)
    assert fresh is None


def the_form_or_none(client, therapist, starts_at):
    url = f"/booking/book?therapist={therapist.profile_id}&start={starts_at.strftime(SLOT_FORMAT)}"
    response = client.get(url)
    return url, (None if response.status_code == 302 else response)
