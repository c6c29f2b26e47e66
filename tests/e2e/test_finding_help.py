"""From the home page, in a real browser (JavaScript on and off, English and French): the
self-check and booking are one click away, and therapists' details read as words."""

from __future__ import annotations

import re

import pytest

from tests.booking.conftest import therapist  # noqa: F401 - the fixture
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

WORDS = {"en": ("English, French", "Phone, Video"), "fr": ("anglais, français", "Téléphone, Vidéo")}


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_from_home_the_self_check_and_booking_are_one_click_away(live_server, open_context, therapist,  # noqa: F811
                                                                 locale, javascript):
    base = live_server.url
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    for address, card in (("/check/", "#card-check"), ("/booking/", "#card-booking")):
        for link in (f"main .card:has({card}) a[href='{address}']", f"nav .main-nav a[href='{address}']"):
            page.goto(base + "/")
            page.locator(link).click()
            page.wait_for_url(base + address)
            assert page.locator("h1").count() == 1
    details = page.locator(".therapist .hint").first.inner_text()
    languages, kinds = WORDS[locale]
    assert languages in details and kinds in details
    assert not re.search(r"\b(en|fr|phone|video)\b", details), details
    assert problems == []
