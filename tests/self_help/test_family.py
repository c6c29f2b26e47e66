"""Family and friends: a track of its own, reached from the home page, with its own
modules; the whole of any module on one page, printable and discreet."""

from __future__ import annotations

import re

import pytest

FAMILY_MODULE = "supporting-someone-close"


def test_the_home_page_leads_to_the_family_track_in_one_click(seeded):
    home = seeded.test_client().get("/").get_data(as_text=True)
    assert 'href="/family"' in home


@pytest.mark.parametrize("language, heading", [("en", "Worried about someone close to you?"),
                                               ("fr", "Inquiet pour un proche\u00a0?"),
                                               ("nl", "Maak je je zorgen over iemand die je nabij is?")])
def test_the_family_page_lists_its_modules_and_opens_booking_and_help_now(seeded, language, heading):
    page = seeded.test_client().get("/family", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<html lang="{language}">' in page and heading in page
    assert f'href="/self-help/{FAMILY_MODULE}"' in page
    assert 'href="/booking/"' in page and 'href="/help-now"' in page
    # Message threads arrive with their own feature; until the route exists, no dead link.
    assert 'href="/talk"' not in page


def test_the_family_module_covers_what_to_say_a_child_at_risk_getting_help_and_yourself(seeded):
    overview = seeded.test_client().get(f"/self-help/{FAMILY_MODULE}").get_data(as_text=True)
    for step in ("what-to-say", "if-you-fear-for-a-child", "how-they-can-get-help", "looking-after-yourself"):
        assert f'href="/self-help/{FAMILY_MODULE}/{step}"' in overview
    # Its breadcrumb leads back to the family track, not to the catalogue.
    assert 'href="/family">Help for family and friends</a>' in overview


def test_the_catalogue_holds_the_modules_for_oneself_and_points_relatives_to_their_track(seeded):
    catalogue = seeded.test_client().get("/self-help/").get_data(as_text=True)
    assert f'href="/self-help/{FAMILY_MODULE}"' not in catalogue
    assert 'href="/self-help/managing-sexual-fantasies"' in catalogue and 'href="/family"' in catalogue


def test_the_link_to_message_threads_appears_once_the_route_exists(app):
    from flask import Flask

    from self_help.family_views import TALK_ROUTE, talk_is_open

    with app.app_context():
        assert not talk_is_open()
    other = Flask("with_talk")
    other.add_url_rule(TALK_ROUTE, "talk", lambda: "")
    with other.app_context():
        assert talk_is_open()


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_whole_module_on_one_page_holds_every_step_and_exercise(seeded, language):
    client = seeded.test_client()
    module = client.get("/self-help/managing-sexual-fantasies", headers={"Accept-Language": language})
    assert 'href="/self-help/managing-sexual-fantasies/one-page"' in module.get_data(as_text=True)
    page = client.get("/self-help/managing-sexual-fantasies/one-page",
                      headers={"Accept-Language": language}).get_data(as_text=True)
    assert len(re.findall(r'<section class="whole-module-step"', page)) == 4
    assert page.count('class="exercise-prompt"') == 2
    # Discreet: the same neutral title as every page, and no form to print.
    assert "<title>Pause</title>" in page and "<form" not in page.split('<main id="main"')[1].split("</main>")[0]


def test_the_one_page_view_of_an_unknown_module_is_not_found(seeded):
    assert seeded.test_client().get("/self-help/no-such-module/one-page").status_code == 404


def test_the_print_stylesheet_hides_navigation_forms_and_the_header():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "service" / "static" / "css" / "pause.css").read_text()
    rule = css[css.index("@media print"):]
    for selector in (".site-header", ".site-footer", ".no-print", "form"):
        assert selector in rule.split("}")[0]


def test_the_staff_editor_keeps_who_a_module_is_written_for():
    from werkzeug.datastructures import MultiDict

    from content.editing import document_from_form

    def audience(value: str | None) -> str:
        form = MultiDict({"step_count": "0", "position": "1", **({"audience": value} if value is not None else {})})
        return document_from_form("module", "demo", form, ("en",))["audience"]

    assert audience("family-and-friends") == "family-and-friends"
    assert audience(None) == "self" and audience("anyone-else") == "self"
