"""Message threads, as scenarios: a visitor writes and gets a key, comes back, answers,
downloads and deletes; counsellors claim, answer, hand over, close; ids are checked
against the key; bad input keeps the text."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.conversations import services
from service.conversations.models import Conversation, Message
from service.db import db
from tests.conftest import audit_actions, csrf_token_from, sign_in


def write_first_message(client, text="I need to talk to someone about my thoughts.", **extra):
    page = client.get("/talk/").get_data(as_text=True)
    return client.post("/talk/", data={"csrf_token": csrf_token_from(page), "body": text, **extra})


def thread_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Conversation.public_id).order_by(Conversation.id)))


def test_a_first_message_gives_a_key_shown_once_and_the_thread_belongs_to_it(app, client):
    page = client.get("/talk/").get_data(as_text=True)
    assert "within 3 working days" in page and 'id="confidentiality-note"' in page
    response = write_first_message(client)
    assert response.status_code == 200
    key = re.search(r'id="anonymous-key"[^>]*><code>([A-Z0-9-]+)</code>', response.get_data(as_text=True)).group(1)
    [public_id] = thread_ids(app)
    assert client.get(f"/talk/{public_id}").status_code == 200
    # Another browser without the key sees nothing, not even that the thread exists.
    other = app.test_client()
    assert other.get(f"/talk/{public_id}").status_code == 404
    page = other.get("/key/").get_data(as_text=True)
    other.post("/key/open", data={"csrf_token": csrf_token_from(page), "key": key})
    assert other.get(f"/talk/{public_id}").status_code == 200
