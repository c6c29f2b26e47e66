"""Live text sessions in Debian's Chromium, the visitor and the therapist (or counsellor)
in two browser contexts, in English and French. JavaScript on: each message appears on
the other side within 2 seconds, without a reload. JavaScript off: within 10 seconds,
and what the visitor is half-way through typing is still in the box. Walk-in: in
staffed hours a counsellor picks up; out of hours the visitor keeps what they wrote as a
thread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from booking.models import Booking, TherapistProfile
from service.clock import clock
from service.conversations import live
from service.db import db
from tests.booking.conftest import make_therapist
from tests.conversations.test_live import WEDNESDAY, book_chat
from tests.e2e.test_staff_journeys import browser_sign_in
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

STATEMENT = {"en": "This conversation is confidential", "fr": "Cette conversation est confidentielle"}


@pytest.fixture
def chat_therapist(seeded, make_staff):
    therapist = make_therapist(seeded, make_staff)
    with seeded.app_context(), db.transaction() as session:
        profile = session.get(TherapistProfile, therapist.profile_id)
        profile.modalities, profile.languages = "chat", "en fr"
    return therapist


def book_chat_in(app, therapist, language: str):
    booking_id, key, starts_at = book_chat(app, therapist)
    with app.app_context(), db.transaction() as session:
        booking = session.get(Booking, booking_id)
        booking.language = language
        return key, starts_at, booking.reference


def conversation_of(page, javascript: bool):
    """Where the messages show: the script's list, or the refreshing frame."""
    return page.locator("#live-messages") if javascript else page.frame_locator("#live-frame").locator("body")


def send(page, text: str) -> None:
    page.locator("#live-body").fill(text)
    page.locator("#live-send").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_booked_text_session_between_two_browsers(live_server, open_context, chat_therapist, javascript, locale):
    base = live_server.url
    key, starts_at, reference = book_chat_in(live_server.app, chat_therapist, locale)
    clock.freeze(starts_at - dt.timedelta(minutes=5))
    wait = 2_000 if javascript else 10_000

    visitor = open_context(javascript=javascript, locale=locale).new_page()
    visitor_problems = watch_console(visitor)
    visitor.goto(base + "/booking/manage")
    visitor.locator("input[name=key]").fill(key)
    visitor.locator("main form button[type=submit]").last.click()
    visitor.locator("#open-text-session").click()
    visitor.wait_for_url(base + "/live/")
    assert visitor.locator("html").get_attribute("lang") == locale
    conversation_of(visitor, javascript).get_by_text(STATEMENT[locale]).wait_for(timeout=10_000)

    therapist = open_context(javascript=javascript, locale=locale).new_page()
    therapist_problems = watch_console(therapist)
    browser_sign_in(therapist, base, chat_therapist.account)
    therapist.goto(base + f"/staff/appointments/{reference}")
    therapist.locator("#open-text-session").click()
    therapist.locator("#live-body").wait_for()
    if javascript:
        # The first look of the stream has arrived (the opening statement): it is listening.
        conversation_of(therapist, True).get_by_text(STATEMENT[locale]).wait_for(timeout=10_000)
        visitor.evaluate("window.stillTheSamePage = true")

    send(visitor, f"Visitor says hello ({locale})")
    conversation_of(therapist, javascript).get_by_text(f"Visitor says hello ({locale})").wait_for(timeout=wait)

    # The visitor is half-way through a sentence when the answer comes.
    visitor.locator("#live-body").fill("I was going to say")
    send(therapist, f"Therapist answers ({locale})")
    conversation_of(visitor, javascript).get_by_text(f"Therapist answers ({locale})").wait_for(timeout=wait)
    assert visitor.locator("#live-body").input_value() == "I was going to say"
    if javascript:
        assert visitor.evaluate("window.stillTheSamePage") is True, "no reload"
        # Each message once, whatever the stream did.
        assert conversation_of(visitor, True).get_by_text(f"Therapist answers ({locale})").count() == 1

    # Either side can end it; the other sees that it ended.
    therapist.locator("#live-end").click()
    therapist.locator("#live-transcript").wait_for()
    if javascript:
        visitor.locator("#download-transcript").wait_for(timeout=wait)
    else:
        visitor.frame_locator("#live-frame").locator("a[target=_top]").wait_for(timeout=wait)
        visitor.frame_locator("#live-frame").locator("a[target=_top]").click()
    with visitor.expect_download() as download:
        visitor.locator("#download-transcript").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"Visitor says hello ({locale})" in text and f"Therapist answers ({locale})" in text
    assert visitor_problems == [] and therapist_problems == []


@pytest.mark.parametrize(("locale", "javascript"), [("en", False), ("fr", True)], ids=["en-js-off", "fr-js-on"])
def test_a_walk_in_is_picked_up_in_staffed_hours(live_server, open_context, make_staff, locale, javascript):
    app = live_server.app
    clock.freeze(WEDNESDAY)
    with app.app_context(), db.transaction() as session:
        live.set_staffed_hours(session, locale, [(2, dt.time(9), dt.time(17))])
    base = live_server.url
    visitor = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(visitor)
    visitor.goto(base + "/live/walk-in")
    visitor.locator(f"#open-now-{locale}").wait_for()
    visitor.locator("#walk-in-body").fill("I would like to talk to someone.")
    visitor.locator("#start-chat").click()
    visitor.wait_for_url(base + "/live/")
    assert "1" in visitor.locator("#live-state").inner_text()

    counsellor = open_context(javascript=javascript, locale=locale).new_page()
    browser_sign_in(counsellor, base, make_staff("cora", roles=("counsellor",)))
    counsellor.goto(base + "/staff/live/")
    counsellor.locator("#walk-in-queue button[type=submit]").first.click()
    conversation_of(counsellor, javascript).get_by_text("I would like to talk to someone.").wait_for(timeout=10_000)
    send(counsellor, "Hello, I am Cora. I am listening.")
    conversation_of(visitor, javascript).get_by_text("Hello, I am Cora.").wait_for(
        timeout=2_000 if javascript else 10_000)
    assert problems == []


@pytest.mark.parametrize(("locale", "javascript"), [("en", True), ("fr", False)], ids=["en-js-on", "fr-js-off"])
def test_out_of_hours_the_visitor_keeps_what_they_wrote_as_a_thread(live_server, open_context, locale, javascript):
    app = live_server.app
    clock.freeze(WEDNESDAY.replace(hour=20))
    with app.app_context(), db.transaction() as session:
        live.set_staffed_hours(session, locale, [(2, dt.time(9), dt.time(17))])
    base = live_server.url
    visitor = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(visitor)
    visitor.goto(base + "/live/walk-in")
    visitor.locator("#walk-in-body").fill("Written when nobody was there.")
    visitor.locator("#start-chat").click()
    visitor.wait_for_url(base + "/live/")
    send(visitor, "And one more thing.")
    conversation_of(visitor, javascript).get_by_text("And one more thing.").wait_for(timeout=10_000)
    visitor.locator("#keep-as-thread").click()
    assert visitor.locator("#new-key").inner_text().strip()
    visitor.locator("#to-thread").click()
    main = visitor.locator("main")
    main.get_by_text("Written when nobody was there.").wait_for()
    main.get_by_text("And one more thing.").wait_for()
    assert problems == []
