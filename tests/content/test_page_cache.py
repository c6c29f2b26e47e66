"""Pages built from published content are rendered once and shared by every visitor they
say nothing about; each visitor still gets their own CSRF token and their own progress,
and a publish shows at once."""

from __future__ import annotations

import re
import time

from flask import request, request_started
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


# SharedPageServer: a first visit to a shared page is answered before Flask builds a request.

def count_flask_requests(app) -> list[str]:
    """The paths of the requests Flask itself handles from now on."""
    seen: list[str] = []

    def note(sender, **_extra) -> None:
        seen.append(request.path)

    request_started.connect(note, app, weak=False)
    return seen


def cookie_value(response) -> str:
    return response.headers["Set-Cookie"].split(";", 1)[0]


def test_a_second_first_visit_is_answered_from_memory_exactly_as_flask_answered_the_first(seeded):
    through_flask = count_flask_requests(seeded)
    first = seeded.test_client().get(STEP)
    second = seeded.test_client().get(STEP)
    assert through_flask == [STEP]
    assert first.status_code == second.status_code == 200
    assert without_token(first.get_data(as_text=True)) == without_token(second.get_data(as_text=True))
    assert csrf_token_from(first.get_data(as_text=True)) != csrf_token_from(second.get_data(as_text=True))
    assert cookie_value(first) != cookie_value(second)

    def comparable(response):
        headers = dict(response.headers)
        headers["Set-Cookie"] = headers["Set-Cookie"].split(";", 1)[1]  # attributes, not the value
        headers["Content-Length"] = str(len(without_token(response.get_data(as_text=True))))
        return headers

    assert comparable(first) == comparable(second)
    assert "Content-Security-Policy" in second.headers and second.headers["Cache-Control"] == "no-store"


def test_the_token_and_session_made_before_flask_work_for_that_visitor_only(seeded):
    seeded.test_client().get(STEP)  # Flask renders and records the page
    through_flask = count_flask_requests(seeded)
    visitor, other = seeded.test_client(), seeded.test_client()
    page = visitor.get(STEP).get_data(as_text=True)
    other.get(STEP)
    assert through_flask == []
    assert other.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(page)}).status_code == 400
    assert visitor.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(page)}).status_code == 302
    assert through_flask == [f"{STEP}/done", f"{STEP}/done"]


def test_each_language_and_scheme_is_answered_from_memory_as_flask_would(seeded):
    headers = ["fr-BE,fr;q=0.9,en;q=0.5", "de-DE,de;q=0.9", "", "nl,fr;q=0.5,en;q=0.4", "*", "FR"]
    flask_made = {}
    for value in headers:
        for scheme in ("http", "https"):
            response = seeded.test_client().get("/about", headers={"Accept-Language": value},
                                                base_url=f"{scheme}://localhost")
            flask_made[value, scheme] = response.get_data(as_text=True), response.headers.get(
                "Strict-Transport-Security")
    through_flask = count_flask_requests(seeded)
    for (value, scheme), (page, hsts) in flask_made.items():
        response = seeded.test_client().get("/about", headers={"Accept-Language": value},
                                            base_url=f"{scheme}://localhost")
        assert (response.get_data(as_text=True), response.headers.get("Strict-Transport-Security")) == (page, hsts)
        assert (hsts is not None) == (scheme == "https")
    assert through_flask == []
    assert 'lang="fr"' in flask_made["FR", "http"][0] and 'lang="en"' in flask_made["de-DE,de;q=0.9", "http"][0]


def test_visitors_with_a_session_a_query_or_a_post_always_reach_flask(seeded):
    seeded.test_client().get(STEP)
    through_flask = count_flask_requests(seeded)
    returning = seeded.test_client()
    page = returning.get(STEP).get_data(as_text=True)  # from memory; it sets the session cookie
    returning.get(STEP)
    seeded.test_client().get(f"{STEP}?utm=1")
    returning.post(f"{STEP}/done", data={"csrf_token": csrf_token_from(page)})
    assert through_flask == [STEP, STEP, f"{STEP}/done"]


def test_a_change_to_published_content_in_this_process_is_seen_by_the_next_first_visit(seeded):
    seeded.test_client().get("/about")
    assert "Rewritten about page" not in seeded.test_client().get("/about").get_data(as_text=True)
    # The rows a publish writes, through this process's own session, as the staff pages do.
    with seeded.app_context(), db.transaction() as session:
        page_id = session.scalar(select(Page.id).where(Page.slug == "about"))
        session.scalar(select(PageText).where(PageText.page_id == page_id, PageText.locale == "en")).title = (
            "Rewritten about page")
        session.scalar(select(ContentVersion).where(ContentVersion.kind == "page", ContentVersion.slug == "about",
                                                    ContentVersion.state == "published")).state = "superseded"
    assert "Rewritten about page" in seeded.test_client().get("/about").get_data(as_text=True)


def test_the_ready_pages_are_bounded_by_the_pages_that_exist(seeded):
    client_paths = [f"/self-help/{MODULE}/no-such-step-{number}" for number in range(30)]
    for path in client_paths:
        assert seeded.test_client().get(path).status_code == 404
    server = seeded.extensions["pause_shared_pages"]
    assert server.pages == {}
    seeded.test_client().get("/")
    assert [key[2] for key in server.pages] == ["/"]


def test_visitors_arriving_together_at_a_page_out_of_date_wait_for_one_rendering(seeded):
    import threading

    from flask import before_render_template

    renderings = []

    def slow_rendering(sender, template, context, **_extra) -> None:
        if template.name == "home.html":
            renderings.append(template.name)
            time.sleep(0.3)  # long enough for every visitor below to arrive meanwhile

    before_render_template.connect(slow_rendering, seeded, weak=False)
    together = threading.Barrier(6)
    answers = []

    def visit() -> None:
        client = seeded.test_client()
        together.wait()
        answers.append(client.get("/", headers={"Accept-Language": "en"}).status_code)

    visitors = [threading.Thread(target=visit) for _ in range(6)]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join(30)
    assert answers == [200] * 6
    assert renderings == ["home.html"]
