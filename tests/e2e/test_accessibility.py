"""axe-core finds no WCAG 2.2 A/AA violation on the pages visitors use most."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.e2e

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = [
    "/",
    "/self-help/",
    "/self-help/understanding-your-thoughts",
    "/self-help/understanding-your-thoughts/noticing-patterns",
    "/self-help/managing-urges-and-risky-situations/your-safety-plan",
    "/help-now",
    "/help-now?region=fr",
    "/help-now/contact",
    "/help-now/contact/status",
    "/check/",
    "/check/self-reflection/",
    "/check/wellbeing/1",
    "/key/",
    "/privacy",
    "/booking/",
    "/booking/manage",
    "/family",
    "/self-help/supporting-someone-close/what-to-say",
    "/self-help/living-safely-around-children/one-page",
]


@pytest.mark.parametrize("locale", ["en", "fr", "nl"])
def test_no_wcag_violation(browser, live_server, locale):
    # axe is injected by the test; bypass_csp lets its script run, the pages' own
    # policy is checked elsewhere.
    context = browser.new_context(bypass_csp=True, locale=locale, extra_http_headers={"Accept-Language": locale})
    try:
        page = context.new_page()
        axe = Axe()
        failures = {}
        for path in PAGES:
            page.goto(live_server.url + path)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            if results.violations_count:
                failures[path] = results.generate_report()
        assert failures == {}, "\n\n".join(f"{path}:\n{report}" for path, report in failures.items())
    finally:
        context.close()


def test_error_state_of_a_form_has_no_wcag_violation(browser, live_server):
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/key/")
        page.locator("input[name=key]").fill("not a key")
        page.locator("form[action='/key/open'] button").click()
        page.locator("#key-error").wait_for()
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        assert results.violations_count == 0, results.generate_report()
    finally:
        context.close()


STAFF_PAGES = [
    "/staff/",
    "/staff/content/",
    "/staff/content/module/understanding-your-thoughts",
    "/staff/content/module/understanding-your-thoughts/versions/2/edit",
    "/staff/content/module/understanding-your-thoughts/diff?from=1&to=2",
    "/staff/people",
    "/staff/audit",
    "/staff/account",
    "/staff/duty/",
    "/staff/appointments/",
    "/staff/appointments/availability",
    "/staff/content/assessment/wellbeing",
]


def test_staff_pages_have_no_wcag_violation(browser, live_server, make_staff):
    from tests.e2e.test_staff_journeys import browser_sign_in

    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/staff/login")
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        failures = {"/staff/login": results.generate_report()} if results.violations_count else {}
        browser_sign_in(page, live_server.url, make_staff("axe", roles=("admin", "editor", "publisher", "therapist")))
        page.goto(live_server.url + "/staff/content/module/understanding-your-thoughts")
        page.get_by_role("button", name="Start a change").click()
        for path in STAFF_PAGES:
            page.goto(live_server.url + path)
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            if results.violations_count:
                failures[path] = results.generate_report()
        assert failures == {}, "\n\n".join(f"{path}:\n{report}" for path, report in failures.items())
    finally:
        context.close()
