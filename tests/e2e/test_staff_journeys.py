"""Staff in a real browser: sign-in with TOTP, the publishing workflow, XSS payloads."""

from __future__ import annotations

import pytest

from tests.content.test_xss_corpus import PAYLOADS
from tests.e2e.test_visitor_journeys import watch_console

pytestmark = pytest.mark.e2e

MODULE = "understanding-your-thoughts"
STEP = "thoughts-are-not-actions"


def browser_sign_in(page, base_url: str, account) -> None:
    page.goto(base_url + "/staff/login")
    page.locator("input[name=username]").fill(account.username)
    page.locator("input[name=password]").fill(account.password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base_url + "/staff/login/code")
    page.locator("input[name=code]").fill(account.next_code())
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base_url + "/staff/")


@pytest.fixture
def staff_pages(live_server, open_context, make_staff):
    def open_as(username: str, roles: tuple[str, ...], javascript: bool = True):
        page = open_context(javascript=javascript).new_page()
        browser_sign_in(page, live_server.url, make_staff(username, roles=roles))
        return page

    return open_as


def draft_and_submit(page, base_url: str, changes: dict[str, str]) -> None:
    page.goto(base_url + f"/staff/content/module/{MODULE}")
    page.get_by_role("button", name="Start a change").click()
    for field, value in changes.items():
        page.locator(f"[name='{field}']").fill(value)
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_url(base_url + f"/staff/content/module/{MODULE}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_editor_drafts_publisher_publishes_and_rolls_back(live_server, staff_pages, open_context, javascript):
    base = live_server.url
    editor = staff_pages("eve", ("editor",), javascript)
    draft_and_submit(editor, base, {"steps-0-en-title": "Thoughts are not deeds",
                                    "steps-0-fr-title": "Les pensées ne sont pas des gestes"})
    assert editor.get_by_role("button", name="Publish now").count() == 0, "editors cannot publish"

    publisher = staff_pages("pat", ("publisher",), javascript)
    publisher.goto(base + f"/staff/content/module/{MODULE}")
    publisher.get_by_role("button", name="Publish now").click()
    publisher.locator(".message-success").wait_for()

    public = open_context(javascript=javascript).new_page()
    public.goto(base + f"/self-help/{MODULE}/{STEP}")
    assert public.locator("article h1").inner_text() == "Thoughts are not deeds"
    public.goto(base + f"/language/fr?next=/self-help/{MODULE}/{STEP}")
    assert public.locator("article h1").inner_text() == "Les pensées ne sont pas des gestes"

    publisher.goto(base + f"/staff/content/module/{MODULE}")
    publisher.locator("#version-1").get_by_role("button", name="Restore this version").click()
    publisher.locator("#confirm-button").click()  # asked on a page of its own
    publisher.locator(".message-success").wait_for()
    # Restoring is a change too: a second person publishes it.
    admin = staff_pages("ada", ("admin",), javascript)
    admin.goto(base + f"/staff/content/module/{MODULE}")
    admin.get_by_role("button", name="Publish now").click()
    admin.locator(".message-success").wait_for()
    public.goto(base + f"/language/en?next=/self-help/{MODULE}/{STEP}")
    assert public.locator("article h1").inner_text() != "Thoughts are not deeds"

    admin.goto(base + "/staff/audit?object_type=module")
    log = admin.locator("#audit-table").inner_text()
    for action in ("started a draft", "sent a draft for review", "published a version", "restored an earlier version"):
        assert action in log
    assert "eve" in log and "pat" in log


def test_xss_payloads_published_through_the_editor_do_nothing_in_the_browser(live_server, staff_pages):
    base = live_server.url
    editor = staff_pages("xavier", ("editor",))
    draft_and_submit(editor, base, {"steps-0-en-body": "\n\n".join(PAYLOADS),
                                    "steps-0-fr-body": "\n\n".join(PAYLOADS)})
    publisher = staff_pages("paula", ("publisher",))
    publisher.goto(base + f"/staff/content/module/{MODULE}")
    publisher.get_by_role("button", name="Publish now").click()
    publisher.locator(".message-success").wait_for()

    visitor = publisher.context.browser.new_context()
    try:
        page = visitor.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        problems = watch_console(page)
        for language in ("en", "fr"):
            page.goto(base + f"/language/{language}?next=/self-help/{MODULE}/{STEP}")
            page.wait_for_load_state("load")
            page.mouse.move(200, 300)
            page.keyboard.press("Tab")
            page.wait_for_timeout(300)
            assert "alert(1)" in page.locator("article").inner_text(), "the payloads are shown as text"
        assert dialogs == []
        assert [problem for problem in problems if "Content Security Policy" in problem or "CSP" in problem] == []
        assert problems == []
    finally:
        visitor.close()
