"""Message threads, as scenarios: a visitor writes and gets a key, comes back, answers,
downloads and deletes; counsellors claim, answer, hand over, close; ids are checked
against the key; bad input keeps the text."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service.conversations.models import Conversation, Message
from service.db import db
from tests.conftest import audit_actions, csrf_token_from, every_row, sign_in

FIRST = "I need to talk to someone about thoughts I am ashamed of."


def write_first_message(client, text=FIRST, **extra):
    page = client.get("/talk/").get_data(as_text=True)
    return client.post("/talk/", data={"csrf_token": csrf_token_from(page), "body": text, **extra})


def key_from(response) -> str:
    return re.search(r'id="anonymous-key"[^>]*><code>([A-Z0-9-]+)</code>', response.get_data(as_text=True)).group(1)


def open_key(client, key: str):
    page = client.get("/key/").get_data(as_text=True)
    return client.post("/key/open", data={"csrf_token": csrf_token_from(page), "key": key})


def thread_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Conversation.public_id).order_by(Conversation.id)))


def post_on(client, page_path: str, action: str, **data):
    page = client.get(page_path).get_data(as_text=True)
    return client.post(f"{page_path}/{action}", data={"csrf_token": csrf_token_from(page), **data})


def test_the_page_explains_confidentiality_what_happens_next_and_the_promise_before_the_box(app, client):
    page = client.get("/talk/").get_data(as_text=True)
    box = page.index('name="body"')
    assert page.index('id="confidentiality-note"') < box and page.index('id="what-happens-next"') < box
    assert "within 3 working days" in page[:box]
    french = client.get("/talk/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "sous 3\u00a0jours ouvrables" in french


def test_a_first_message_gives_a_key_shown_once_and_the_thread_belongs_to_it(app, client):
    response = write_first_message(client)
    assert response.status_code == 200
    key = key_from(response)
    [public_id] = thread_ids(app)
    assert len(public_id) >= 22
    assert client.get(f"/talk/{public_id}").status_code == 200
    raw = every_row(app)
    assert FIRST.encode() not in raw, "sealed at rest"
    assert key.encode() not in raw and key.replace("-", "").encode() not in raw
    # Another browser without the key sees nothing, not even that the thread exists.
    other = app.test_client()
    assert other.get(f"/talk/{public_id}").status_code == 404
    assert other.get(f"/talk/{public_id}/download").status_code == 404
    open_key(other, key)
    assert FIRST in other.get(f"/talk/{public_id}").get_data(as_text=True)


def test_a_thread_id_of_another_key_is_refused_like_one_that_does_not_exist(app):
    first, second = app.test_client(), app.test_client()
    write_first_message(first)
    write_first_message(second, "Someone else's words.")
    mine, theirs = thread_ids(app)
    assert first.get(f"/talk/{theirs}").status_code == 404
    page = first.get(f"/talk/{mine}").get_data(as_text=True)
    refused = first.post(f"/talk/{theirs}/answer", data={"csrf_token": csrf_token_from(page), "body": "hello"})
    assert refused.status_code == 404
    refused = first.post(f"/talk/{theirs}/delete", data={"csrf_token": csrf_token_from(page)})
    assert refused.status_code == 404
    assert first.get("/talk/not-a-thread-id").status_code == 404
    assert len(thread_ids(app)) == 2


def test_a_message_over_4000_characters_is_refused_clearly_and_the_text_kept(app, client):
    long = "word " * 801  # 4,005 characters
    response = write_first_message(client, long)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "4004 characters long; the limit is 4000" in page
    assert long.strip() in page
    assert thread_ids(app) == []
    empty = write_first_message(client, "   ")
    assert empty.status_code == 422 and "Please write your message." in empty.get_data(as_text=True)


def test_a_wrong_notice_address_is_explained_and_nothing_is_lost(app, client):
    response = write_first_message(client, notice_address="not an address")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "does not look like an e-mail address" in page and FIRST in page and 'value="not an address"' in page


def test_the_visitor_answers_downloads_and_deletes_at_once(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    post_on(counsellor, f"/staff/messages/{public_id}", "claim")
    replied = post_on(counsellor, f"/staff/messages/{public_id}", "reply", body="Thank you for writing. I'm here.")
    assert replied.status_code == 302

    listing = client.get("/talk/").get_data(as_text=True)
    assert "1 new reply" in listing
    page = client.get(f"/talk/{public_id}").get_data(as_text=True)
    assert "Thank you for writing. I&#39;m here." in page and "unread-marker" in page
    assert "1 new reply" not in client.get("/talk/").get_data(as_text=True), "read once seen"

    answered = post_on(client, f"/talk/{public_id}", "answer", body="It helps to write it down.")
    assert answered.status_code == 302
    download = client.get(f"/talk/{public_id}/download")
    text = download.get_data(as_text=True)
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "text/plain"
    assert text.index(FIRST) < text.index("Thank you for writing") < text.index("It helps to write it down.")
    assert "Counsellor" in text and "cora" not in text.lower()

    deleted = post_on(client, f"/talk/{public_id}", "delete")
    assert deleted.status_code == 302
    assert thread_ids(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_key_holder_has_one_key_for_everything(app, client):
    from tests.service.test_anonymous_keys import create_key_through_the_page

    create_key_through_the_page(client)
    response = write_first_message(client)
    assert response.status_code == 302, "no second key"
    [public_id] = thread_ids(app)
    assert response.headers["Location"].endswith(f"/talk/{public_id}")
    write_first_message(client, "A second conversation.")
    with app.app_context():
        assert len(set(db.session.scalars(select(Conversation.key_id)))) == 1


def test_the_family_and_friends_box_is_seen_by_staff(app, client, make_staff):
    write_first_message(client, from_relative="y")
    [public_id] = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    assert "About someone close to them" in counsellor.get("/staff/messages/").get_data(as_text=True)
    assert 'id="from-relative"' in counsellor.get(f"/staff/messages/{public_id}").get_data(as_text=True)


def test_forgetting_the_key_takes_its_threads(app, client):
    write_first_message(client)
    page = client.get("/key/forget").get_data(as_text=True)
    client.post("/key/forget", data={"csrf_token": csrf_token_from(page)})
    assert thread_ids(app) == []


def test_floods_are_throttled_per_client_before_any_work(app, client):
    from dataclasses import replace

    app.config["PAUSE"] = replace(app.config["PAUSE"], conversation_message_rate_limit="3 per minute")
    for _ in range(3):
        write_first_message(client, "again")
    assert write_first_message(client, "again").status_code == 429
    assert len(thread_ids(app)) == 3


def test_floods_are_throttled_per_key_across_clients(app, make_staff):
    from dataclasses import replace

    app.config["PAUSE"] = replace(app.config["PAUSE"], conversation_message_rate_limit="3 per minute")
    first = app.test_client()
    key = key_from(write_first_message(first))
    [public_id] = thread_ids(app)
    post_on(first, f"/talk/{public_id}", "answer", body="two")
    # A second browser (the same key, a different client) shares the key's allowance.
    second = app.test_client()
    second.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    open_key(second, key)
    post_on(second, f"/talk/{public_id}", "answer", body="three")
    post_on(second, f"/talk/{public_id}", "answer", body="four")
    # The second client has sent two: only the key's allowance (three: two, three, four) is spent.
    assert post_on(second, f"/talk/{public_id}", "answer", body="five").status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 4


def test_each_reading_is_audited_once_per_visit_not_per_reload(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    account = make_staff("cora", roles=("counsellor",))
    counsellor = app.test_client()
    sign_in(counsellor, account)
    for _ in range(3):
        assert counsellor.get(f"/staff/messages/{public_id}").status_code == 200
    assert audit_actions(app).count("conversation.read") == 1
    # A new visit (signed in again) is a new reading.
    again = app.test_client()
    sign_in(again, account)
    again.get(f"/staff/messages/{public_id}")
    assert audit_actions(app).count("conversation.read") == 2


def test_tabs_claim_hand_over_and_close(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    cora, dan = make_staff("cora", roles=("counsellor",)), make_staff("dan", roles=("duty",))
    counsellor = app.test_client()
    sign_in(counsellor, cora)

    def in_tab(tab: str) -> bool:
        return f"/staff/messages/{public_id}" in counsellor.get(f"/staff/messages/?tab={tab}").get_data(as_text=True)

    assert in_tab("unassigned") and not in_tab("mine")
    post_on(counsellor, f"/staff/messages/{public_id}", "claim")
    assert in_tab("mine") and not in_tab("unassigned")
    post_on(counsellor, f"/staff/messages/{public_id}", "reply", body="Hello, I'm reading.")
    assert in_tab("waiting")
    post_on(counsellor, f"/staff/messages/{public_id}", "hand-over", to=str(dan.id))
    assert not in_tab("mine")
    duty = app.test_client()
    sign_in(duty, dan)
    assert "Dan" in duty.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    post_on(duty, f"/staff/messages/{public_id}", "close")
    assert in_tab("closed")
    assert {"conversation.claimed", "conversation.handed_over", "conversation.closed"} <= set(audit_actions(app))
    # The visitor can still write, and the thread opens again.
    post_on(client, f"/talk/{public_id}", "answer", body="One more thing.")
    assert in_tab("unassigned") is False and not in_tab("closed")


def test_internal_notes_are_sealed_and_never_shown_to_the_visitor(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor",)))
    post_on(counsellor, f"/staff/messages/{public_id}", "note", body="note-marker-5521 follow up gently")
    assert "note-marker-5521" in counsellor.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    assert b"note-marker-5521" not in every_row(app)
    assert "note-marker-5521" not in client.get(f"/talk/{public_id}").get_data(as_text=True)
    assert "note-marker-5521" not in client.get(f"/talk/{public_id}/download").get_data(as_text=True)


def test_a_thread_becomes_an_urgent_case_in_one_step_linked_both_ways(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    counsellor = app.test_client()
    sign_in(counsellor, make_staff("cora", roles=("counsellor", "duty")))
    post_on(counsellor, f"/staff/messages/{public_id}", "urgent")
    page = counsellor.get(f"/staff/messages/{public_id}").get_data(as_text=True)
    reference = re.search(r'href="/staff/duty/([0-9A-F]+)"', page).group(1)
    case_page = counsellor.get(f"/staff/duty/{reference}").get_data(as_text=True)
    assert f"/staff/messages/{public_id}" in case_page
    assert f"/staff/duty/{reference}" in counsellor.get("/staff/duty/").get_data(as_text=True)
    assert "conversation.made_urgent" in audit_actions(app)


def test_only_counsellors_and_duty_staff_see_messages(app, client, make_staff):
    write_first_message(client)
    [public_id] = thread_ids(app)
    for role, expected in (("therapist", 403), ("editor", 403), ("admin", 403), ("counsellor", 200), ("duty", 200)):
        staff = app.test_client()
        sign_in(staff, make_staff(f"as-{role}", roles=(role,)))
        assert staff.get(f"/staff/messages/{public_id}").status_code == expected, role
        assert staff.get("/staff/messages/").status_code == expected, role
