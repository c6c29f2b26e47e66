"""Visitor sessions on the server: the cookie holds a random id only, the data is sealed
in the database (or Redis), a first visit stores nothing, and closing a key, forgetting
it, quick exit and the idle timeout end the session at once, so a copied cookie opens
nothing. Each test runs with the database store and with a Redis of its own."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import redis
from sqlalchemy import func, select

from service import sessions
from service.clock import clock
from service.db import db
from tests.conftest import app_on_empty_database, csrf_token_from, make_test_app, on_postgres, seed
from tests.service.test_anonymous_keys import create_key_through_the_page
from tests.support.private_redis import PrivateRedis

MODULE, STEP = "understanding-your-thoughts", "thoughts-are-not-actions"
ANSWER = "marker-session-answer-5521 the evenings are the hardest"


@pytest.fixture(scope="module")
def redis_server():
    # A redis-server of this file's own: the SQLite and PostgreSQL suites run side by side
    # (.ci/run), and a shared database on the machine's Redis let one count the other's.
    try:
        server = PrivateRedis().start()
    except RuntimeError:
        pytest.skip("redis-server is not installed")
    yield server
    server.close()


@pytest.fixture(params=["database", "redis"])
def portal(request, tmp_path, postgres_schema):
    redis_url = None
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_server").url(11)
        with redis.Redis.from_url(redis_url) as connection:
            connection.flushdb()
    with app_on_empty_database(tmp_path, postgres_schema) as app:
        if redis_url:
            # The same app, with its sessions in Redis (what PAUSE_REDIS_URL gives).
            app = make_test_app(tmp_path, redis_url=redis_url)
        seed(app)
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()  # before the tables are emptied (PostgreSQL)


def stored(app) -> int:
    with app.app_context():
        return sessions.stored_count()


def cookie_of(client) -> str | None:
    cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def copy_of(app, client):
    """Another browser holding a copy of this one's cookie (a copied or inspected device)."""
    copy = app.test_client()
    copy.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie_of(client))
    return copy


def key_is_open(client) -> bool:
    return "Close my key" in client.get("/key/").get_data(as_text=True)


def test_the_cookie_holds_only_a_random_id_and_the_store_only_sealed_data(portal):
    client = portal.test_client()
    create_key_through_the_page(client)
    page = client.get(f"/self-help/{MODULE}/noticing-patterns").get_data(as_text=True)
    client.post(f"/self-help/{MODULE}/noticing-patterns/answer", data={"csrf_token": csrf_token_from(page),
                                                                     "text": ANSWER})
    page = client.get("/check/wellbeing/1").get_data(as_text=True)
    option = re.search(r'name="answer" id="answer-[^"]+" value="([^"]+)"', page)
    client.post("/check/wellbeing/1", data={"csrf_token": csrf_token_from(page), "answer": option.group(1),
                                            "go": "next"})
    value = cookie_of(client)
    # 32 random bytes, URL-safe: nothing to decode, no signature with a payload in it.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    decoded = base64.urlsafe_b64decode(value + "=")
    # (Random bytes hold a "{" one time in eight: the test looks for words, not for one byte.)
    assert len(decoded) == 32 and b"key_id" not in decoded and b"check" not in decoded
    assert stored(portal) == 1
    # The store holds the data sealed, under a hash of the id: neither id nor data readable.
    with portal.app_context():
        if isinstance(sessions.store(), sessions.DatabaseStore):
            rows = db.session.execute(select(sessions.VisitorSession.__table__)).all()
            raw = b"".join(repr(tuple(row)).encode() for row in rows)
        else:
            connection = sessions.store().redis
            raw = b"".join(connection.get(key) + key for key in connection.scan_iter(sessions.REDIS_PREFIX + "*"))
    assert raw
    for secret in (value.encode(), b"key_id", b'"' + option.group(1).encode() + b'"', b"noticing", b"check"):
        assert secret not in raw


@pytest.mark.parametrize("ending", ["close", "forget", "quick-exit", "idle"])
def test_a_copied_cookie_stops_working_when_the_session_ends(portal, ending):
    client = portal.test_client()
    create_key_through_the_page(client)
    page = client.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True)
    client.post(f"/self-help/{MODULE}/{STEP}/done", data={"csrf_token": csrf_token_from(page)})
    copy = copy_of(portal, client)
    assert key_is_open(copy), "the copy works while the session lasts"
    assert 'value="1"' in copy.get(f"/self-help/{MODULE}").get_data(as_text=True)
    copy = copy_of(portal, client)
    if ending == "close":
        token = csrf_token_from(client.get("/key/").get_data(as_text=True))
        client.post("/key/close", data={"csrf_token": token})
    elif ending == "forget":
        token = csrf_token_from(client.get("/key/forget").get_data(as_text=True))
        response = client.post("/key/forget", data={"csrf_token": token})
        assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    elif ending == "quick-exit":
        response = client.get("/exit")
        assert response.status_code == 302
        assert response.headers["Location"] == portal.config["PAUSE"].quick_exit_url
        assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    else:
        clock.advance(dt.timedelta(minutes=portal.config["PAUSE"].session_idle_minutes, seconds=1))
    assert not key_is_open(copy)
    assert 'value="0"' in copy.get(f"/self-help/{MODULE}").get_data(as_text=True), "no progress either"
    assert stored(portal) == (1 if ending == "close" else 0)  # closing keeps a "key closed" message


