"""Every way of getting help is one click away: from the home page's own cards, and from
the main navigation on every page."""

from __future__ import annotations

import re

import pytest

WAYS = ("/self-help/", "/check/", "/booking/", "/help-now")


def main_nav(page: str) -> str:
    return re.search(r'<ul class="main-nav">(.*?)</ul>', page, flags=re.S).group(1)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_home_page_leads_to_every_way_of_getting_help(seeded, language):
    page = seeded.test_client().get("/", headers={"Accept-Language": language}).get_data(as_text=True)
    main = page[page.index("<main"):page.index("</main>")]
    for address in WAYS:
        assert f'href="{address}"' in main, address


@pytest.mark.parametrize("path", ["/", "/about", "/self-help/", "/check/", "/booking/", "/privacy"])
def test_the_main_navigation_leads_to_every_way_of_getting_help(seeded, path):
    nav = main_nav(seeded.test_client().get(path).get_data(as_text=True))
    for address in WAYS:
        assert f'href="{address}"' in nav, (path, address)


def test_the_home_page_no_longer_says_no_phone_number_is_ever_taken(seeded):
    page = seeded.test_client().get("/").get_data(as_text=True)
    assert "name, an e-mail address or a phone number" not in page
