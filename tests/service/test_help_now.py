"""/help-now and the crisis directory: lines for the visitor's language before any region
is chosen (never from their address), every region complete, each resource with its hours
and web address, seeded resources flagged to staff until a person verifies them, and the
programme's own line offered only when staff have configured it."""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
import tomllib

import pytest
from sqlalchemy import select

from content import publishing
from content.documents import RESOURCES, json_ready
from content.seeding import SEED_FOLDER
from service.clock import clock
from service.crisis import services
from service.crisis.models import REGIONS, CrisisResource
from service.db import db
from tests.conftest import csrf_token_from, sign_in

REQUIRED_KINDS = ("emergency", "suicide-prevention", "prevention", "child-protection")


def shipped() -> dict:
    return json_ready(tomllib.loads((SEED_FOLDER / "crisis-resources.toml").read_text(encoding="utf-8")))


def section(page: str, heading_id: str) -> str:
    """The HTML of the <section> whose heading has this id."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def page_in(client, language: str, query: str = "") -> str:
    return html.unescape(client.get("/help-now" + query, headers={"Accept-Language": language})
                         .get_data(as_text=True))


@pytest.mark.parametrize(("language", "suicide_lines", "prevention_lines"), [
    ("fr", ["0800 32 123", "3114"], ["Stop it Now! Bruxelles", "STOP (France)"]),
    ("en", ["116 123", "0800 32 123", "1813"], ["Stop It Now UK &amp; Ireland", "Stop it Now! Bruxelles",
                                                "Stop it Now! Vlaanderen"]),
])
def test_without_a_region_the_guidance_shows_the_lines_for_the_visitors_language(seeded, language, suicide_lines,
                                                                                 prevention_lines):
    page = page_in(seeded.test_client(), language)
    ending_life, fear_harm = section(page, "ending-life"), section(page, "fear-harm")
    for number in suicide_lines:
        assert number in ending_life, number
    for name in prevention_lines:
        assert html.unescape(name) in fear_harm, name
    assert "0800 32 123" not in fear_harm and "3114" not in fear_harm, "each box its own kind of line"
    assert "Stop it Now! Bruxelles" not in ending_life


def test_a_language_without_regions_of_its_own_shows_the_lines_for_elsewhere(seeded):
    from service.crisis.views import REGIONS_BY_LANGUAGE

    assert REGIONS_BY_LANGUAGE["nl"] == ("be-nl",), "Dutch is one entry in the table"
    with seeded.test_request_context("/help-now", headers={"Accept-Language": "de"}):
        from service.crisis.views import shown_regions

        assert shown_regions() in (("elsewhere",), REGIONS_BY_LANGUAGE["en"])


def test_a_chosen_region_replaces_the_default_and_stays_above_the_lines(seeded):
    client = seeded.test_client()
    page = page_in(client, "fr", "?region=uk")
    resources = section(page, "resources-heading")
    assert resources.index("region-choice") < resources.index("116 123")
    assert "3114" not in resources
    assert "3114" not in page_in(client, "fr"), "the choice is remembered"


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_lists_every_kind_of_line_with_hours_and_a_web_address(seeded, region):
    with seeded.app_context():
        resources = services.resources_for(db.session, region, "en", "en")
    for kind in REQUIRED_KINDS:
        of_kind = [resource for resource in resources if resource.kind == kind]
        assert of_kind, f"{region} has no {kind} line"
        # Outside the named regions, directories point to each country's lines.
        assert any(resource.phone for resource in of_kind) or region == "elsewhere" and kind != "emergency"
    page = page_in(seeded.test_client(), "en", f"?region={region}")
    listed = section(page, f"region-{region}")
    for resource in resources:
        if resource.kind == "reporting":
            continue
        assert resource.hours and resource.web_address.startswith("https://"), resource.slug
        item = listed[listed.index(resource.name):]
        item = item[:item.index("</li>")]
        assert resource.hours in item and resource.web_address_shown in item, resource.slug
    assert "https://" not in listed, "addresses are text, not links to other sites"


def test_stop_it_now_bruxelles_has_its_own_address_and_few_hours():
    entry = next(resource for resource in shipped()["resources"] if resource["slug"] == "stop-it-now-bruxelles")
    assert entry["source_address"].startswith("https://stopitnow.brussels")
    assert "few hours a week" in entry["texts"]["en"]["hours"]


def test_every_shipped_resource_starts_unverified_and_every_listed_service_is_there():
    resources = shipped()["resources"]
    assert all("verified_on" not in resource for resource in resources)
    phones = {resource.get("phone") for resource in resources}
    for number in ("0800 32 123", "1813", "0800 200 50", "1712", "102", "106", "119", "17", "114", "85258",
                   "0808 800 5000", "0800 1111"):
        assert number in phones, number
    addresses = " ".join(resource["web_address"] for resource in resources)
    for address in ("stopitnow.brussels", "internet-signalement.gouv.fr", "report.iwf.org.uk", "stopchildporno.be",
                    "troubled-desire.com", "helpwantedprevention.org", "findahelpline.com", "shorespace.org.uk"):
        assert address in addresses, address


def test_the_online_safety_module_links_to_where_to_report_images(seeded):
    client = seeded.test_client()
    step = client.get("/self-help/staying-safe-online/if-you-have-come-across-images").get_data(as_text=True)
    assert 'href="/help-now#report"' in step
    for region, address in (("be-fr", "stopchildporno.be"), ("fr", "internet-signalement.gouv.fr"),
                            ("uk", "report.iwf.org.uk")):
        report = section(page_in(client, "en", f"?region={region}"), "report-heading")
        assert address in report


def edit_resources(client, text_change):
    page = client.get("/staff/content/resources/crisis-resources").get_data(as_text=True)
    edit_url = client.post("/staff/content/resources/crisis-resources/draft",
                           data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    page = client.get(edit_url + "?as=toml").get_data(as_text=True)  # the power users' text
    text = html.unescape(page.split('name="definition"')[1].split(">", 1)[1].split("</textarea>")[0])
    return client.post(edit_url, data={"csrf_token": csrf_token_from(page), "definition": text_change(text),
                                       "action": "save"}), edit_url


def test_seeded_resources_are_flagged_to_staff_until_a_person_verifies_them_in_the_editor(seeded, make_staff):
    client = seeded.test_client()
    sign_in(client, make_staff("ed", roles=("editor",)))
    total = len(shipped()["resources"])
    overview = client.get("/staff/content/").get_data(as_text=True)
    assert f"{total} crisis resources are not verified" in overview
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0))
    response, edit_url = edit_resources(client, lambda text: text.replace(
        'slug = "samaritans"\n', 'slug = "samaritans"\nverify_now = true\n', 1))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(edit_url).get_data(as_text=True)
    flagged = page[page.index('id="stale-resources"'):].split("</p>")[0]
    assert "emergency-112" in flagged and "samaritans" not in flagged
    with seeded.app_context():
        draft = publishing.open_version(db.session, RESOURCES, "crisis-resources")
        samaritans = next(resource for resource in publishing.document_of(draft)["resources"]
                          if resource["slug"] == "samaritans")
    assert samaritans["verified_on"] == "2026-12-03" and "verify_now" not in samaritans


def with_programme_line(app, phone: str = "0800 11 22 33"):
    document = copy.deepcopy(shipped())
    document["resources"].insert(0, {
        "slug": "programme-line", "kind": "programme", "regions": ["all"], "languages": ["en", "fr"], "phone": phone,
        "source_address": "https://pause.example.org/", "texts": {
            "en": {"name": "Pause's own line", "hours": "Weekdays 18:00 to 22:00"},
            "fr": {"name": "La ligne de Pause", "hours": "En semaine de 18 h à 22 h"}}})
    assert services.validate_resources(document, ("en", "fr")) == []
    with app.app_context(), db.transaction() as session:
        services.apply_resources(session, document)


def test_the_urgent_contact_form_offers_the_programmes_line_only_when_one_is_configured(seeded):
    client = seeded.test_client()
    page = client.get("/help-now/contact").get_data(as_text=True)
    assert 'value="call-line"' not in page
    refused = client.post("/help-now/contact", data={"csrf_token": csrf_token_from(page), "channel": "call-line",
                                                      "time_window": "evening", "language": "en"})
    assert refused.status_code == 422
    with_programme_line(seeded)
    page = client.get("/help-now/contact").get_data(as_text=True)
    assert 'value="call-line"' in page
    offered = page[page.index('value="call-line"'):].split("</div>")[0]
    assert 'href="tel:0800112233"' in offered and "Weekdays 18:00 to 22:00" in offered
    help_page = client.get("/help-now").get_data(as_text=True)
    assert "0800 11 22 33" in section(help_page, "fear-harm")


@pytest.mark.parametrize(("change", "expected"), [
    (lambda r: r.pop("web_address"), "give the service's own https address (web_address)"),
    (lambda r: r["texts"]["fr"].pop("hours"), "the hours in fr are missing"),
    (lambda r: r.update(kind="programme", phone=""), "the programme's line needs its number"),
    (lambda r: r.update(contact_way="fax"), "contact_way is call or text"),
    (lambda r: r.update(verified_on="2099-01-01"), "verified_on is in the future"),
])
def test_a_broken_resource_is_refused_with_a_readable_reason(change, expected):
    document = shipped()
    change(document["resources"][1])
    assert any(expected in problem for problem in services.validate_resources(document, ("en", "fr")))


def test_unverified_and_old_verifications_are_both_flagged(seeded):
    with seeded.app_context(), db.transaction() as session:
        rows = list(session.scalars(select(CrisisResource).order_by(CrisisResource.position)))
        rows[0].verified_on = clock.today()
        rows[1].verified_on = clock.today() - dt.timedelta(days=200)
    with seeded.app_context():
        flagged = {row.slug for row in services.stale_resources(db.session)}
    assert rows[0].slug not in flagged and rows[1].slug in flagged and rows[2].slug in flagged
    assert re.match(r"^[a-z0-9-]+$", rows[2].slug)
