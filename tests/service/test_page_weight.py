"""Every page stays light: at most 60 KB transferred in at most 8 requests, so it loads
on a slow, metered or shared connection (and through Tor)."""

from __future__ import annotations

import re

import pytest

from tests.booking.conftest import therapist  # noqa: F401 - the fixture

PAGES = ["/", "/self-help/", "/self-help/understanding-your-thoughts",
         "/self-help/staying-safe-online/what-the-law-says", "/check/", "/check/self-reflection/1", "/help-now",
         "/help-now/contact", "/booking/", "/booking/manage", "/key/", "/privacy", "/about", "/confidentiality",
         "/family", "/self-help/staying-safe-online/one-page"]
ASSET = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


@pytest.mark.parametrize("path", PAGES)
def test_a_page_with_everything_it_loads_is_at_most_60_kb_in_8_requests(seeded, path):
    client = seeded.test_client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data()
    assets = sorted(set(ASSET.findall(html.decode())))
    sizes = [len(html)]
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            sizes.append(len(response.get_data()))
    assert len(sizes) <= 8, assets
    assert sum(sizes) <= 60 * 1024, (path, sizes)


def test_the_booking_page_with_a_full_diary_stays_light(seeded, therapist):  # noqa: F811
    test_a_page_with_everything_it_loads_is_at_most_60_kb_in_8_requests(seeded, "/booking/?language=en")
