"""Promises kept, and nothing kept longer than promised: the reply-time reminder to
counsellors and the alert to admins (the real scheduler's claim, the controllable clock,
a real SMTP server); closed threads erased after their period; two counsellors never
answer the same thread without knowing it; an urgent "message" request is a thread."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from service.clock import clock
from service.conversations import services
from service.conversations.models import Conversation, Message, Note
from service.db import db
from service.scheduler import tick
from tests.conftest import csrf_token_from, every_row, sign_in
from tests.conversations.test_threads import post_on, thread_ids, write_first_message

# A Monday morning: three working days later is Thursday morning.
MONDAY = dt.datetime(2030, 1, 7, 9, 0)


def test_working_days_skip_the_weekend():
    assert services.add_working_days(MONDAY, 3) == dt.datetime(2030, 1, 10, 9, 0)
    friday = dt.datetime(2030, 1, 11, 16, 0)
    assert services.add_working_days(friday, 3) == dt.datetime(2030, 1, 16, 16, 0)
    saturday = dt.datetime(2030, 1, 12, 22, 0)
    assert services.add_working_days(saturday, 1) == dt.datetime(2030, 1, 15, 0, 0)


def test_counsellors_are_reminded_near_the_promise_and_admins_told_past_it(app, make_staff, mail_server):
    make_staff("cora", roles=("counsellor",))
    make_staff("carl", roles=("counsellor",))
    make_staff("adam", roles=("admin",))
    make_staff("dora", roles=("duty",))
    clock.freeze(MONDAY)
    write_first_message(app.test_client(), "reminder-marker-3141 please answer")
    tick(app)  # the staff's own enrolment mail goes first
    mail_server.messages.clear()

    clock.freeze(MONDAY + dt.timedelta(days=1, hours=23))  # Wednesday 08:00: more than a day before the promise
    tick(app)
    assert mail_server.messages == [], mail_server.text()

    clock.freeze(MONDAY + dt.timedelta(days=2))  # Wednesday 09:00: 24 hours before it
    tick(app)
    assert sorted(mail_server.recipients()) == ["carl@example.org", "cora@example.org"]
    clock.advance(dt.timedelta(hours=1))
    tick(app)
    assert len(mail_server.messages) == 2, "a reminder is sent once"

    clock.freeze(MONDAY + dt.timedelta(days=3, minutes=1))  # Thursday 09:01: the promise has passed
    tick(app)
    assert sorted(mail_server.recipients()) == ["adam@example.org", "carl@example.org", "cora@example.org"]
    clock.advance(dt.timedelta(hours=2))
    tick(app)
    assert len(mail_server.messages) == 3, "the admins are told once"
    mail = mail_server.text()
    assert "/staff/messages/" in mail and "reminder-marker-3141" not in mail


def test_the_reminder_goes_to_the_holder_and_an_answer_resets_the_promise(app, make_staff, mail_server):
    cora = make_staff("cora", roles=("counsellor",))
    make_staff("carl", roles=("counsellor",))
    make_staff("adam", roles=("admin",))
    clock.freeze(MONDAY)
    visitor = app.test_client()
    write_first_message(visitor)
    [public_id] = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, cora)
    post_on(counsellor, f"/staff/messages/{public_id}", "claim")
    tick(app)
    mail_server.messages.clear()
    clock.freeze(MONDAY + dt.timedelta(days=2, hours=12))
    tick(app)
    assert mail_server.recipients() == ["cora@example.org"]
    sign_in(counsellor, cora)  # a new day, a new sign-in
    post_on(counsellor, f"/staff/messages/{public_id}", "reply", body="I'm here.")
    clock.freeze(MONDAY + dt.timedelta(days=10))
    tick(app)
    assert mail_server.recipients() == ["cora@example.org"], "answered: nothing is due"


def test_the_reminder_job_runs_once_across_two_schedulers(app, make_staff, mail_server):
    from tests.conftest import make_test_app

    make_staff("cora", roles=("counsellor",))
    clock.freeze(MONDAY)
    write_first_message(app.test_client())
    tick(app)
    mail_server.messages.clear()
    clock.freeze(MONDAY + dt.timedelta(days=2, hours=12))
    with app.app_context():
        url = str(db.engine.url.render_as_string(hide_password=False))
    other = make_test_app(app.instance_path and __import__("pathlib").Path(app.instance_path).parent / "other",
                          database_url=url, smtp_port=app.config["PAUSE"].smtp_port)
    first, second = tick(app), tick(other)
    assert first["remind-about-reply-times"] == 1 and second["remind-about-reply-times"] is None
    tick(app)
    assert mail_server.recipients() == ["cora@example.org"]


def test_a_closed_thread_is_erased_after_its_period_with_messages_and_notes(app, make_staff):
    clock.freeze(MONDAY)
    visitor = app.test_client()
    write_first_message(visitor, "retention-marker-2718 my words")
    write_first_message(visitor, "still-open-marker-1618")
    closed_id, open_id = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    post_on(counsellor, f"/staff/messages/{closed_id}", "note", body="a note")
    post_on(counsellor, f"/staff/messages/{closed_id}", "close")

    clock.freeze(MONDAY + dt.timedelta(days=29))
    tick(app)
    assert thread_ids(app) == [closed_id, open_id]
    clock.freeze(MONDAY + dt.timedelta(days=30, minutes=5))
    tick(app)
    assert thread_ids(app) == [open_id]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Note)) == 0
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    from tests.test_canary import sealed_text

    assert b"retention-marker-2718" not in sealed_text(app) and b"still-open-marker-1618" in sealed_text(app)


def test_a_thread_nobody_touches_goes_when_its_key_is_erased_for_disuse(app):
    clock.freeze(MONDAY)
    write_first_message(app.test_client())
    clock.freeze(MONDAY + dt.timedelta(days=app.config["PAUSE"].anonymous_key_retention_days + 2))
    tick(app)
    assert thread_ids(app) == []


def test_the_retention_registry_and_privacy_page_name_threads(seeded):
    from service.retention import covered_columns

    covered = covered_columns()
    assert {"conversations", "conversation_messages", "conversation_notes"} <= set(covered)
    page = seeded.test_client().get("/privacy").get_data(as_text=True)
    assert "Message threads with a counsellor" in page and "30 days after the thread is closed" in page


def test_a_second_counsellor_is_refused_and_told_who_holds_the_thread(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    cora, carl = make_staff("cora", roles=("counsellor",)), make_staff("carl", roles=("counsellor",))
    first, second = app.test_client(), app.test_client()
    sign_in(first, cora)
    sign_in(second, carl)
    post_on(first, f"/staff/messages/{public_id}", "claim")

    page = second.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    assert 'id="held-warning"' in page and "Cora holds this thread" in page
    refused = post_on(second, f"/staff/messages/{public_id}", "reply", body="carl-draft-778 my answer")
    answer = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Cora holds this thread, so your reply was not sent" in answer and "carl-draft-778 my answer" in answer
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    # Claiming does not take it either, without saying so.
    post_on(second, f"/staff/messages/{public_id}", "claim")
    with app.app_context():
        assert db.session.scalar(select(Conversation.assigned_to_id)) == cora.id

    # Knowing, Carl takes it over explicitly; it is audited, and Cora sees who holds it now.
    taken = post_on(second, f"/staff/messages/{public_id}", "reply", body="carl-draft-778 my answer", take_over="y")
    assert taken.status_code == 302
    assert "Carl holds this thread" in first.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    from tests.conftest import audit_actions

    assert "conversation.taken_over" in audit_actions(app)


def test_the_service_refuses_a_second_counsellor_on_both_databases(app, make_staff):
    from service.auth.models import StaffMember

    cora, carl = make_staff("cora", roles=("counsellor",)), make_staff("carl", roles=("counsellor",))
    with app.app_context():
        with db.transaction() as session:
            thread = services.open_conversation(session, key_id=None, body="hello", language="en",
                                                reply_promise_days=3)
            services.post_message(session, thread, "staff", "first answer", staff=session.get(StaffMember, cora.id))
        with db.transaction() as session:
            thread = session.get(Conversation, thread.id)
            try:
                services.post_message(session, thread, "staff", "second answer", staff=session.get(StaffMember, carl.id))
            except services.HeldByAnother as held:
                assert held.holder.username == "cora"
            else:
                raise AssertionError("a second counsellor answered a thread held by another")


def test_an_urgent_message_request_becomes_a_two_way_thread(seeded, make_staff, mail_server):
    app = seeded
    visitor = app.test_client()
    page = visitor.get("/help-now/contact").get_data(as_text=True)
    opened = visitor.post("/help-now/contact", data={"csrf_token": csrf_token_from(page), "channel": "message",
                                                     "contact": "", "time_window": "soon", "language": "en",
                                                     "message": "urgent-thread-4242 I am frightened"})
    code = re.search(r'id="case-code"><code>([0-9A-Z-]+)</code>', opened.get_data(as_text=True)).group(1)
    assert b"urgent-thread-4242" not in every_row(app)
    [public_id] = thread_ids(app)

    duty = app.test_client()
    sign_in(duty, make_staff("dora", roles=("duty",)))
    reference = re.search(r'href="/staff/duty/([0-9A-F]+)"', duty.get("/staff/duty/").get_data(as_text=True)).group(1)
    assert f"/staff/messages/{public_id}" in duty.get(f"/staff/duty/{reference}").get_data(as_text=True)
    assert "urgent-thread-4242" in duty.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    post_on(duty, f"/staff/messages/{public_id}", "reply", body="We are here with you. Can you tell us more?")

    # Later, in another browser, with the case code only.
    later = app.test_client()
    status_page = later.get("/help-now/contact/status").get_data(as_text=True)
    status = later.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(status_page), "code": code})
    assert f"/talk/{public_id}" in status.get_data(as_text=True)
    thread = later.get(f"/talk/{public_id}").get_data(as_text=True)
    assert "We are here with you." in thread
    assert post_on(later, f"/talk/{public_id}", "answer", body="Thank you. Yes.").status_code == 302
    assert "Thank you. Yes." in duty.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    # Without the code, nothing.
    assert app.test_client().get(f"/talk/{public_id}").status_code == 404
