"""The self-assessment and the crisis path in a real browser, JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_staff_journeys import browser_sign_in
from tests.e2e.test_visitor_journeys import watch_console
from tests.self_help.test_check_flow import calm_answers, definition

pytestmark = pytest.mark.e2e


def answer_all(page, base: str, slug: str, answers: list[str]) -> None:
    page.goto(base + f"/check/{slug}/")
    page.locator(f"a[href='/check/{slug}/1']").click()
    for number, option in enumerate(answers, start=1):
        page.wait_for_url(base + f"/check/{slug}/{number}")
        expect(page.locator(".step-counter")).to_contain_text(f" {number} ")
        page.locator(f"#answer-{option}").check()
        page.locator("button[name=go][value=next]").click()


# Each assessment in each language, and each with JavaScript on and off: six browser
# runs cover what the twelve of every combination did (the pages are the same templates).
@pytest.mark.parametrize(("slug", "locale", "javascript"), [
    ("self-reflection", "en", True), ("self-reflection", "fr", False), ("self-reflection", "nl", True),
    ("wellbeing", "en", False), ("wellbeing", "fr", True), ("wellbeing", "nl", False),
], ids=["self-reflection-en-js-on", "self-reflection-fr-js-off", "self-reflection-nl-js-on",
        "wellbeing-en-js-off", "wellbeing-fr-js-on", "wellbeing-nl-js-off"])
def test_a_visitor_completes_each_assessment_and_sees_recommendations(live_server, open_context, slug, locale,
                                                                      javascript):
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    answer_all(page, live_server.url, slug, calm_answers(slug))
    page.wait_for_url(live_server.url + f"/check/{slug}/result")
    assert page.locator("html").get_attribute("lang") == locale
    band_title = definition(slug)["bands"][0]["title"][locale]
    assert page.locator(".result-band h2").first.inner_text() == band_title
    assert page.locator(".recommendations a[href^='/self-help/']").count() >= 1
    assert problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_crisis_answer_leads_to_help_before_any_score(live_server, open_context, javascript):
    page = open_context(javascript=javascript).new_page()
    slug = "self-reflection"
    questions = definition(slug)["questions"]
    crisis_number = next(number for number, question in enumerate(questions, start=1)
                         if any(option.get("crisis") for option in question["options"]))
    answers = calm_answers(slug)
    answers[crisis_number - 1] = "yes"
    answer_all(page, live_server.url, slug, answers[:crisis_number])
    page.wait_for_url(re.compile(rf"/check/{slug}/help\?after={crisis_number}$"))
    assert page.locator("a[href='tel:112']").count() >= 1
    assert page.locator("a[href='/help-now/contact']").count() == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_urgent_contact_is_requested_checked_and_handled_by_duty(live_server, open_context, make_staff, javascript):
    base = live_server.url
    visitor = open_context(javascript=javascript).new_page()
    visitor.goto(base + "/help-now")
    visitor.locator("a[href='/help-now/contact']").first.click()
    visitor.locator("input[name=channel][value=phone]").check()
    visitor.locator("input[name=contact]").fill("+33 6 12 34 56 78")
    visitor.locator("input[name=time_window][value=evening]").check()
    visitor.locator("textarea[name=message]").fill("Please call me discreetly.")
    visitor.locator("form button[type=submit]").last.click()
    code = visitor.locator("#case-code code").inner_text()

    counsellor = open_context(javascript=javascript).new_page()
    browser_sign_in(counsellor, base, make_staff("dora", roles=("duty",)))
    counsellor.goto(base + "/staff/duty/")
    counsellor.locator("#open-cases a").first.click()
    counsellor.get_by_role("button", name="Acknowledge: I am handling this").click()
    counsellor.locator(".message-success").wait_for()
    counsellor.get_by_role("button", name="Show contact detail and message").click()
    assert counsellor.locator("#revealed-contact").inner_text() == "+33 6 12 34 56 78"

    checker = open_context(javascript=javascript).new_page()
    checker.goto(base + "/help-now/contact/status")
    checker.locator("input[name=code]").fill(code)
    checker.locator("form button[type=submit]").last.click()
    assert "will call you" in checker.locator("#case-status").inner_text()

    counsellor.locator("#outcome").select_option("talked")
    counsellor.get_by_role("button", name="Close the request").click()
    counsellor.locator(".message-success").wait_for()
    assert counsellor.locator("#case-state").inner_text().startswith("Closed")  # a word, not the code
    checker.goto(base + "/help-now/contact/status")
    checker.locator("input[name=code]").fill(code)
    checker.locator("form button[type=submit]").last.click()
    assert "closed" in checker.locator("#case-status").inner_text()
