"""A therapist's first day in a real browser (Debian Chromium), in English and French:
closed for booking at first, the availability form refusing bad values while keeping
them with each error beside its field, the week grid with a session, free times and
days off, an early outcome refused, a message to the visitor, and the outcome once the
session has started."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.models import TherapistProfile
from service.clock import clock
from service.db import db
from tests.booking.conftest import MONDAY_MORNING, Therapist, first_free_slot
from tests.booking.test_booking import book_through_the_pages
from tests.e2e.test_staff_journeys import browser_sign_in
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {"saved": "Your availability is saved.", "early": "The outcome can be recorded once the session has started.",
           "booked": "Booked", "attended": "Attended", "day_off": "Day off", "free": "free",
           "number": "Please give a whole number from 15 to 180.", "overlap": "This overlaps another window",
           "order": "The last day off must be on or after the first.", "no_show": "Did not attend"},
    "fr": {"saved": "Vos disponibilités sont enregistrées.",
           "early": "Le résultat peut être noté une fois la séance commencée.", "booked": "Réservé",
           "attended": "Présent", "day_off": "Jour de congé", "free": "libre",
           "number": "Veuillez donner un nombre entier de 15 à 180.", "overlap": "chevauche une autre plage",
           "order": "Le dernier jour de congé doit être le premier ou venir après lui.", "no_show": "Absent"},
}


def error_beside(page, field_id: str) -> str:
    """The error shown inside the same field group as the input, which points to it."""
    described = page.locator(f"#{field_id}").get_attribute("aria-describedby") or ""
    error_id = next(part for part in described.split() if part.endswith("-error"))
    group = page.locator(f".field-error:has(#{field_id})").first
    assert group.locator(f"#{error_id}").count() == 1, f"the error for {field_id} is not beside it"
    return page.locator(f"#{error_id}").inner_text()


@pytest.mark.parametrize(("locale", "javascript"), [("en", True), ("fr", False)], ids=["en-js-on", "fr-js-off"])
def test_a_therapists_first_day(live_server, open_context, make_staff, locale, javascript):
    base, words = live_server.url, WORDS[locale]
    clock.freeze(MONDAY_MORNING)
    account = make_staff("dana", roles=("therapist",))
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    browser_sign_in(page, base, account)

    # Day one: closed for booking, with no public name, until the therapist says otherwise.
    page.goto(base + "/staff/appointments/")
    page.locator("#closed-for-booking").wait_for()

    # The availability form: bad values are refused, kept, and explained beside their fields.
    page.goto(base + "/staff/appointments/availability")
    page.locator("#display_name").fill("Dana")
    page.locator("#session_minutes").fill("fifty")
    page.locator("#language-en").check()
    page.locator("#modality-phone").check()
    page.locator("#active").check()
    page.locator("#window-1-0-start").fill("09:00")
    page.locator("#window-1-0-end").fill("12:00")
    page.locator("#availability-form button[type=submit]").click()
    # A bad number: nothing is saved, everything typed is still there (and an empty row
    # appears under Tuesday's window for a second one).
    page.locator("#problems").wait_for()
    assert error_beside(page, "session_minutes") == words["number"]
    assert page.locator("#session_minutes").input_value() == "fifty"
    assert page.locator("#display_name").input_value() == "Dana"
    assert page.locator("#window-1-0-end").input_value() == "12:00"
    page.locator("#session_minutes").fill("50")
    page.locator("#window-1-1-start").fill("11:00")  # overlaps the first window
    page.locator("#window-1-1-end").fill("13:00")
    page.locator("#off-from").fill("2026-11-27")
    page.locator("#off-to").fill("2026-11-26")
    page.locator("#availability-form button[type=submit]").click()
    page.locator("#problems").wait_for()
    assert words["overlap"] in error_beside(page, "window-1-1-start")
    assert error_beside(page, "off-from") == words["order"]
    assert page.locator("#window-1-1-start").input_value() == "11:00"
    assert page.locator("#off-to").input_value() == "2026-11-26"
    assert "window-1" not in page.locator("#problems").inner_text()  # words, never field codes
    page.locator("#window-1-1-start").fill("14:00")
    page.locator("#window-1-1-end").fill("17:00")
    page.locator("#off-from").fill("2026-11-26")
    page.locator("#off-to").fill("2026-11-27")
    page.locator("#availability-form button[type=submit]").click()
    page.locator(".message-success").wait_for()
    assert page.locator(".message-success").inner_text() == words["saved"]

    # A visitor books the first free time (Tuesday 09:00 in Brussels).
    app = live_server.app
    with app.app_context():
        profile = db.session.scalar(select(TherapistProfile).where(TherapistProfile.display_name == "Dana"))
        dana = Therapist(account, profile.id)
    slot = first_free_slot(app, dana)
    assert book_through_the_pages(app.test_client(), dana, slot.starts_at, modality="phone").status_code == 200

    # The week grid: the session, free times and the two days off.
    page.goto(base + "/staff/appointments/?view=week")
    grid = page.locator("table#week-grid")
    assert grid.locator("caption").count() == 1
    assert grid.locator("thead th[scope=col]").count() == 8
    assert grid.locator("a.grid-session").count() == 1
    assert words["booked"] in grid.locator("a.grid-session").inner_text()
    assert grid.locator(".grid-free").count() >= 3
    assert grid.locator(".grid-off").all_inner_texts() == [words["day_off"], words["day_off"]]

    # Too early for an outcome: refused, and said so.
    grid.locator("a.grid-session").click()
    page.locator("#booking-state").wait_for()
    page.locator("#status").select_option("no-show")
    page.locator("form[action$='/status'] button[type=submit]").click()
    page.locator(".message-error").wait_for()
    assert page.locator(".message-error").inner_text() == words["early"]
    assert page.locator("#booking-state").inner_text() == words["booked"]

    # Two messages to the visitor: both stay.
    for text in ("The video link follows.", "Room 4 today."):
        page.locator("#message").fill(text)
        page.locator("form[action$='/message'] button[type=submit]").click()
        page.locator(".message-success").wait_for()
    assert page.locator("#booking-messages li").count() == 2

    # Once the session has started, the outcome is recorded.
    clock.freeze(slot.starts_at + dt.timedelta(minutes=5))
    browser_sign_in(page, base, account)
    page.goto(base + "/staff/appointments/?view=week")
    page.locator("table#week-grid a.grid-session").click()
    page.locator("#status").select_option("attended")
    page.locator("form[action$='/status'] button[type=submit]").click()
    page.locator(".message-success").wait_for()
    assert page.locator("#booking-state").inner_text() == words["attended"]
    # The refused posts answer 422, which Chromium reports as a failed load; nothing else.
    assert [problem for problem in problems if "status of 422" not in problem] == []


def test_the_refused_form_the_grid_and_the_appointment_have_no_wcag_violation(browser, live_server, make_staff):
    from axe_playwright_python.sync_playwright import Axe

    from tests.e2e.test_accessibility import WCAG_TAGS

    clock.freeze(MONDAY_MORNING)
    account = make_staff("ari", roles=("therapist",))
    context = browser.new_context(bypass_csp=True)  # axe-core is injected as a script
    try:
        page = context.new_page()
        browser_sign_in(page, live_server.url, account)
        page.goto(live_server.url + "/staff/appointments/availability")
        page.locator("#session_minutes").fill("none")
        page.locator("#window-0-0-start").fill("12:00")
        page.locator("#window-0-0-end").fill("09:00")
        page.locator("#off-from").fill("2026-12-24")
        page.locator("#off-to").fill("2026-12-20")
        page.locator("#availability-form button[type=submit]").click()
        page.locator("#problems").wait_for()
        failures = {}
        for where in ("refused availability form", "/staff/appointments/?view=week", "/staff/appointments/?view=day"):
            if where.startswith("/"):
                page.goto(live_server.url + where)
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            if results.violations_count:
                failures[where] = results.generate_report()
        assert failures == {}, "\n\n".join(f"{where}:\n{report}" for where, report in failures.items())
    finally:
        context.close()