# Ten thousand real requests: minutes on a loaded machine, not the suite's usual 240 s.
@pytest.mark.timeout(1200)
def test_ten_thousand_first_visits_store_no_session(portal, request):
    if not on_postgres() and request.node.callspec.params["portal"] == "redis":
        # Sessions in Redis do not touch the SQL database: this minute-long flood runs
        # once for them, in the PostgreSQL suite (the SQLite one also drives the browser).
        pytest.skip("the Redis store's flood runs once, in the PostgreSQL suite")
    client = portal.test_client(use_cookies=False)
    pages = ["/", "/self-help/", f"/self-help/{MODULE}", f"/self-help/{MODULE}/{STEP}", "/about", "/help-now",
             "/check/", "/key/", "/booking/"]
    for number in range(10_000):
        assert client.get(pages[number % len(pages)]).status_code == 200
    assert stored(portal) == 0


def test_a_page_with_a_form_sets_only_an_id_and_its_token_works_without_storage(portal):
    client = portal.test_client()
    assert client.get("/").headers.get("Set-Cookie") is None, "a page without forms sets no cookie"
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    assert cookie_of(client) is not None and stored(portal) == 0
    # Nothing stored, and the token still checks: the form does what it says.
    response = client.post("/key/new", data={"csrf_token": token})
    assert response.status_code == 200 and stored(portal) == 1


def test_an_id_from_before_the_session_was_stored_opens_nothing(portal):
    client = portal.test_client()
    csrf_token_from(client.get("/key/").get_data(as_text=True))
    early = cookie_of(client)
    create_key_through_the_page(client)
    assert cookie_of(client) != early
    planted = portal.test_client()
    planted.set_cookie(portal.config["SESSION_COOKIE_NAME"], early)
    assert not key_is_open(planted)


def test_reading_moves_the_idle_timeout_on_without_writing_each_page(portal):
    client = portal.test_client()
    create_key_through_the_page(client)
    idle = dt.timedelta(minutes=portal.config["PAUSE"].session_idle_minutes)
    for _ in range(3):
        clock.advance(idle - dt.timedelta(minutes=1))
        assert key_is_open(client), "a visitor who keeps reading keeps their session"
    clock.advance(idle + dt.timedelta(seconds=1))
    assert not key_is_open(client)


def test_expired_sessions_are_purged(portal):
    client = portal.test_client()
    create_key_through_the_page(client)
    assert stored(portal) == 1
    clock.advance(dt.timedelta(minutes=portal.config["PAUSE"].session_idle_minutes, seconds=1))
    with portal.app_context():
        from service.jobs import JOBS

        purged = JOBS["purge-visitor-sessions"]()
        if isinstance(sessions.store(), sessions.DatabaseStore):
            assert purged == 1
            assert db.session.scalar(select(func.count()).select_from(sessions.VisitorSession)) == 0
        else:
            # Redis drops it by its own TTL; the record says it expired, so it opens nothing.
            assert purged == 0
    assert not key_is_open(client)


def test_the_registry_lists_visitor_sessions():
    from service.retention import REGISTRY

    entry = next(entry for entry in REGISTRY if entry.table == "visitor_sessions")
    assert entry.about == "visitor" and entry.age_column == "expires_at"


def test_quick_exit_works_without_a_session_and_without_javascript(seeded):
    client = seeded.test_client()
    page = client.get("/help-now").get_data(as_text=True)
    assert 'id="quick-exit" href="/exit"' in page
    response = client.get("/exit")
    assert response.status_code == 302 and response.headers["Location"] == seeded.config["PAUSE"].quick_exit_url


def test_staff_pages_do_not_give_esc_to_quick_exit(seeded):
    client = seeded.test_client()
    visitor_page = client.get("/").get_data(as_text=True)
    staff_page = client.get("/staff/login").get_data(as_text=True)
    assert 'data-escape-key="on"' in visitor_page and "or press Esc" in visitor_page
    assert 'data-escape-key' not in staff_page and "or press Esc" not in staff_page
    assert 'id="quick-exit" href="/exit"' in staff_page


def test_a_form_sent_from_another_site_is_refused_even_with_its_token(seeded):
    client = seeded.test_client()
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://elsewhere.example"}):
        response = client.post("/key/new", data={"csrf_token": token}, headers=headers)
        assert response.status_code == 400, headers
        assert "This form has expired" in response.get_data(as_text=True)
    # What browsers send for a form on this site (Origin is "null" under no-referrer).
    response = client.post("/key/new", data={"csrf_token": token},
                           headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert response.status_code == 200
    with seeded.app_context():
        assert sessions.stored_count() == 1
