"""The therapists' calendar: outcomes only once a session has started (and corrected,
audited), messages that join a list, the availability form that keeps what was typed
with each error beside its field, days off as ranges, the week as a grid, a new
therapist closed and nameless, the private feed, and one change cut-off for the manage
page and the service."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select

from booking import availability, services
from booking.calendar import week_grid
from booking.models import Booking, BookingMessage, TherapistProfile
from booking.slots import DateException, WeeklyWindow, working_intervals
from service.auth.models import AuditEntry, StaffMember
from service.clock import clock
from service.db import db
from service.jobs import run_all
from tests.booking.conftest import MONDAY_MORNING, first_free_slot
from tests.booking.test_booking import book_through_the_pages, booking_key, open_with_key
from tests.conftest import audit_actions, csrf_token_from, every_row, sign_in

FRENCH = {"Accept-Language": "fr"}
BASE = {"display_name": "Theo", "time_zone": "Europe/Brussels", "session_minutes": "50", "buffer_minutes": "10",
        "notice_hours": "12", "horizon_days": "42", "languages": ["en"], "modalities": ["video"], "active": "y"}


def booked(seeded, therapist, **fields):
    slot = first_free_slot(seeded, therapist)
    visitor = seeded.test_client()
    key = booking_key(book_through_the_pages(visitor, therapist, slot.starts_at, **fields))
    with seeded.app_context():
        reference = db.session.scalar(select(Booking.reference))
    return slot, visitor, key, reference


def signed_in(seeded, therapist):
    staff = seeded.test_client()
    sign_in(staff, therapist.account)
    return staff


def post_on(client, page: str, address: str, data: dict, headers=None):
    token = csrf_token_from(client.get(page, headers=headers).get_data(as_text=True))
    return client.post(address, data={"csrf_token": token, **data}, headers=headers)


def state_of(seeded) -> str:
    with seeded.app_context():
        return db.session.scalar(select(Booking.status))


# Outcomes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "refusal"), [
    ("en", "The outcome can be recorded once the session has started."),
    ("fr", "Le résultat peut être noté une fois la séance commencée."),
])
def test_an_early_outcome_is_refused_in_the_staff_members_language(seeded, therapist, language, refusal):
    slot, _visitor, _key, reference = booked(seeded, therapist)
    staff = signed_in(seeded, therapist)
    clock.freeze(slot.starts_at - dt.timedelta(minutes=1))
    sign_in(staff, therapist.account)
    page = f"/staff/appointments/{reference}"
    answer = post_on(staff, page, f"{page}/status", {"status": "no-show"}, headers={"Accept-Language": language})
    assert html.unescape(staff.get(answer.headers["Location"], headers={"Accept-Language": language})
                         .get_data(as_text=True)).count(refusal) >= 1
    assert state_of(seeded) == "booked"
    assert "booking.no-show" not in audit_actions(seeded)


def test_an_outcome_is_recorded_from_the_start_and_corrected_with_an_audit_entry(seeded, therapist):
    slot, _visitor, _key, reference = booked(seeded, therapist)
    clock.freeze(slot.starts_at)  # exactly at the start: allowed
    staff = signed_in(seeded, therapist)
    page = f"/staff/appointments/{reference}"
    post_on(staff, page, f"{page}/status", {"status": "no-show"})
    assert state_of(seeded) == "no-show"
    assert "Did not attend" in staff.get(page).get_data(as_text=True)
    assert "Absent" in staff.get(page, headers=FRENCH).get_data(as_text=True)
    # The visitor came after all, late: the therapist corrects it.
    post_on(staff, page, f"{page}/status", {"status": "attended"})
    assert state_of(seeded) == "attended"
    with seeded.app_context():
        corrected = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booking.outcome_corrected"))
        assert json.loads(corrected.detail) == {"before": "no-show", "after": "attended"}
        assert corrected.object_id == reference
    assert audit_actions(seeded).count("booking.no-show") == 1


def test_a_cancelled_appointment_takes_no_outcome_and_codes_never_show(seeded, therapist):
    slot, _visitor, _key, reference = booked(seeded, therapist)
    staff = signed_in(seeded, therapist)
    page = f"/staff/appointments/{reference}"
    post_on(staff, page, f"{page}/status", {"status": "cancelled"})
    assert state_of(seeded) == "cancelled"
    clock.freeze(slot.starts_at + dt.timedelta(minutes=5))
    sign_in(staff, therapist.account)
    post_on(staff, page, f"{page}/status", {"status": "attended"})
    assert state_of(seeded) == "cancelled"
    body = staff.get(page, headers=FRENCH).get_data(as_text=True)
    assert "Annulé" in body and ">cancelled<" not in body and ">phone<" not in body and ">en<" not in body


# Messages ---------------------------------------------------------------------------------


def test_messages_to_the_visitor_join_a_list_sealed_and_erased_with_the_booking(seeded, therapist):
    slot, visitor, key, reference = booked(seeded, therapist)
    staff = signed_in(seeded, therapist)
    page = f"/staff/appointments/{reference}"
    first, second = "canary-first-message-7301 the link follows", "canary-second-message-7301 room 4 instead"
    assert post_on(staff, page, f"{page}/message", {"message": first}).status_code == 302
    clock.advance(dt.timedelta(minutes=3))
    assert post_on(staff, page, f"{page}/message", {"message": second}).status_code == 302
    open_with_key(visitor, key)
    manage = visitor.get("/booking/manage").get_data(as_text=True)
    assert first in manage and second in manage and manage.index(first) < manage.index(second)
    assert "Messages from your therapist" in manage
    therapist_page = staff.get(page).get_data(as_text=True)
    assert first in therapist_page and second in therapist_page
    raw = every_row(seeded)
    assert b"canary-first-message-7301" not in raw and b"canary-second-message-7301" not in raw
    with seeded.app_context():
        assert len(db.session.scalars(select(BookingMessage)).all()) == 2
        assert BookingMessage.__table__.c.sealed_body.info == {"sealed": True}
    # A day after the session the messages go with the other details.
    clock.freeze(slot.ends_at + dt.timedelta(hours=24, minutes=1))
    with seeded.app_context():
        run_all()
        assert db.session.scalars(select(BookingMessage)).all() == []


def test_an_empty_or_overlong_message_is_refused_and_what_was_typed_stays(seeded, therapist):
    _slot, _visitor, _key, reference = booked(seeded, therapist)
    staff = signed_in(seeded, therapist)
    page = f"/staff/appointments/{reference}"
    long_text = "canary-long-7302 " + "x" * 1200
    refused = post_on(staff, page, f"{page}/message", {"message": long_text}, headers=FRENCH)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and long_text in body and 'id="message-error"' in body
    assert "caractères" in body
    assert post_on(staff, page, f"{page}/message", {"message": "   "}).status_code == 422
    with seeded.app_context():
        assert db.session.scalars(select(BookingMessage)).all() == []


# The availability form ----------------------------------------------------------------------


def availability_post(staff, data, headers=None):
    return post_on(staff, "/staff/appointments/availability", "/staff/appointments/availability", data, headers)


def test_the_availability_form_keeps_what_was_typed_and_puts_each_error_beside_its_field(seeded, therapist):
    staff = signed_in(seeded, therapist)
    refused = availability_post(staff, {
        **BASE, "display_name": "Dr Typed Name", "session_minutes": "five", "time_zone": "Mars/Olympus",
        "window-0-0-start": "09:00", "window-0-0-end": "12:00", "window-0-1-start": "11:00",
        "window-0-1-end": "13:00", "window-1-0-start": "14:00", "window-1-0-end": "",
        "off-from": "2026-12-28", "off-to": "2026-12-24"}, headers=FRENCH)
    assert refused.status_code == 422
    page = html.unescape(refused.get_data(as_text=True))
    # What was typed is there again.
    for kept in ('value="Dr Typed Name"', 'value="five"', 'value="Mars/Olympus"', 'value="11:00"', 'value="13:00"',
                 'value="14:00"', 'value="2026-12-28"', 'value="2026-12-24"'):
        assert kept in page, kept
    # Each problem sits beside its own field, in French, and never names a field by its code.
    beside = dict(re.findall(r'<p class="error" id="([\w-]+)-error">([^<]+)</p>', page))
    assert set(beside) == {"session_minutes", "time_zone", "window-0-1", "window-1-0", "off-from"}
    assert beside["session_minutes"] == "Veuillez donner un nombre entier de 15 à 180."
    assert "chevauche" in beside["window-0-1"]
    for text in beside.values():
        assert not re.search(r"session_minutes|time_zone|window|off-from", text)
    assert 'aria-describedby="session_minutes-error"' in page and 'aria-invalid="true"' in page
    with seeded.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        assert profile.display_name == "Theo" and len(profile.windows) == 5  # nothing saved


def test_several_windows_a_day_and_days_off_as_a_range(seeded, therapist):
    staff = signed_in(seeded, therapist)
    saved = availability_post(staff, {
        **BASE, "window-0-0-start": "09:00", "window-0-0-end": "12:00", "window-0-1-start": "14:00",
        "window-0-1-end": "17:00", "off-from": "2026-11-30", "off-to": "2026-12-06"})
    assert saved.status_code == 302
    with seeded.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        assert [(w.weekday, w.start, w.end) for w in profile.windows] == [
            (0, dt.time(9), dt.time(12)), (0, dt.time(14), dt.time(17))]
        assert [(e.day, e.last_day, e.kind) for e in profile.exceptions] == [
            (dt.date(2026, 11, 30), dt.date(2026, 12, 6), "off")]
        starts = {slot.starts_at for slot in services.free_slots_for(db.session, profile)}
    # The next Monday (30 November) is off; the one after has both windows.
    assert not any(start.date() == dt.date(2026, 11, 30) for start in starts)
    assert {start.time() for start in starts if start.date() == dt.date(2026, 12, 7)} >= {dt.time(8), dt.time(13)}
    form = staff.get("/staff/appointments/availability").get_data(as_text=True)
    # The two saved windows come back, with an empty row for a third.
    assert 'name="window-0-2-start" value=""' in form and 'name="window-0-1-end" value="17:00"' in form


def test_a_range_off_covers_each_of_its_days_only():
    windows = [WeeklyWindow(day, dt.time(9), dt.time(17)) for day in range(7)]
    off = [DateException(dt.date(2026, 12, 24), "off", last_day=dt.date(2026, 12, 26))]
    assert working_intervals(dt.date(2026, 12, 23), windows, off) == [(540, 1020)]
    for day in (24, 25, 26):
        assert working_intervals(dt.date(2026, 12, day), windows, off) == []
    assert working_intervals(dt.date(2026, 12, 27), windows, off) == [(540, 1020)]


def test_the_form_reader_refuses_what_it_cannot_read_without_raising():
    from werkzeug.datastructures import MultiDict

    hostile = MultiDict({**{key: value for key, value in BASE.items() if not isinstance(value, list)},
                         "languages": "en", "modalities": "video", "notice_hours": "99999999999999999999",
                         "window-3-0-start": "25:61", "window-3-0-end": "1e309", "off-from": "2026-02-30",
                         "exception-day": "2026-12-24", "exception-kind": "extra"})
    typed, changes, problems = availability.read(hostile, ("en", "fr"))
    assert changes is None
    assert set(problems) == {"notice_hours", "window-3-0", "off-from", "exception-day"}
    assert typed.windows[3] == [("25:61", "1e309")]


# A new therapist, and the demo one --------------------------------------------------------


def test_a_new_therapist_starts_closed_with_no_public_name(seeded, make_staff):
    clock.freeze(MONDAY_MORNING)
    account = make_staff("newtherapist", roles=("therapist",))
    staff = seeded.test_client()
    sign_in(staff, account)
    overview = staff.get("/staff/appointments/").get_data(as_text=True)
    assert 'id="closed-for-booking"' in overview
    with seeded.app_context():
        profile = db.session.scalar(select(TherapistProfile).join(StaffMember)
                                    .where(StaffMember.username == "newtherapist"))
        assert profile.active is False and profile.display_name == ""
        assert services.therapists(db.session) == []
    # Opening for booking needs a public name first; what was typed stays.
    refused = availability_post(staff, {**BASE, "display_name": "", "window-0-0-start": "09:00",
                                        "window-0-0-end": "12:00"})
    assert refused.status_code == 422
    assert "Please give the name visitors will see before opening for booking." in \
        html.unescape(refused.get_data(as_text=True))
    assert availability_post(staff, {**BASE, "display_name": "Sam", "window-0-0-start": "09:00",
                                     "window-0-0-end": "12:00"}).status_code == 302
    with seeded.app_context():
        assert [profile.display_name for profile in services.therapists(db.session)] == ["Sam"]


def test_the_demo_therapist_is_added_only_in_development(seeded, runner):
    from service.cli import seed_demo_therapist

    with seeded.app_context(), db.transaction() as session:
        assert "added a demo therapist" in seed_demo_therapist(session)
    with seeded.app_context():
        [profile] = services.therapists(db.session)
        assert profile.display_name == "Alex (demo)" and profile.active


def test_seed_demo_is_refused_in_production(seeded):
    import dataclasses

    seeded.config["PAUSE"] = dataclasses.replace(seeded.config["PAUSE"], env="production")
    result = seeded.test_cli_runner().invoke(args=["seed", "--demo"])
    assert "--demo is for development only" in result.output
    with seeded.app_context():
        assert db.session.scalars(select(TherapistProfile)).all() == []


# The week as a grid -----------------------------------------------------------------------


def test_the_week_grid_shows_sessions_free_times_and_days_off(seeded, therapist):
    slot, _visitor, _key, reference = booked(seeded, therapist)  # Tuesday 24 November, 09:00 Brussels
    staff = signed_in(seeded, therapist)
    assert availability_post(staff, {**BASE, "languages": ["en", "fr"], "modalities": ["phone", "video"],
                                      **{f"window-{day}-0-start": "09:00" for day in range(5)},
                                      **{f"window-{day}-0-end": "17:00" for day in range(5)},
                                      "off-from": "2026-11-26", "off-to": "2026-11-27"}).status_code == 302
    page = html.unescape(staff.get("/staff/appointments/?view=week", headers=FRENCH).get_data(as_text=True))
    table = re.search(r'<table class="data-table week-grid" id="week-grid">.*?</table>', page, re.S).group(0)
    assert "<caption>" in table and table.count('scope="col"') == 8 and 'scope="row">09:00' in table
    # The week runs Monday to Sunday, whatever day it is asked from.
    assert 'id="day-2026-11-23"' in table and 'id="day-2026-11-29"' in table
    assert f'href="/staff/appointments/{reference}"' in table and "Téléphone, anglais — Réservé" in table
    assert "libre" in table
    assert table.count("Jour de congé") == 2  # Thursday and Friday
    with seeded.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        grid = week_grid(db.session, profile, dt.date(2026, 11, 23), clock.now(), "Europe/Brussels")
        thursday = next(day for day in grid.days if day.date == dt.date(2026, 11, 26))
        assert thursday.off == "whole" and thursday.entries == []
        tuesday = next(day for day in grid.days if day.date == dt.date(2026, 11, 24))
        assert [entry.kind for entry in tuesday.entries][:1] == ["session"]
        assert grid.sessions == 1


def test_times_are_shown_in_the_staff_members_zone(seeded, therapist):
    _slot, _visitor, _key, reference = booked(seeded, therapist)
    staff = signed_in(seeded, therapist)
    # 08:00 UTC is 09:00 in Brussels (the therapist's zone) and 08:00 in London.
    assert "09:00 (Europe/Brussels)" in staff.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    with seeded.app_context():
        from booking.times import staff_zone

        class Chosen:
            time_zone = "Europe/London"

        assert staff_zone(Chosen(), db.session.get(TherapistProfile, therapist.profile_id)) == "Europe/London"
        assert staff_zone(None, None) == "Europe/Brussels"


# The private feed ---------------------------------------------------------------------------


def test_the_feed_keeps_past_sessions_with_neutral_titles_and_links_back(seeded, therapist):
    slot, _visitor, _key, reference = booked(seeded, therapist, note="canary-feed-7303")
    staff = signed_in(seeded, therapist)
    made = post_on(staff, "/staff/appointments/availability", "/staff/appointments/calendar", {"action": "new"})
    link = re.search(r'id="calendar-link">http://[^/]+(/calendar/[\w-]+\.ics)<', made.get_data(as_text=True)).group(1)
    clock.freeze(slot.ends_at + dt.timedelta(hours=2))  # the session is over
    ics = seeded.test_client().get(link).get_data(as_text=True).replace("\r\n ", "")
    assert "BEGIN:VEVENT" in ics and "SUMMARY:Appointment" in ics
    assert f"URL:http://localhost/staff/appointments/{reference}" in ics
    assert "phone" not in ics and "canary-feed-7303" not in ics and f"SUMMARY:Pause session {reference}" not in ics
    french = seeded.test_client().get(link, headers=FRENCH).get_data(as_text=True)
    assert "SUMMARY:Rendez-vous" in french


# One cut-off ---------------------------------------------------------------------------------


def test_the_manage_page_and_the_service_agree_at_exactly_the_cut_off(seeded, therapist):
    slot, visitor, key, _reference = booked(seeded, therapist)
    cutoff = dt.timedelta(hours=seeded.config["PAUSE"].booking_change_cutoff_hours)
    with seeded.app_context():
        booking = db.session.scalar(select(Booking))
        assert services.can_change(booking, slot.starts_at - cutoff)
        assert not services.can_change(booking, slot.starts_at - cutoff + dt.timedelta(microseconds=1))
    clock.freeze(slot.starts_at - cutoff)
    open_with_key(visitor, key)
    page = visitor.get("/booking/manage").get_data(as_text=True)
    assert 'action="/booking/manage/cancel"' in page  # offered exactly at the cut-off ...
    cancelled = visitor.post("/booking/manage/cancel", data={"csrf_token": csrf_token_from(page)},
                             follow_redirects=True)
    assert "Your appointment is cancelled." in cancelled.get_data(as_text=True)  # ... and done
    assert state_of(seeded) == "cancelled"


def test_the_week_of_free_times_is_a_service(seeded, therapist):
    with seeded.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        week = services.week_of_free_times(db.session, profile, dt.date(2026, 11, 23), MONDAY_MORNING,
                                           "Europe/Brussels")
        assert min(week["days"]) == dt.date(2026, 11, 24) and max(week["days"]) == dt.date(2026, 11, 27)
        assert week["next_day"] == dt.date(2026, 11, 30)
        london = services.week_of_free_times(db.session, profile, dt.date(2026, 11, 23), MONDAY_MORNING,
                                             "Europe/London")
        assert london["days"][dt.date(2026, 11, 24)][0][1].strftime("%H:%M") == "08:00"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "junk"])
def test_a_made_up_date_in_the_calendar_address_shows_this_week(seeded, therapist, day):
    staff = signed_in(seeded, therapist)
    for view in ("week", "day"):
        answer = staff.get(f"/staff/appointments/?view={view}&from={day}")
        assert answer.status_code == 200 and 'id="week-grid"' in answer.get_data(as_text=True)
