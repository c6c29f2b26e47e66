"""/staff/mail: admins see, in words, the mail the outbox set aside, and put it back or
discard it; each action is audited. No one else sees it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from service.clock import clock
from service.db import db
from service.jobs import deliver_mail
from service.outbox import OutboxMessage
from tests.conftest import audit_actions, csrf_token_from, sign_in


def plant_bad_message(app) -> int:
    from service.crypto import seal

    with app.app_context(), db.transaction() as session:
        message = OutboxMessage(sealed_recipient=seal("john.doe@[gmail.com"), subject="Pause: a reminder",
                                body="Reminder", created_at=clock.now(), next_attempt_at=clock.now(), attempts=0,
                                urgent=False, failures=0)
        session.add(message)
        session.flush()
        message_id = message.id
    with app.app_context():
        deliver_mail()
    return message_id


def test_admins_see_mail_set_aside_in_words_and_can_put_it_back_or_discard_it(app, make_staff, mail_server):
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0))
    message_id = plant_bad_message(app)
    admin = make_staff("adam", roles=("admin",))
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/staff/mail/", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Pause: a reminder" in text and "is not a valid e-mail address" in text
    assert "gmail" not in text  # who it was for is not shown
    assert "address</td>" not in text  # the reason in words, not its code

    token = csrf_token_from(text)
    assert client.post(f"/staff/mail/{message_id}/retry", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.set_aside_at is None and message.next_attempt_at <= clock.now()
        deliver_mail()  # still not an address: set aside again
        assert db.session.get(OutboxMessage, message_id).set_aside_at is not None
    assert client.post(f"/staff/mail/{message_id}/discard", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)) is None
    assert audit_actions(app)[-2:] == ["mail.retried", "mail.discarded"]
    assert "No message is set aside" in client.get("/staff/mail/").get_data(as_text=True)


def test_the_set_aside_page_speaks_french(app, make_staff, mail_server):
    plant_bad_message(app)
    admin = make_staff("adam", roles=("admin",))
    client = app.test_client()
    sign_in(client, admin)
    client.get("/language/fr")
    assert "pas une adresse électronique valide" in client.get("/staff/mail/").get_data(as_text=True)


def test_only_admins_reach_the_set_aside_mail(app, make_staff):
    duty = make_staff("dora", roles=("duty",))
    client = app.test_client()
    assert client.get("/staff/mail/").status_code == 302  # to sign-in
    sign_in(client, duty)
    assert client.get("/staff/mail/").status_code == 403
