"""/healthz says whether the database answers, and the app recovers by itself."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import POSTGRES_URL, make_test_app, on_postgres
from tests.support.tcp_proxy import TcpProxy


def comes_back(client, seconds: float = 20) -> bool:
    """The portal recovers by itself: /healthz answers 200 again, once the breaker's
    next probe (service.db.PROBE_EVERY_SECONDS) has passed, with no restart."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get("/healthz").status_code == 200:
            return True
        time.sleep(0.2)
    return False


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_answers_503_then_recovers_when_the_database_returns(tmp_path, postgres_schema):
    proxy = None
    if on_postgres():
        parts = urlsplit(POSTGRES_URL)
        proxy = TcpProxy(parts.hostname, parts.port or 5432)
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
        app = make_test_app(tmp_path, database_url=urlunsplit(parts._replace(netloc=netloc)))
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        proxy.cut()
    else:
        # A database file in a folder that does not exist yet cannot be opened.
        folder = tmp_path / "not-yet"
        app = make_test_app(tmp_path, database_url=f"sqlite:///{folder / 'pause.db'}")
        client = app.test_client()
    try:
        down = client.get("/healthz", headers={"Accept-Language": "fr"})
        assert down.status_code == 503
        page = down.get_data(as_text=True)
        assert "Traceback" not in page and "sqlalchemy" not in page.lower()
        assert 'lang="fr"' in page
        assert "indisponible" in page  # the translated page, not an English fallback
        for path in ("/self-help/", "/booking/", "/check/"):
            assert client.get(path, headers={"Accept-Language": "fr"}).status_code == 503, path
        # Help comes first: the home page and the crisis page still answer, with 112.
        assert client.get("/").status_code == 200
        crisis = client.get("/help-now")
        assert crisis.status_code == 200 and 'id="resources-unavailable"' in crisis.get_data(as_text=True)

        if proxy:
            proxy.restore()
        else:
            folder.mkdir()
        assert comes_back(client)
    finally:
        if proxy:
            proxy.close()
        with app.app_context():
            from service.db import db

            db.engine.dispose()


def test_pages_answer_a_translated_503_while_the_database_is_away(tmp_path):
    app = make_test_app(tmp_path, database_url=f"sqlite:///{tmp_path / 'missing' / 'pause.db'}")
    response = app.test_client().get("/self-help/", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "unavailable" in response.get_data(as_text=True)
    with app.app_context():
        from service.db import db

        db.engine.dispose()
