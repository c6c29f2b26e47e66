"""Under the onion address (PAUSE_ONION_HOST, plain HTTP) the production portal sends
no HSTS and a session cookie without `Secure`; on the HTTPS site it announces the onion
address and keeps its `__Host-` cookie. Without an onion host nothing changes."""

from __future__ import annotations

import pytest

from service.db import db
from service.models import metadata
from tests.conftest import make_test_app

ONION = "pausetestonion" + "a" * 38 + "2345.onion"


@pytest.fixture
def production(tmp_path):
    app = make_test_app(tmp_path, env="production", onion_host=ONION,
                        database_url=f"sqlite:///{tmp_path / 'onion.db'}")
    with app.app_context():
        metadata.create_all(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_under_the_onion_host_the_cookie_has_no_secure_flag_and_there_is_no_hsts(production):
    response = production.test_client().get("/key/", base_url=f"http://{ONION}")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("pause-onion=") and "Secure" not in cookie and "HttpOnly" in cookie
    assert "Strict-Transport-Security" not in response.headers and "Onion-Location" not in response.headers


def test_the_session_holds_under_the_onion_host(production):
    client = production.test_client()
    client.get("/language/fr?next=/", base_url=f"http://{ONION}")
    assert 'lang="fr"' in client.get("/", base_url=f"http://{ONION}").get_data(as_text=True)


def test_the_https_site_keeps_its_host_cookie_and_announces_the_onion_address(production):
    response = production.test_client().get("/key/?x=1", base_url="https://pause.example.org")
    assert response.headers["Set-Cookie"].startswith("__Host-pause=") and "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Onion-Location"] == f"http://{ONION}/key/?x=1"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_another_host_over_http_is_not_the_onion_site(production):
    response = production.test_client().get("/key/", base_url="http://pause.example.org")
    assert response.headers["Set-Cookie"].startswith("__Host-pause=")


def test_without_an_onion_host_there_is_no_onion_location(tmp_path):
    app = make_test_app(tmp_path, database_url=f"sqlite:///{tmp_path / 'plain.db'}")
    with app.app_context():
        metadata.create_all(db.engine)
    try:
        assert "Onion-Location" not in app.test_client().get("/", base_url="https://localhost").headers
    finally:
        with app.app_context():
            db.engine.dispose()
