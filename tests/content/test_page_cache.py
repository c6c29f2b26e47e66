"""Pages built from published content are rendered once and shared by every visitor they
say nothing about; each visitor still gets their own CSRF token and their own progress,
and a publish shows at once."""

from __future__ import annotations

import re
import time

from sqlalchemy import create_engine, select, update

from content import cache
from content.models import ContentVersion, Page, PageText
from service.db import db
from tests.conftest import csrf_token_from

MODULE = "understanding-your-thoughts"
STEP = f"/self-help/{MODULE}/thoughts-are-not-actions"


def without_token(page: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page)


def test_visitors_share_one_rendering_but_each_gets_a_token_of_their_own(seeded):
    first, second = seeded.test_client(), seeded.test_client()
    first_page = first.get(STEP).get_data(as_text=True)
    second_page = second.get(STEP).get_data(as_text=True)
    assert csrf_token_from(first_page) != csrf_token_from(second_page)
    assert "csrf-placeholder" not in first_page + second_page
    assert without_token(first_page) == without_token(second_page)
    with seeded.app_context():
        assert any(isinstance(key[2], tuple) and key[2][:2] == ("page", STEP) for key in cache._entries)

    # The token on the shared page is the visitor's own: it works for them and no one else.
    response = second.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(second_page)})
    assert response.status_code == 302
    refused = first.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(second_page)})
    assert refused.status_code == 400


def test_a_visitor_with_progress_sees_their_own_page_not_the_shared_one(seeded):
    reader, newcomer = seeded.test_client(), seeded.test_client()
    page = reader.get(STEP).get_data(as_text=True)
    reader.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(page)})
    mine = reader.get(f"/self-help/{MODULE}").get_data(as_text=True)
    shared = newcomer.get(f"/self-help/{MODULE}").get_data(as_text=True)
    assert without_token(mine) != without_token(shared)
    # ...and the newcomer's page, shared or not, shows nothing of the reader's progress.
    assert without_token(shared) == without_token(seeded.test_client().get(f"/self-help/{MODULE}")
                                                  .get_data(as_text=True))


def test_addresses_with_made_up_queries_do_not_fill_the_cache(seeded):
    client = seeded.test_client()
    client.get("/about")
    client.get("/booking/?language=en")
    with seeded.app_context():
        entries = len(cache._entries)
    for number in range(20):
        assert client.get(f"/about?junk={number}").status_code == 200
        assert client.get(f"/booking/?language=en&junk={number}&modality=x{number}").status_code == 200
    with seeded.app_context():
        assert len(cache._entries) == entries


def test_a_page_without_forms_makes_no_session(seeded):
    response = seeded.test_client().get("/about")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_each_language_has_its_own_copy(seeded):
    client = seeded.test_client()
    english = client.get(STEP, headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get(STEP, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="fr"' in french


def test_a_publish_from_another_process_shows_within_the_check_interval(seeded, monkeypatch):
    """Another process's publish does not pass through this one's session events; the
    generation is asked of the database again once the check interval has passed."""
    monkeypatch.setattr(cache, "GENERATION_CHECK_SECONDS", 0.2)
    client = seeded.test_client()
    assert "Published elsewhere" not in client.get("/about").get_data(as_text=True)
    with seeded.app_context():
        other_process = create_engine(db.engine.url)
        page_id = db.session.scalar(select(Page.id).where(Page.slug == "about"))
        live = db.session.scalar(select(ContentVersion.id).where(ContentVersion.kind == "page",
                                                                 ContentVersion.slug == "about",
                                                                 ContentVersion.state == "published"))
    # What a publish writes, written behind this process's back.
    versions, texts = ContentVersion.__table__, PageText.__table__
    with other_process.begin() as connection:
        connection.execute(update(texts).where(texts.c.page_id == page_id, texts.c.locale == "en")
                           .values(title="Published elsewhere"))
        connection.execute(update(versions).where(versions.c.id == live).values(state="superseded"))
    other_process.dispose()
    time.sleep(0.3)
    assert "Published elsewhere" in client.get("/about").get_data(as_text=True)


def test_the_cache_keeps_within_its_memory_budget(seeded, monkeypatch):
    monkeypatch.setattr(cache, "MAX_WEIGHT", 30_000)
    client = seeded.test_client()
    for path in ("/", "/about", "/privacy", "/confidentiality", "/self-help/", f"/self-help/{MODULE}", STEP):
        for language in ("en", "fr"):
            assert client.get(path, headers={"Accept-Language": language}).status_code == 200
    assert 0 < cache._total_weight <= 30_000
    assert cache._total_weight == sum(cache._weight(value) for value in cache._entries.values())
