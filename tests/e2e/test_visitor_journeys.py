"""What a visitor does, in a real browser, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from self_help.models import ExerciseAnswer
from service.db import db
from service.visitor.models import AnonymousKey

pytestmark = pytest.mark.e2e

MODULE = "understanding-your-thoughts"
STEP_COUNTER = {"en": "Step {n} of 5", "fr": "Étape {n} sur 5", "nl": "Stap {n} van 5"}


def watch_console(page) -> list[str]:
    """Console errors, CSP violations included: a page must produce none."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


# Each language, and JavaScript on and off, without every combination.
@pytest.mark.parametrize(("locale", "javascript"), [("en", True), ("en", False), ("fr", False), ("nl", True)],
                         ids=["en-js-on", "en-js-off", "fr-js-off", "nl-js-on"])
def test_a_visitor_reads_a_module_step_by_step(live_server, open_context, javascript, locale):
    page = open_context(javascript=javascript, locale=locale).new_page()
    problems = watch_console(page)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == locale
    page.locator("nav[aria-label] a[href='/self-help/']").first.click()
    page.locator(f"a[href='/self-help/{MODULE}']").click()
    page.locator(f"main a.button[href^='/self-help/{MODULE}/']").click()
    titles = []
    for number in range(1, 6):
        # expect() waits for the next page to arrive before reading it.
        expect(page.locator(".step-counter")).to_have_text(STEP_COUNTER[locale].format(n=number))
        page.wait_for_url(re.compile(rf"/self-help/{MODULE}/[a-z-]+$"))
        titles.append(page.locator("article h1").inner_text())
        assert len(page.locator("article.prose p").all()) >= 2
        page.locator("form.done-form button").click()
    page.wait_for_url(live_server.url + f"/self-help/{MODULE}")
    assert page.locator(".messages").is_visible()
    assert len(set(titles)) == 5
    assert page.locator("progress").first.get_attribute("value") == "5"
    assert problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_quick_exit_leaves_the_site(live_server, open_context, javascript):
    context = open_context(javascript=javascript)
    page = context.new_page()
    exit_url = live_server.app.config["PAUSE"].quick_exit_url
    page.goto(live_server.url + "/")
    page.goto(live_server.url + f"/self-help/{MODULE}/thoughts-are-not-actions")
    page.locator("#quick-exit").click()
    expect(page.locator("h1")).to_have_text("Weather")  # through /exit's redirect, as above
    assert page.url == exit_url
    if javascript:
        # The page left was replaced in history: Back does not return to it.
        page.go_back()
        assert page.url == live_server.url + "/"


def test_quick_exit_answers_the_escape_key(live_server, open_context):
    page = open_context(javascript=True).new_page()
    page.goto(live_server.url + "/help-now")
    page.keyboard.press("Escape")
    # Through /exit's redirect: Chromium's first try of the neutral site skips the test's
    # route (this machine has no Internet) and the next is answered, so wait for the page.
    expect(page.locator("h1")).to_have_text("Weather")
    assert page.url == live_server.app.config["PAUSE"].quick_exit_url


def test_escape_does_not_leave_a_staff_page(live_server, open_context):
    page = open_context(javascript=True).new_page()
    page.goto(live_server.url + "/staff/login")
    page.locator("input[name=username]").fill("work in progress")
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)  # what a key press would have started by now
    assert page.url == live_server.url + "/staff/login"
    assert page.locator("input[name=username]").input_value() == "work in progress"


def test_a_key_holder_keeps_an_answer_across_browsers_downloads_it_and_forgets_it(live_server, open_context,
                                                                                  tmp_path):
    answer = "When I am tired and alone online, the thoughts get louder. marker-e2e-4410"
    first = open_context().new_page()
    first.goto(live_server.url + "/key/")
    first.locator("form[action='/key/new'] button").click()
    key = first.locator("#anonymous-key code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", key)

    first.goto(live_server.url + f"/self-help/{MODULE}/noticing-patterns")
    first.locator("textarea[name=text]").fill(answer)
    first.locator("#exercise button[type=submit]").click()
    first.locator(".saved-note").wait_for()

    # A fresh browser, as on another device: the key brings the answer back.
    second = open_context().new_page()
    second.goto(live_server.url + "/key/")
    second.locator("input[name=key]").fill(key.lower())
    second.locator("form[action='/key/open'] button").click()
    second.locator(".message-success").wait_for()
    second.goto(live_server.url + f"/self-help/{MODULE}/noticing-patterns")
    assert second.locator("textarea[name=text]").input_value() == answer

    second.goto(live_server.url + "/key/")
    with second.expect_download() as download_info:
        second.locator("a[href='/self-help/my-answers.txt']").click()
    saved = tmp_path / "answers.txt"
    download_info.value.save_as(saved)
    assert answer in saved.read_text(encoding="utf-8")

    second.locator("a[href='/key/forget']").click()
    second.locator("form[action='/key/forget'] button").click()
    second.locator("h1", has_text="Everything is deleted").wait_for()
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExerciseAnswer)) == 0
        assert db.session.scalar(select(func.count()).select_from(AnonymousKey)) == 0
    # The first browser's session let go of the erased key.
    first.goto(live_server.url + f"/self-help/{MODULE}/noticing-patterns")
    assert first.locator("textarea").count() == 0


def test_a_browsing_run_logs_no_address_agent_query_or_key(live_server, open_context, captured_logs):
    context = open_context()
    page = context.new_page()
    user_agent = page.evaluate("navigator.userAgent")
    for path in ("/", "/self-help/?utm=query-marker-88", f"/self-help/{MODULE}", "/help-now", "/about",
                 "/privacy", "/missing", "/key/"):
        page.goto(live_server.url + path)
    page.locator("form[action='/key/new'] button").click()
    key = page.locator("#anonymous-key code").inner_text()
    page.goto(live_server.url + "/key/")
    output = "\n".join(captured_logs)
    assert "GET /self-help/ 200" in output
    for secret in ("127.0.0.1", user_agent, "HeadlessChrome", "query-marker-88", "utm=", key, key.replace("-", "")):
        assert secret not in output, secret
