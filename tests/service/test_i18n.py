"""Every language with a catalogue (French, Dutch) is complete, negotiated, and
switchable on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from service.config import shipped_locales

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "service" / "translations" / "{locale}" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHOD_MAP = [("**/.venv/**", "ignore"), ("**/templates/**.html", "jinja2"), ("**.py", "python")]


TRANSLATED = shipped_locales()[1:]  # every language but English, found from the catalogues


def catalogue(locale: str):
    with open(str(CATALOGUE).format(locale=locale), "rb") as po_file:
        return read_po(po_file)


def test_french_and_dutch_are_shipped():
    assert {"fr", "nl"} <= set(TRANSLATED)


def messages_in_source() -> set[str]:
    found = set()
    for package in ("service", "self_help", "content", "booking"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=METHOD_MAP, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_in_the_source_has_a_translation(locale):
    translated = {message.id if isinstance(message.id, str) else message.id[0] for message in catalogue(locale)
                  if message.id and message.string and all(message.string) and not message.fuzzy}
    missing = sorted(messages_in_source() - translated)
    assert missing == [], f"{len(missing)} messages lack a translation in {locale}, e.g. {missing[:3]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_every_placeholder(locale):
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]")
    for message in catalogue(locale):
        if message.id and message.string:
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            for string in strings:  # each plural form keeps the placeholders of the English ones
                assert sorted(placeholder.findall(string)) in [sorted(placeholder.findall(one)) for one in ids], ids


def test_language_follows_accept_language(seeded):
    client = seeded.test_client()
    assert 'lang="fr"' in client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_language_switch_is_remembered_in_the_session_and_returns_to_the_page(seeded):
    client = seeded.test_client()
    response = client.get("/language/fr?next=/self-help/", headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.headers["Location"] == "/self-help/"
    page = client.get("/self-help/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fr"' in page and "Modules d" in page


def test_language_switch_never_sends_a_visitor_to_another_site(seeded):
    client = seeded.test_client()
    for target in ("https://example.org/", "//example.org/", "/\\example.org"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_unknown_language_is_not_found(client):
    assert client.get("/language/xx").status_code == 404


def test_every_page_offers_the_language_switch(seeded):
    html = seeded.test_client().get("/help-now").get_data(as_text=True)
    assert 'href="/language/fr?next=%2Fhelp-now"' in html
    assert 'href="/language/en?next=%2Fhelp-now"' in html
    assert 'href="/language/nl?next=%2Fhelp-now" lang="nl" hreflang="nl">Nederlands</a>' in html


def test_dutch_follows_accept_language_and_shows_the_flemish_lines_first(seeded):
    client = seeded.test_client()
    page = client.get("/help-now", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).get_data(as_text=True)
    assert 'lang="nl"' in page and "Nu hulp" in page
    assert "België (Nederlandstalig)" in page and "Frankrijk</h3>" not in page
