"""Urgent contact: a visitor asks, duty staff answer in time or the admins are told;
what could identify the visitor is erased after the case closes."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from service.auth.models import AuditEntry
from service.clock import clock
from service.crisis.models import UrgentCase
from service.db import db
from service.jobs import run_all
from tests.conftest import csrf_token_from, every_row, sign_in

PHONE = "+32 470 98 76 54"
MESSAGE = "canary-urgent-message-6612 please call after work"


def request_contact(client, **fields):
    page = client.get("/help-now/contact").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "channel": "phone", "contact": PHONE, "time_window": "evening",
            "language": "en", "message": MESSAGE}
    data.update(fields)
    return client.post("/help-now/contact", data=data)


def case_code(response) -> str:
    return re.search(r'id="case-code"><code>([0-9A-Z-]+)</code>', response.get_data(as_text=True)).group(1)


def test_confidentiality_limits_are_explained_before_the_free_text_box(seeded):
    page = seeded.test_client().get("/help-now/contact").get_data(as_text=True)
    assert page.index('id="confidentiality-note"') < page.index('name="message"')
    assert page.index('id="confidentiality-note"') < page.index('name="contact"')


def test_a_request_gives_a_case_code_that_shows_its_status(seeded, mail_server):
    client = seeded.test_client()
    response = request_contact(client)
    assert response.status_code == 200
    code = case_code(response)
    assert len(code.replace("-", "")) == 20
    raw = every_row(seeded)
    assert PHONE.encode() not in raw and b"canary-urgent-message-6612" not in raw, "sealed at rest"
    assert code.encode() not in raw and code.replace("-", "").encode() not in raw

    other = seeded.test_client()
    page = other.get("/help-now/contact/status").get_data(as_text=True)
    status = other.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(page), "code": code.lower()})
    # Nobody with the duty role has an address yet: the page says so rather than claim they were told.
    assert "could not send the message that tells the counsellors" in status.get_data(as_text=True)
    wrong = other.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(page),
                                                         "code": "ABCD-EFGH-JKMN-PQRS-TVWX"})
    assert wrong.status_code == 422 and "We found no request" in wrong.get_data(as_text=True)


def test_invalid_requests_are_explained_and_keep_what_was_typed(seeded):
    response = request_contact(seeded.test_client(), contact="call me maybe", message="x" * 1200)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please give a phone number" in page and "1200 characters long" in page
    assert 'value="call me maybe"' in page and "x" * 1200 in page
    with seeded.app_context():
        assert db.session.scalars(select(UrgentCase)).all() == []


def test_the_duty_roster_is_mailed_with_no_personal_data(seeded, make_staff, mail_server):
    make_staff("dora", roles=("duty",))
    make_staff("adam", roles=("admin",))
    request_contact(seeded.test_client())
    with seeded.app_context():
        run_all()
    assert mail_server.recipients() == ["dora@example.org"]
    mail = mail_server.text()
    assert "/staff/duty/" in mail
    assert PHONE not in mail and "canary" not in mail


def test_unacknowledged_requests_escalate_to_admins_then_again(seeded, make_staff, mail_server):
    make_staff("dora", roles=("duty",))
    make_staff("adam", roles=("admin",))
    clock.freeze(dt.datetime(2026, 11, 22, 20, 0))
    request_contact(seeded.test_client())
    with seeded.app_context():
        run_all()
        clock.advance(dt.timedelta(minutes=9))
        run_all()
        assert "adam@example.org" not in mail_server.recipients()
        clock.advance(dt.timedelta(minutes=1))
        run_all()
        run_all()  # idempotent: no second mail for the same level
        assert mail_server.recipients().count("adam@example.org") == 1
        case = db.session.scalar(select(UrgentCase))
        assert case.escalation_level == 1
        clock.advance(dt.timedelta(minutes=20))
        run_all()
        db.session.expire_all()
        assert db.session.scalar(select(UrgentCase)).escalation_level == 2
        assert mail_server.recipients().count("adam@example.org") == 2
        assert "case.escalated" in [entry.action for entry in db.session.scalars(select(AuditEntry))]


def test_mail_server_down_the_case_is_still_made_and_mail_goes_out_later(seeded, make_staff, mail_server):
    make_staff("dora", roles=("duty",))
    mail_server.stop()
    clock.freeze(dt.datetime(2026, 11, 22, 20, 0))
    response = request_contact(seeded.test_client())
    assert response.status_code == 200 and case_code(response)
    with seeded.app_context():
        assert run_all()["deliver-mail"] == 0
        mail_server.start()
        clock.advance(dt.timedelta(minutes=2))
        assert run_all()["deliver-mail"] == 1
    assert mail_server.recipients() == ["dora@example.org"]


def test_duty_acknowledges_reveals_replies_and_closes_then_details_are_erased(seeded, make_staff, mail_server):
    duty = make_staff("dora", roles=("duty",))
    visitor = seeded.test_client()
    code = case_code(request_contact(visitor))
    staff = seeded.test_client()
    clock.freeze(clock.now())
    sign_in(staff, duty)
    queue = staff.get("/staff/duty/").get_data(as_text=True)
    reference = re.search(r'href="/staff/duty/([0-9A-F]+)"', queue).group(1)
    page = staff.get(f"/staff/duty/{reference}").get_data(as_text=True)
    assert PHONE not in page, "hidden until asked for"
    token = csrf_token_from(page)
    staff.post(f"/staff/duty/{reference}/acknowledge", data={"csrf_token": token})
    revealed = staff.post(f"/staff/duty/{reference}/reveal", data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert PHONE in revealed and "canary-urgent-message-6612" in revealed
    staff.post(f"/staff/duty/{reference}/attempt", data={"csrf_token": token, "result": "no-answer"})
    staff.post(f"/staff/duty/{reference}/reply", data={"csrf_token": token, "reply": "We tried to call you."})
    status_page = visitor.get("/help-now/contact/status").get_data(as_text=True)
    status = visitor.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(status_page), "code": code})
    assert "We tried to call you." in status.get_data(as_text=True)
    staff.post(f"/staff/duty/{reference}/close", data={"csrf_token": token, "outcome": "talked"})
    with seeded.app_context():
        actions = [entry.action for entry in db.session.scalars(select(AuditEntry))]
        assert {"case.acknowledged", "case.contact_viewed", "case.attempt", "case.closed"} <= set(actions)
        clock.advance(dt.timedelta(hours=23))
        run_all()
        assert db.session.scalar(select(UrgentCase)).sealed_contact is not None
        clock.advance(dt.timedelta(hours=1, minutes=1))
        run_all()
        db.session.expire_all()
        case = db.session.scalar(select(UrgentCase))
        assert case.sealed_contact is None and case.sealed_message is None and case.sealed_reply is None
        assert case.outcome == "talked" and [event.kind for event in case.events][:2] == ["created", "acknowledged"]
    raw = every_row(seeded)
    assert b"canary-urgent-message-6612" not in raw and PHONE.encode() not in raw


def test_case_codes_are_throttled_before_any_hash(seeded):
    from service.hashing import hashes_computed

    client = seeded.test_client()
    page = client.get("/help-now/contact/status").get_data(as_text=True)
    for _ in range(10):
        client.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(page),
                                                      "code": "ABCD-EFGH-JKMN-PQRS-TVWX"})
    before = hashes_computed.value
    response = client.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(page),
                                                             "code": "ABCD-EFGH-JKMN-PQRS-TVWX"})
    assert response.status_code == 429 and hashes_computed.value == before


def test_sent_notifications_are_erased_after_a_week(seeded, make_staff, mail_server):
    from service.outbox import OutboxMessage

    make_staff("dora", roles=("duty",))
    clock.freeze(dt.datetime(2026, 11, 22, 20, 0))
    request_contact(seeded.test_client())
    with seeded.app_context():
        run_all()
        clock.advance(dt.timedelta(days=7, minutes=1))
        assert run_all()["erase-sent-mail"] == 1
        assert db.session.scalars(select(OutboxMessage)).all() == []
