"""/staff/reports: figures planted through the real pages come back, month by month,
as SVG charts, a table and CSV; a count under 5 is shown as "fewer than 5"."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from service import counters
from service.clock import clock
from service.db import db
from tests.conftest import csrf_token_from, sign_in
from tests.service.test_bad_input_everywhere import answer_until_the_end, form_on, post_form
from tests.service.test_urgent_contact import request_contact


def close_request_through_the_duty_pages(app, staff, outcome: str, number: int) -> None:
    visitor = app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = f"10.9.0.{number}"  # each visitor from their own address
    assert request_contact(visitor).status_code == 200
    queue = staff.get("/staff/duty/").get_data(as_text=True)
    reference = re.findall(r'href="/staff/duty/([0-9A-F]{6})"', queue)[0]
    token = csrf_token_from(staff.get(f"/staff/duty/{reference}").get_data(as_text=True))
    assert staff.post(f"/staff/duty/{reference}/attempt", data={"csrf_token": token, "result": "reached"}).status_code == 302
    assert staff.post(f"/staff/duty/{reference}/close", data={"csrf_token": token, "outcome": outcome}).status_code == 302


def cell(page: str, figure: str, series_part: str, month: str) -> str:
    section = page[page.index(f'id="figure-{figure}"'):]
    section = section[:section.index("</section>")]
    match = re.search(rf'<td data-month="{month}" data-series="[^"]*{re.escape(series_part)}[^"]*">([^<]*)</td>', section)
    assert match, (figure, series_part, month)
    return match.group(1)


def test_figures_planted_through_the_pages_match_and_small_counts_are_suppressed(seeded, make_staff):
    app = seeded
    clock.freeze(dt.datetime(2026, 11, 10, 9, 0))
    admin = app.test_client()
    ada = make_staff("ada", roles=("admin", "duty"))
    sign_in(admin, ada)
    # Six self-checks answered the same way (one band), through the pages.
    for _ in range(6):
        visitor = app.test_client()
        result = answer_until_the_end(visitor, "wellbeing")
        if "/help" in result:
            post_form(visitor, form_on(visitor, result, "/finish"))
    # Urgent requests closed by the duty counsellor: six "talked", two "referred".
    for number, outcome in enumerate(["talked"] * 6 + ["referred"] * 2):
        close_request_through_the_duty_pages(app, admin, outcome, number)
    clock.advance(dt.timedelta(days=31))  # into December
    admin = app.test_client()
    sign_in(admin, ada)

    page = admin.get("/staff/reports/?from=2026-10&to=2026-12").get_data(as_text=True)
    assert cell(page, "urgent-closed", "talked", "2026-11") == "6"
    assert cell(page, "urgent-closed", "referred", "2026-11") == "fewer than 5"
    assert cell(page, "urgent-closed", "talked", "2026-12") == "0"
    assert cell(page, "urgent-first-contact", "under-15-min", "2026-11") == "8"
    wellbeing = re.findall(r'data-month="2026-11" data-series="wellbeing:[^"]*">([^<]*)<', page)
    assert wellbeing == ["6"], wellbeing
    section = page[page.index('id="figure-urgent-closed"'):]
    section = section[:section.index("</section>")]
    assert "<svg" in section and "2026-11, Referred to another service: fewer than 5" in section
    assert not re.search(r">\s*2\s*<|: 2<", section), "the suppressed count appears nowhere, chart included"

    export = admin.get("/staff/reports/figures.csv?from=2026-11&to=2026-11")
    assert export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert ["Urgent requests by outcome", "Referred to another service", "2026-11", "fewer than 5"] in rows
    assert ["Urgent requests by outcome", "We talked", "2026-11", "6"] in rows
    assert not any(row[3] in {"1", "2", "3", "4"} for row in rows[1:]), "no small count leaves the page"


def test_counting_is_one_line_and_refuses_unknown_names(app):
    import pytest

    with app.app_context(), db.transaction() as session:
        counters.count(session, "threads-opened", dt.date(2026, 11, 3))
        counters.count(session, "threads-opened", dt.date(2026, 11, 3))
        with pytest.raises(ValueError):
            counters.count(session, "thread-opened", dt.date(2026, 11, 3))
    with app.app_context():
        assert counters.totals(db.session, "threads-opened", dt.date(2026, 11, 1), dt.date(2026, 12, 1)) == {
            ("2026-11", ""): 2}


def test_reports_in_french_show_words_and_junk_periods_fall_back(seeded, make_staff):
    admin = seeded.test_client()
    sign_in(admin, make_staff("ada", roles=("admin",)))
    page = admin.get("/staff/reports/?from=junk&to=2026-99", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert '<html lang="fr"' in page.get_data(as_text=True)
