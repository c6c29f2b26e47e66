"""Crawl every page a visitor can reach: every link works, none leaves the site."""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.service.test_headers import assert_security_headers

LINK = re.compile(r"""(href|src|action)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*['\"]?([^)'\"]+)")
# Each week and day of the staff calendar links to the next: one of them is enough.
STAFF_CALENDAR = ("/staff/appointments/?",)


@pytest.mark.parametrize("locale", ["en", "fr", "nl"])
def test_every_reachable_page_answers_and_links_only_to_this_site(seeded, locale):
    seen = crawl(seeded, seeded.test_client(), "/", locale)
    assert len(seen) > 40


def test_every_staff_page_answers_and_links_only_to_this_site(seeded, make_staff):
    from tests.conftest import sign_in

    client = seeded.test_client()
    sign_in(client, make_staff("crawler", roles=("admin", "editor", "publisher", "therapist", "duty")))
    seen = crawl(seeded, client, "/staff/", "en", prefix="/staff", once=STAFF_CALENDAR)
    assert {"/staff/people", "/staff/audit", "/staff/content/", "/staff/duty/", "/staff/appointments/",
            "/staff/privacy"} <= seen.keys()


def crawl(app, client, start: str, locale: str, prefix: str = "", once: tuple[str, ...] = ()) -> dict[str, str]:
    """Follows every link from `start` (within `prefix`); fails on any answer but 200 or
    302, any page without the security headers, and any address on another host.
    Of the addresses that start with one of `once` (pages of the same kind, such as
    each free time's booking form), only the first found is followed.
    Returns each address reached, with the body it answered."""
    followed_once = set()
    quick_exit = app.config["PAUSE"].quick_exit_url
    seen, queue, external = {}, deque([start]), set()
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        with client.get(path, headers={"Accept-Language": locale}) as response:
            assert response.status_code in (200, 302), f"{path} answered {response.status_code}"
            assert_security_headers(response) if response.mimetype == "text/html" else None
            body = seen[path] = response.get_data(as_text=True)
        found = [("url", link) for link in CSS_URL.findall(body)] if path.endswith(".css") else LINK.findall(body)
        for attribute, link in found:
            link = urldefrag(html.unescape(link))[0]
            if not link or link.startswith(("tel:", "sms:", "data:image/svg")):  # sms: a line to text
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                if link != quick_exit:
                    external.add(link)
                continue
            if (link.startswith("/language/") or link == "/exit" or attribute.lower() == "action"
                    or not link.startswith(prefix)):
                # A language switch, quick exit (it ends the visit; tests of its own), a form
                # target or outside the crawl: host checked, not fetched.
                continue
            kind = next((beginning for beginning in once if link.startswith(beginning)), None)
            if kind is not None:
                if kind in followed_once:
                    continue
                followed_once.add(kind)
            queue.append(link)
    assert external == set()
    return seen
