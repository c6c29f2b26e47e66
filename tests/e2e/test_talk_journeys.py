"""Writing to a counsellor in a real browser (Debian's Chromium), in English and French,
with JavaScript on and off: a visitor writes and gets a key; a counsellor signed in with
TOTP claims and replies; the visitor, in a fresh browser with the key, sees the unread
reply, answers, downloads the thread and deletes it. An urgent "message" request is a
thread the visitor answers with the case code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.conversations.models import Conversation
from service.db import db
from tests.e2e.test_staff_journeys import browser_sign_in
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {"unread": "1 new reply", "new": "New", "you": "You", "counsellor": "Counsellor"},
    "fr": {"unread": "1 nouvelle réponse", "new": "Nouveau", "you": "Vous", "counsellor": "Conseiller ou conseillère"},
}


def threads_in(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Conversation))


def counsellor_page(live_server, open_context, make_staff, javascript: bool, locale: str, username: str = "cleo"):
    page = open_context(javascript=javascript, locale=locale).new_page()
    browser_sign_in(page, live_server.url, make_staff(username, roles=("counsellor",)))
    return page


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_visitor_writes_a_counsellor_replies_and_the_visitor_answers_downloads_and_deletes(
        live_server, open_context, make_staff, javascript, locale):
    base, words = live_server.url, WORDS[locale]

    # A visitor with no key writes a first message, and gets a key shown once.
    visitor = open_context(javascript=javascript, locale=locale).new_page()
    errors = watch_console(visitor)
    visitor.goto(base + "/")
    visitor.locator("nav .main-nav a[href='/talk/']").click()
    visitor.wait_for_url(base + "/talk/")
    assert visitor.locator("#confidentiality-note").is_visible() and visitor.locator("#reply-promise").is_visible()
    visitor.locator("textarea[name=body]").fill("I have thoughts that frighten me and I want to talk.")
    visitor.locator("#first-message-form button[type=submit]").click()
    key = visitor.locator("#anonymous-key code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", key)
    assert threads_in(live_server.app) == 1

    # A counsellor, signed in with a second factor, claims the thread and replies.
    counsellor = counsellor_page(live_server, open_context, make_staff, javascript, locale)
    counsellor.goto(base + "/staff/messages/")
    counsellor.locator("#threads a[href^='/staff/messages/']").first.click()
    assert "I have thoughts that frighten me" in counsellor.locator("#staff-messages").inner_text()
    counsellor.locator("#claim").click()
    counsellor.locator("#reply-form textarea[name=body]").fill("Thank you for trusting us with this. I'm here.")
    counsellor.locator("#reply-form button[type=submit]").click()
    counsellor.locator(".message-success").wait_for()

    # The visitor comes back in a fresh browser with the key.
    later = open_context(javascript=javascript, locale=locale).new_page()
    later_errors = watch_console(later)
    later.goto(base + "/key/")
    later.locator("input[name=key]").fill(key.lower())
    later.locator("form[action='/key/open'] button[type=submit]").click()
    later.goto(base + "/talk/")
    assert words["unread"] in later.locator("#my-threads").inner_text()
    later.locator("#my-threads a").first.click()
    reply = later.locator(".message-staff")
    assert "Thank you for trusting us with this." in reply.inner_text()
    assert reply.locator(".unread-marker").inner_text() == words["new"]

    later.locator("#answer-form textarea[name=body]").fill("It already helps to write it down.")
    later.locator("#answer-form button[type=submit]").click()
    later.locator(".message-success").wait_for()
    assert "It already helps to write it down." in later.locator("#messages").inner_text()

    with later.expect_download() as download_info:
        later.locator("#download-thread").click()
    transcript = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert transcript.index("I have thoughts") < transcript.index("Thank you for trusting") < \
        transcript.index("It already helps")
    assert words["you"] in transcript and words["counsellor"] in transcript and "cleo" not in transcript.lower()

    later.locator("#delete-thread").click()
    later.locator("#confirm-delete").click()
    later.locator(".message-success").wait_for()
    assert threads_in(live_server.app) == 0
    assert errors == [] and later_errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_an_urgent_message_request_is_a_thread_the_visitor_answers_with_the_code(
        live_server, open_context, make_staff, javascript):
    base = live_server.url
    visitor = open_context(javascript=javascript).new_page()
    visitor.goto(base + "/help-now/contact")
    visitor.locator("input[name=channel][value=message]").check()
    visitor.locator("input[name=time_window][value=soon]").check()
    visitor.locator("textarea[name=message]").fill("I am scared of what I might do.")
    visitor.locator("form button[type=submit]").click()
    code = visitor.locator("#case-code code").inner_text()

    duty = open_context(javascript=javascript).new_page()
    browser_sign_in(duty, base, make_staff("dora", roles=("duty",)))
    duty.goto(base + "/staff/duty/")
    duty.locator("#open-cases a").first.click()
    duty.locator("#case-thread a").click()
    assert "I am scared of what I might do." in duty.locator("#staff-messages").inner_text()
    duty.locator("#reply-form textarea[name=body]").fill("We are here. Can you tell us a little more?")
    duty.locator("#reply-form button[type=submit]").click()
    duty.locator(".message-success").wait_for()

    later = open_context(javascript=javascript).new_page()
    later.goto(base + "/help-now/contact/status")
    later.locator("input[name=code]").fill(code)
    later.locator("form button[type=submit]").click()
    later.locator("#case-thread a").click()
    assert "We are here." in later.locator(".message-staff").inner_text()
    later.locator("#answer-form textarea[name=body]").fill("Yes. Thank you for answering.")
    later.locator("#answer-form button[type=submit]").click()
    later.locator(".message-success").wait_for()
    duty.reload()
    assert "Yes. Thank you for answering." in duty.locator("#staff-messages").inner_text()


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_talk_pages_have_no_wcag_violation(browser, live_server, make_staff, locale):
    from axe_playwright_python.sync_playwright import Axe

    from tests.e2e.test_accessibility import WCAG_TAGS

    base, failures = live_server.url, {}
    context = browser.new_context(bypass_csp=True, locale=locale, extra_http_headers={"Accept-Language": locale})
    staff_context = browser.new_context(bypass_csp=True, locale=locale, extra_http_headers={"Accept-Language": locale})
    try:
        page, axe = context.new_page(), Axe()

        def check(name: str) -> None:
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            if results.violations_count:
                failures[name] = results.generate_report()

        page.goto(base + "/talk/")
        check("/talk/")
        page.locator("textarea[name=body]").fill("x" * 4001)
        page.locator("#first-message-form button[type=submit]").click()
        page.locator("#body-error").wait_for()
        check("/talk/ with an error")
        page.locator("textarea[name=body]").fill("A first message.")
        page.locator("#first-message-form button[type=submit]").click()
        check("key shown")
        page.locator("a.button[href^='/talk/']").click()
        check("thread")
        page = staff_context.new_page()
        browser_sign_in(page, base, make_staff("cleo", roles=("counsellor",)))
        page.goto(base + "/staff/messages/")
        check("/staff/messages/")
        page.locator("#threads a[href^='/staff/messages/']").first.click()
        check("staff thread")
        assert failures == {}, "\n\n".join(f"{name}:\n{report}" for name, report in failures.items())
    finally:
        context.close()
        staff_context.close()
