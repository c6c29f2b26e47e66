"""The portal keeps serving when what it leans on fails: Redis for rate limits, the mail
server (see test_urgent_contact), the database refusing (see test_healthz) or hanging."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from content.seeding import seed_all
from service.db import db
from service.models import metadata
from tests.conftest import POSTGRES_URL, csrf_token_from, empty_postgres, make_test_app, on_postgres
from tests.service.test_healthz import comes_back
from tests.support.tcp_proxy import TcpProxy


def test_with_redis_down_pages_serve_and_rate_limits_fall_back_to_the_process(tmp_path, postgres_schema):
    app = make_test_app(tmp_path, redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with app.app_context():
            if not on_postgres():
                metadata.create_all(db.engine)
        client = app.test_client()
        assert client.get("/").status_code == 200
        token = csrf_token_from(client.get("/key/").get_data(as_text=True))
        answers = [client.post("/key/open", data={"csrf_token": token, "key": "ABCD-EFGH-JKMN-PQRS-TVWX"}).status_code
                   for _ in range(11)]
        assert answers == [422] * 10 + [429]
    finally:
        with app.app_context():
            db.engine.dispose()


PAGES = ("/", "/self-help/", "/self-help/understanding-your-thoughts",
         "/self-help/understanding-your-thoughts/thoughts-are-not-actions", "/check/", "/check/wellbeing/",
         "/booking/", "/booking/manage", "/help-now", "/about", "/privacy", "/confidentiality", "/key/",
         "/staff/login", "/healthz")


@pytest.mark.skipif(not on_postgres(), reason="a database server that hangs is a PostgreSQL server")
def test_a_database_that_hangs_is_found_out_once_and_every_page_then_answers_at_once(tmp_path, postgres_schema,
                                                                                      monkeypatch):
    from service import db as database

    monkeypatch.setattr(database, "PROBE_EVERY_SECONDS", 4.0)
    parts = urlsplit(POSTGRES_URL)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    app = make_test_app(tmp_path, database_url=urlunsplit(parts._replace(
        netloc=f"{parts.username}@127.0.0.1:{proxy.port}")))
    try:
        with app.app_context(), db.transaction() as session:
            seed_all(session)
        client = app.test_client()
        for path in PAGES:
            assert client.get(path).status_code == 200, path

        proxy.stall()
        # The first request to need the database waits for the connect timeout (2 s), not
        # for ever, and gets the translated page.
        started = time.monotonic()
        first = client.get("/check/", headers={"Accept-Language": "fr"})
        assert first.status_code == 503 and 'lang="fr"' in first.get_data(as_text=True)
        assert time.monotonic() - started < 20, "no hang: gunicorn would kill the worker at 30 s"

        # Every other page is answered at once: none of them tries the hanging server.
        attempts = proxy.attempts
        for path in PAGES:
            response = client.get(path, headers={"Accept-Language": "fr"})
            page = response.get_data(as_text=True)
            assert response.status_code in (200, 503), path
            assert "Traceback" not in page and "psycopg" not in page.lower() and 'lang="fr"' in page, path
            if response.status_code == 503:
                assert "indisponible" in page, path
        assert proxy.attempts - attempts <= 1  # one real try at most, if the loop outlasted the pause

        proxy.restore()
        assert comes_back(client)
        for path in PAGES:
            assert client.get(path).status_code == 200, path
    finally:
        proxy.close()
        with app.app_context():
            db.engine.dispose()
        empty_postgres(postgres_schema)
