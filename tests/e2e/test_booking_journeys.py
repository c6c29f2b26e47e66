"""Booking in a real browser, JavaScript on and off, in English, French and Dutch."""

from __future__ import annotations

import datetime as dt

import pytest

from service.clock import clock
from tests.booking.conftest import first_free_slot, therapist  # noqa: F401 - the fixture
from tests.e2e.test_staff_journeys import browser_sign_in
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

CONFIRMED = {"en": "Your appointment is booked", "fr": "Votre rendez-vous est réservé", "nl": "Je afspraak is geboekt"}
CANCELLED = {"en": "cancelled", "fr": "annulé", "nl": "geannuleerd"}
DEFAULT_TITLE = {"en": "Appointment", "fr": "Rendez-vous", "nl": "Afspraak"}


# Each language, and JavaScript on and off, without every combination.
@pytest.mark.parametrize(("locale", "javascript"), [("en", True), ("en", False), ("fr", False), ("nl", True)],
                         ids=["en-js-on", "en-js-off", "fr-js-off", "nl-js-on"])
def test_a_visitor_books_downloads_the_calendar_and_cancels_elsewhere(live_server, open_context, therapist,  # noqa: F811
                                                                      locale, javascript, tmp_path):
    base = live_server.url
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    page.goto(base + "/booking/")
    if locale == "nl":
        page.locator("#language").select_option("en")  # Theo speaks English and French
    page.locator("#modality").select_option("phone")
    page.locator("form.filters button[type=submit]").click()
    page.locator("ul.slots a").last.click()  # far enough ahead to be cancelled online
    page.locator("input[name=contact]").fill("+32 470 11 22 33")
    page.locator("textarea[name=note]").fill("First time asking for help.")
    page.locator("main form button[type=submit]").last.click()
    assert page.locator("h1").inner_text() == CONFIRMED[locale]
    key = page.locator("#booking-key code").inner_text()
    with page.expect_download() as download_info:
        page.locator("form[action='/booking/appointment.ics'] button").click()
    saved = tmp_path / "appointment.ics"
    download_info.value.save_as(saved)
    ics = saved.read_text()
    assert "BEGIN:VEVENT" in ics and f"SUMMARY:{DEFAULT_TITLE[locale]}" in ics and "help" not in ics
    assert problems == []

    elsewhere = open_context(javascript=javascript, locale=locale).new_page()
    elsewhere.goto(base + "/booking/manage")
    elsewhere.locator("input[name=key]").fill(key)
    elsewhere.locator("form[action='/booking/manage'] button").click()
    elsewhere.locator("#appointment").wait_for()
    elsewhere.locator("form[action='/booking/manage/cancel'] button").click()
    elsewhere.locator(".message-success").wait_for()
    assert elsewhere.locator("#appointment-state").inner_text() == CANCELLED[locale]


def test_the_therapist_sees_the_booking_marks_it_attended_and_the_reveal_window_holds(
        live_server, open_context, therapist):  # noqa: F811
    base = live_server.url
    slot = first_free_slot(live_server.app, therapist)
    visitor = open_context().new_page()
    visitor.goto(base + f"/booking/book?therapist={therapist.profile_id}&start={slot.starts_at:%Y%m%dT%H%M}"
                 "&modality=phone&language=en")
    visitor.locator("input[name=contact]").fill("+32 470 99 88 77")
    visitor.locator("main form button[type=submit]").last.click()
    visitor.locator("#booking-key").wait_for()

    staff = open_context().new_page()
    browser_sign_in(staff, base, therapist.account)
    staff.goto(base + "/staff/appointments/?view=week")
    staff.locator("table#week-grid a.grid-session").first.click()
    # is_visible() does not wait: first let the appointment page arrive (the CI machine is slow).
    staff.locator("#booking-state").wait_for()
    assert staff.locator("#contact-hidden").is_visible(), "too early: the number stays hidden"
    assert staff.get_by_role("button", name="Show the phone number").count() == 0

    clock.freeze(slot.starts_at - dt.timedelta(minutes=30))
    browser_sign_in(staff, base, therapist.account)
    staff.goto(base + "/staff/appointments/?view=week")
    staff.locator("table#week-grid a.grid-session").first.click()
    staff.get_by_role("button", name="Show the phone number").click()
    assert staff.locator("#visitor-contact").inner_text() == "+32 470 99 88 77"
    clock.freeze(slot.starts_at + dt.timedelta(minutes=1))  # an outcome once the session has started
    browser_sign_in(staff, base, therapist.account)
    staff.goto(base + "/staff/appointments/?view=week")
    staff.locator("table#week-grid a.grid-session").first.click()
    staff.locator("#status").select_option("attended")
    staff.get_by_role("button", name="Save outcome").click()
    staff.locator(".message-success").wait_for()
    assert staff.locator("#booking-state").inner_text() == "Attended"
