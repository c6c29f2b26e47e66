"""The list of free times is shared between visitors until something it shows changes:
a booking, a cancellation, a move, the therapist's week, or the passing minute."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from booking import services
from booking.models import Booking, TherapistProfile
from service.clock import clock
from service.db import db
from tests.booking.conftest import first_free_slot

SLOT_FORMAT = "%Y%m%dT%H%M"
REQUEST = {"modality": "video", "language": "en", "note": "", "contact": "", "reminder_email": ""}


def listed_starts(app, therapist) -> set[str]:
    """The start of every time the booking page offers, as a fresh visitor sees it."""
    page = app.test_client().get("/booking/?language=en").get_data(as_text=True)
    return set(re.findall(rf"therapist={therapist.profile_id}&amp;start=(\d{{8}}T\d{{4}})", page))


def schedule_version(app, therapist) -> int:
    with app.app_context():
        return db.session.get(TherapistProfile, therapist.profile_id).schedule_version


def book(app, therapist, starts_at: dt.datetime) -> int:
    with app.app_context(), db.transaction() as session:
        booking, _key = services.book(session, therapist.profile_id, starts_at, REQUEST)
        return booking.id


def test_a_booked_time_leaves_the_list_at_once_and_comes_back_when_cancelled(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    start = slot.starts_at.strftime(SLOT_FORMAT)
    assert start in listed_starts(seeded, therapist)
    booking_id = book(seeded, therapist, slot.starts_at)
    assert start not in listed_starts(seeded, therapist)
    with seeded.app_context(), db.transaction() as session:
        services.cancel(session, session.get(Booking, booking_id), dt.timedelta(hours=1))
    assert start in listed_starts(seeded, therapist)


def test_a_moved_booking_frees_its_old_time_and_takes_the_new_one(seeded, therapist):
    first, _, third = [slot.starts_at for slot in services_slots(seeded, therapist)[:3]]
    booking_id = book(seeded, therapist, first)
    assert first.strftime(SLOT_FORMAT) not in listed_starts(seeded, therapist)
    with seeded.app_context(), db.transaction() as session:
        services.move(session, session.get(Booking, booking_id), third, dt.timedelta(hours=1))
    starts = listed_starts(seeded, therapist)
    assert first.strftime(SLOT_FORMAT) in starts and third.strftime(SLOT_FORMAT) not in starts


def test_a_day_off_removes_that_days_times(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    day = slot.starts_at.date()
    assert any(start.startswith(day.strftime("%Y%m%d")) for start in listed_starts(seeded, therapist))
    with seeded.app_context(), db.transaction() as session:
        services.add_exception(session, session.get(TherapistProfile, therapist.profile_id), day, "off", None, None)
    assert not any(start.startswith(day.strftime("%Y%m%d")) for start in listed_starts(seeded, therapist))


def test_a_time_leaves_the_list_when_its_notice_runs_out(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    start = slot.starts_at.strftime(SLOT_FORMAT)
    assert start in listed_starts(seeded, therapist)
    # Twelve hours' notice: the time is listed until the minute before the notice begins.
    clock.freeze(slot.starts_at - dt.timedelta(hours=12, minutes=1))
    assert start in listed_starts(seeded, therapist)
    clock.freeze(slot.starts_at - dt.timedelta(hours=12) + dt.timedelta(seconds=1))
    assert start not in listed_starts(seeded, therapist)


def test_only_changes_to_free_times_move_the_schedule_version(seeded, therapist):
    before = schedule_version(seeded, therapist)
    booking_id = book(seeded, therapist, first_free_slot(seeded, therapist).starts_at)
    after_booking = schedule_version(seeded, therapist)
    assert after_booking == before + 1
    with seeded.app_context(), db.transaction() as session:
        session.get(Booking, booking_id).reminded_day_before_at = clock.now()
    assert schedule_version(seeded, therapist) == after_booking
    with seeded.app_context(), db.transaction() as session:
        session.get(TherapistProfile, therapist.profile_id).display_name = "Theo B."
    assert schedule_version(seeded, therapist) == after_booking + 1


def test_a_disabled_therapist_leaves_the_list(seeded, therapist):
    from service.auth.models import StaffMember

    assert listed_starts(seeded, therapist)
    with seeded.app_context(), db.transaction() as session:
        staff = session.scalar(select(StaffMember).where(StaffMember.id == therapist.account.id))
        staff.disabled_at = clock.now()
    assert not listed_starts(seeded, therapist)


def services_slots(app, therapist):
    with app.app_context():
        return services.free_slots_for(db.session, db.session.get(TherapistProfile, therapist.profile_id))


def test_free_times_come_a_week_at_a_time_and_the_page_stays_light(seeded, therapist, make_staff):
    # Five more therapists with the same full week: six in all.
    for number in range(5):
        account = make_staff(f"therapist{number}", roles=("therapist",))
        with seeded.app_context(), db.transaction() as session:
            from service.auth.models import StaffMember

            profile = services.profile_for_staff(session, session.get(StaffMember, account.id))
            profile.display_name, profile.languages, profile.modalities = f"T{number}", "en", "video"
            profile.active = True
            services.set_windows(session, profile, [(weekday, dt.time(9), dt.time(17)) for weekday in range(5)])
    client = seeded.test_client()
    first = client.get("/booking/?language=en")
    assert len(first.data) < 60_000
    page = first.get_data(as_text=True)
    starts = set(re.findall(r"start=(\d{8})T\d{4}", page))
    # Monday 23 November 2026: this week runs to Sunday the 29th.
    assert starts and all("20261123" <= day <= "20261129" for day in starts)
    assert "Earlier times" not in page
    later = re.search(r'href="([^"]*week=1[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    next_page = client.get(later).get_data(as_text=True)
    assert all("20261130" <= day <= "20261206" for day in re.findall(r"start=(\d{8})T\d{4}", next_page))
    assert 'rel="prev"' in next_page
    # A week number out of range is the first week, not an error.
    assert client.get("/booking/?language=en&week=99").status_code == 200


def test_a_booked_time_leaves_the_list_on_the_next_page(seeded, therapist):
    slot = first_free_slot(seeded, therapist)
    start = slot.starts_at.strftime(SLOT_FORMAT)
    assert start in listed_starts(seeded, therapist)
    book(seeded, therapist, slot.starts_at)
    assert start not in listed_starts(seeded, therapist)
