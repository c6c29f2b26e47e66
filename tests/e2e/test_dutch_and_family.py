"""In Dutch, in a real browser with JavaScript on and off: help now with the lines for
Flanders first, and the family-and-friends track from the home page to its module, its
printable page and a booking marked as from a relative."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking.models import Booking
from service.db import db
from tests.booking.conftest import therapist  # noqa: F401 - the fixture
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_help_now_in_dutch_shows_the_flemish_lines_first(live_server, open_context, javascript):
    page = open_context(javascript=javascript, locale="nl").new_page()
    problems = watch_console(page)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator(".language-nav a[hreflang=nl]").inner_text() == "Nederlands"
    page.locator("nav .main-nav a.help-now").click()
    page.wait_for_url(live_server.url + "/help-now")
    text = page.locator("main").inner_text()
    assert "1813" in text and "Zelfmoordlijn" in text and "Stop it Now! Vlaanderen" in text
    assert page.locator("a[href='tel:112']").count() >= 1
    assert problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize("locale", ["nl", "en"])
def test_a_relative_finds_their_track_reads_it_prints_it_and_books(live_server, open_context, therapist,  # noqa: F811
                                                                   javascript, locale):
    base = live_server.url
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    page.goto(base + "/")
    page.locator("main .card:has(#card-family) a[href='/family']").click()
    page.wait_for_url(base + "/family")
    page.locator("main a.button[href='/self-help/supporting-someone-close']").click()
    page.wait_for_url(base + "/self-help/supporting-someone-close")
    assert page.locator(".step-list li").count() == 5
    page.locator("a[href='/self-help/supporting-someone-close/one-page']").click()
    page.wait_for_url(base + "/self-help/supporting-someone-close/one-page")
    assert page.locator("section.whole-module-step").count() == 5
    assert page.title() == "Pause"
    # Printed, the page holds the text alone: no header, navigation, footer or forms.
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator(".site-footer").is_visible()
    assert page.locator("section.whole-module-step h2").first.is_visible()
    page.emulate_media(media="screen")
    if javascript:
        assert page.locator("#print-page").is_visible()

    page.goto(base + "/family")
    page.locator("main a.button[href='/booking/']").click()
    page.locator("#language").select_option("en")  # Theo speaks English and French
    page.locator("#modality").select_option("video")
    page.locator("form.filters button[type=submit]").click()
    page.locator("ul.slots a").last.click()
    page.locator("input[name=from_relative]").check()
    page.locator("main form button[type=submit]").last.click()
    page.locator("#booking-key").wait_for()
    with live_server.app.app_context():
        assert db.session.scalar(select(Booking.from_relative)) is True
    assert problems == []
