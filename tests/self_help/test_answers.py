"""A key holder keeps answers, encrypted; downloads them; forgets them for good."""

from __future__ import annotations

from sqlalchemy import select

from self_help.models import ExerciseAnswer, StepProgress
from service.db import db
from tests.conftest import csrf_token_from, every_row
from tests.service.test_anonymous_keys import create_key_through_the_page

MODULE = "understanding-your-thoughts"
REFLECTION = f"/self-help/{MODULE}/noticing-patterns"
CHECKLIST = "/self-help/managing-urges-and-risky-situations/your-safety-plan"


def save(client, path: str, **fields):
    page = client.get(path).get_data(as_text=True)
    return client.post(f"{path}/answer", data={"csrf_token": csrf_token_from(page), **fields})


def test_a_saved_answer_is_encrypted_at_rest_and_shown_again(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    marker = "canary-reflection-7f3a"
    response = save(client, REFLECTION, text=f"I notice {marker} in the evening")
    assert response.status_code == 302
    assert marker in client.get(REFLECTION).get_data(as_text=True)
    assert marker.encode() not in every_row(seeded)
    with seeded.app_context():
        assert len(db.session.scalars(select(ExerciseAnswer)).all()) == 1


def test_checklist_answers_keep_the_ticked_items(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    assert save(client, CHECKLIST, ticked=["0", "2"]).status_code == 302
    page = client.get(CHECKLIST).get_data(as_text=True)
    assert 'value="0" id="item-0" checked' in page and 'value="2" id="item-2" checked' in page
    assert 'value="1" id="item-1" checked' not in page


def test_a_checklist_item_that_does_not_exist_is_refused(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    response = save(client, CHECKLIST, ticked=["0", "999"])
    assert response.status_code == 422
    assert "Please choose items from the list" in response.get_data(as_text=True)


def test_a_too_long_answer_is_refused_clearly_and_the_text_is_not_lost(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    long_text = "word " * 1200
    response = save(client, REFLECTION, text=long_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "6000 characters long" in page
    assert long_text.strip() in page
    with seeded.app_context():
        assert db.session.scalars(select(ExerciseAnswer)).all() == []


def test_control_characters_are_refused_without_losing_the_text(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    response = save(client, REFLECTION, text="before\x07after")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "characters we cannot keep" in page and "before" in page and "after" in page


def test_progress_made_before_creating_a_key_moves_onto_the_key(seeded):
    client = seeded.test_client()
    first = f"/self-help/{MODULE}/thoughts-are-not-actions"
    client.post(f"{first}/done", data={"csrf_token": csrf_token_from(client.get(first).get_data(as_text=True))})
    create_key_through_the_page(client)
    with seeded.app_context():
        assert len(db.session.scalars(select(StepProgress)).all()) == 1


def test_answers_download_as_a_text_file(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    save(client, REFLECTION, text="downloadable-answer-91")
    save(client, CHECKLIST, ticked=["1"])
    response = client.get("/self-help/my-answers.txt")
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-answers.txt"'
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "downloadable-answer-91" in body and "[x] " in body


def test_download_without_a_key_leads_to_the_key_page(seeded):
    response = seeded.test_client().get("/self-help/my-answers.txt")
    assert response.status_code == 302 and response.headers["Location"] == "/key/"


def test_forget_me_erases_answers_and_progress(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    save(client, REFLECTION, text="to-be-forgotten")
    token = csrf_token_from(client.get("/key/forget").get_data(as_text=True))
    client.post("/key/forget", data={"csrf_token": token})
    with seeded.app_context():
        assert db.session.scalars(select(ExerciseAnswer)).all() == []
        assert db.session.scalars(select(StepProgress)).all() == []
