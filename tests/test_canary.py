"""The canary test: plant a unique marker in every field a visitor or therapist can write,
through the real pages; check it is held encrypted only; move the clock past every
retention period and run the jobs; then search the raw database (the SQLite file with its
WAL, or a full pg_dump), the logs and the sent e-mails: no marker may remain."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from service.clock import clock
from service.db import db
from service.scheduler import tick
from tests.booking.conftest import MONDAY_MORNING, first_free_slot, therapist  # noqa: F401 - the fixture
from tests.booking.test_booking import book_through_the_pages
from tests.conftest import POSTGRES_URL, csrf_token_from, on_postgres, sign_in
from tests.self_help.test_check_flow import calm_answers, complete
from tests.service.test_anonymous_keys import create_key_through_the_page

MARKERS = {
    "exercise answer": "canary-answer-9f1c2e",
    "booking note": "canary-note-4b7d1a",
    "booking phone": "+32 499 31 41 59",
    "reminder e-mail": "canary-mail-7731@example.net",
    "urgent message": "canary-urgent-2c8e5f",
    "urgent phone": "+33 6 27 18 28 18",
    "thread message": "canary-thread-6b3f0d",
    "counsellor reply": "canary-reply-1e9a47",
    "internal note": "canary-staff-note-5c2d88",
    "notice address": "canary-notice-4410@example.net",
    "urgent thread": "canary-urgent-thread-8d1b6a",
}


def raw_database_bytes(app) -> bytes:
    if on_postgres():
        parts = urlsplit(POSTGRES_URL)
        dump = subprocess.run(["pg_dump", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U",
                               parts.username, parts.path.lstrip("/")], capture_output=True, check=True)
        return dump.stdout
    with app.app_context():
        path = db.engine.url.database
    content = b""
    for name in (path, path + "-wal"):
        try:
            with open(name, "rb") as file:
                content += file.read()
        except FileNotFoundError:
            pass
    return content


def sealed_text(app) -> bytes:
    """Every sealed value in the database, opened with the data key."""
    from sqlalchemy import select

    from service import crypto

    with app.app_context():
        values = [crypto.unseal(token) for model, name in crypto.sealed_columns()
                  for token in db.session.scalars(select(getattr(model, name)).where(
                      getattr(model, name).is_not(None)))]
    return "\n".join(values).encode()


def found_markers(data: bytes) -> list[str]:
    return [name for name, marker in MARKERS.items() if marker.encode() in data]


@pytest.mark.skipif(on_postgres() and not shutil.which("pg_dump"), reason="pg_dump is needed to read PostgreSQL")
def test_no_marker_outlives_its_retention_period(seeded, therapist, make_staff, mail_server,  # noqa: F811
                                                  captured_logs):
    app = seeded
    duty = make_staff("dina", roles=("duty",))
    visitor = app.test_client()

    # A key holder writes an exercise answer and keeps a self-check result.
    create_key_through_the_page(visitor)
    step = "/self-help/understanding-your-thoughts/noticing-patterns"
    page = visitor.get(step).get_data(as_text=True)
    visitor.post(f"{step}/answer", data={"csrf_token": csrf_token_from(page), "text": MARKERS["exercise answer"]})
    complete(visitor, "wellbeing", calm_answers("wellbeing"))
    page = visitor.get("/check/wellbeing/result").get_data(as_text=True)
    visitor.post("/check/wellbeing/result/keep", data={"csrf_token": csrf_token_from(page)})

    # A visitor books with a note, a phone number and a reminder address.
    slot = first_free_slot(app, therapist)
    booked = book_through_the_pages(app.test_client(), therapist, slot.starts_at, note=MARKERS["booking note"],
                                    contact=MARKERS["booking phone"], reminder_email=MARKERS["reminder e-mail"])
    assert booked.status_code == 200

    # A visitor asks for urgent contact; the counsellor on duty handles and closes it.
    contact = app.test_client()
    page = contact.get("/help-now/contact").get_data(as_text=True)
    contact.post("/help-now/contact", data={"csrf_token": csrf_token_from(page), "channel": "phone",
                                            "contact": MARKERS["urgent phone"], "time_window": "soon",
                                            "language": "en", "message": MARKERS["urgent message"]})
    staff = app.test_client()
    sign_in(staff, duty)
    reference = re.search(r'href="/staff/duty/([0-9A-F]+)"', staff.get("/staff/duty/").get_data(as_text=True)).group(1)
    page = staff.get(f"/staff/duty/{reference}").get_data(as_text=True)
    revealed = staff.post(f"/staff/duty/{reference}/reveal", data={"csrf_token": csrf_token_from(page)},
                          follow_redirects=True)
    assert MARKERS["urgent message"] in revealed.get_data(as_text=True)
    staff.post(f"/staff/duty/{reference}/close", data={"csrf_token": csrf_token_from(page), "outcome": "talked"})

    # A visitor writes to a counsellor, asking for a notice; a counsellor claims, replies,
    # keeps a note and closes. Another asks for contact by message: that is a thread too.
    writer = app.test_client()
    page = writer.get("/talk/").get_data(as_text=True)
    writer.post("/talk/", data={"csrf_token": csrf_token_from(page), "body": MARKERS["thread message"],
                                "notice_address": MARKERS["notice address"]})
    by_message = app.test_client()
    page = by_message.get("/help-now/contact").get_data(as_text=True)
    by_message.post("/help-now/contact", data={"csrf_token": csrf_token_from(page), "channel": "message",
                                               "contact": "", "time_window": "soon", "language": "en",
                                               "message": MARKERS["urgent thread"]})
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cleo", roles=("counsellor",)))
    inbox = counsellor.get("/staff/messages/").get_data(as_text=True)
    for public_id in re.findall(r'href="/staff/messages/([A-Za-z0-9_-]{22})"', inbox):
        page = counsellor.get(f"/staff/messages/{public_id}").get_data(as_text=True)
        token = csrf_token_from(page)
        for action, data in (("claim", {}), ("reply", {"body": MARKERS["counsellor reply"]}),
                             ("note", {"body": MARKERS["internal note"]}), ("close", {})):
            assert counsellor.post(f"/staff/messages/{public_id}/{action}",
                                   data={"csrf_token": token, **data}).status_code == 302

    # The therapist reads the note in the reveal window.
    clock.freeze(slot.starts_at - dt.timedelta(minutes=30))
    therapist_client = app.test_client()
    sign_in(therapist_client, therapist.account)
    assert therapist_client.get("/staff/appointments/?view=week").status_code == 200

    # Until now everything is held, and encrypted: every marker is in the sealed columns,
    # none in plain text anywhere on disk.
    tick(app)
    assert found_markers(sealed_text(app)) == list(MARKERS)
    assert found_markers(raw_database_bytes(app)) == []

    # Past every retention period, with the jobs run as the scheduler runs them.
    for days in (2, 10, 40, 400, 800):
        clock.freeze(MONDAY_MORNING + dt.timedelta(days=days))
        tick(app)
    assert found_markers(sealed_text(app)) == []
    assert found_markers(raw_database_bytes(app)) == []
    # The test's own SMTP server (aiosmtpd, logger "mail.log") stands in for the outside
    # mail server and logs what it receives; every log line of the portal itself is checked.
    portal_logs = [line for line in captured_logs if not line.startswith("mail.log ")]
    assert found_markers("\n".join(portal_logs).encode()) == []
    mail_text = mail_server.text()
    # The reminder and notice addresses are, by nature, the recipients of what they asked
    # for; nothing else may appear in any mail.
    mail_without_recipients = re.sub(r"(?im)^to:.*$", "", mail_text)
    assert found_markers(mail_without_recipients.encode()) == [], mail_text
    assert MARKERS["booking note"] not in mail_text and MARKERS["urgent message"] not in mail_text
    for name in ("thread message", "counsellor reply", "internal note", "urgent thread"):
        assert MARKERS[name] not in mail_text, name
    assert "You have a new message." in mail_text, "the neutral notice went out"
