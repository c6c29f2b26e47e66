"""Day-one staff paths in Debian's Chromium, in English and French: what needs me now,
a duty case claimed by one counsellor and shown as held to another, a reason for
sending a draft back reaching its author, and a draft that survives an expired session."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from service.clock import clock
from tests.e2e.test_staff_journeys import browser_sign_in
from tests.service.test_urgent_contact import request_contact

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {"held": "Held by dora", "take_over": "Take over this request", "sent_back": "was sent back by pia",
           "urgent": "Urgent requests", "restored": "here is what you typed"},
    "fr": {"held": "Prise en charge par dora", "take_over": "Reprendre cette demande",
           "sent_back": "a été renvoyé par pia", "urgent": "Demandes urgentes", "restored": "voici ce que vous aviez saisi"},
}


@pytest.fixture
def staff_page(live_server, open_context, make_staff):
    def open_as(account, locale: str, javascript: bool = True):
        page = open_context(javascript=javascript, locale=locale).new_page()
        browser_sign_in(page, live_server.url, account)
        return page

    return open_as


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_duty_case_claimed_by_one_counsellor_is_shown_as_held_to_another(live_server, staff_page, make_staff, locale):
    base, words = live_server.url, WORDS[locale]
    dora = staff_page(make_staff("dora", roles=("duty",)), locale)
    sam = staff_page(make_staff("sam", roles=("duty",)), locale, javascript=False)
    assert request_contact(live_server.app.test_client()).status_code == 200
    dora.goto(base + "/staff/")
    assert dora.title() == "(1) Pause"
    assert words["urgent"] in dora.locator("#attention-urgent-requests").inner_text()
    assert re.search(r"\d+ min", dora.locator("#attention-urgent-requests .waiting").inner_text())
    dora.locator("#attention-urgent-requests a").first.click()
    dora.locator("form[action$='/acknowledge'] button").click()
    dora.locator(".message-success").wait_for()

    sam.goto(base + "/staff/duty/")
    assert words["held"] in sam.locator("#open-cases").inner_text()
    sam.locator("#open-cases a").first.click()
    assert sam.locator("#held-note").is_visible()
    assert sam.locator("select[name=outcome]").count() == 0, "no closing someone else's case by accident"
    sam.get_by_role("button", name=words["take_over"]).click()
    assert "sam" in sam.locator("#case-holder").inner_text()
    dora.set_viewport_size({"width": 360, "height": 740})  # a phone
    dora.goto(base + "/staff/duty/")
    assert "sam" in dora.locator("#open-cases .case-holder").inner_text()
    assert dora.evaluate("document.documentElement.scrollWidth") <= 360, "the queue fits a phone screen"


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_reason_for_sending_a_draft_back_reaches_its_author(live_server, staff_page, make_staff, locale):
    base, words = live_server.url, WORDS[locale]
    editor = staff_page(make_staff("eddie", roles=("editor",)), locale)
    publisher = staff_page(make_staff("pia", roles=("publisher",)), locale, javascript=False)
    editor.goto(base + "/staff/content/page/about")
    editor.locator("form[action$='/draft'] button").click()
    editor.locator("button[name=action][value=submit]").click()
    editor.wait_for_url(base + "/staff/content/page/about")
    publisher.goto(base + "/staff/")
    publisher.locator("#attention-review a").first.click()
    publisher.locator("form[action$='/send-back'] textarea").fill("Please add the opening hours in French.")
    publisher.locator("form[action$='/send-back'] button").click()
    editor.goto(base + "/staff/")
    decisions = editor.locator("#attention-decisions").inner_text()
    assert words["sent_back"] in decisions and "Please add the opening hours in French." in decisions
    editor.locator("#attention-decisions a").first.click()
    assert "Please add the opening hours in French." in editor.locator("#versions").inner_text()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_draft_survives_an_expired_session(live_server, staff_page, make_staff, locale):
    base, words = live_server.url, WORDS[locale]
    account = make_staff("eddie", roles=("editor",))
    editor = staff_page(account, locale, javascript=False)
    editor.goto(base + "/staff/content/page/about")
    editor.locator("form[action$='/draft'] button").click()
    editor.wait_for_url(re.compile(r".*/edit$"))
    edit_address = editor.url
    editor.locator("textarea[name=texts-en-body]").fill("An hour of careful writing, kept.")
    clock.advance(dt.timedelta(minutes=31))  # the session runs out while typing
    editor.locator("button[name=action][value=save]").click()
    editor.wait_for_url(base + "/staff/login")
    editor.locator("input[name=username]").fill(account.username)
    editor.locator("input[name=password]").fill(account.password)
    editor.locator("form button[type=submit]").click()
    editor.wait_for_url(base + "/staff/login/code")
    editor.locator("input[name=code]").fill(account.next_code())
    editor.locator("form button[type=submit]").click()
    editor.wait_for_url(edit_address)
    assert editor.locator("textarea[name=texts-en-body]").input_value() == "An hour of careful writing, kept."
    assert words["restored"] in editor.locator(".messages").inner_text()
    editor.locator("button[name=action][value=save]").click()
    editor.locator(".message-success").wait_for()
    editor.goto(edit_address)
    assert editor.locator("textarea[name=texts-en-body]").input_value() == "An hour of careful writing, kept."


def test_reports_and_the_audit_log_read_in_words_in_french(live_server, staff_page, make_staff):
    base = live_server.url
    admin = staff_page(make_staff("ada", roles=("admin",)), "fr", javascript=False)
    admin.goto(base + "/staff/reports/")
    assert admin.locator("svg.report-chart").count() >= 0
    assert "Demandes urgentes par issue" in admin.locator("main").inner_text()
    admin.goto(base + "/staff/audit")
    assert "s’est connecté·e" in admin.locator("#audit-table").inner_text()
    assert "signin.succeeded" not in admin.locator("#audit-table").inner_text()
