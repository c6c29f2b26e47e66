"""While the database is away: what the visitor wrote is kept, the phone lines come
first, help-now shows the lines it knows, and nothing answers the server's plain 500."""

from __future__ import annotations

import pytest

from service.db import db
from tests.conftest import csrf_token_from, make_test_app

MESSAGE = "canary-kept-7731 I need to talk to someone"


@pytest.fixture
def away(tmp_path):
    """An app whose database cannot be reached (its folder does not exist)."""
    app = make_test_app(tmp_path, database_url=f"sqlite:///{tmp_path / 'missing' / 'pause.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_an_urgent_request_posted_while_the_database_is_away_is_kept_on_the_page_with_the_lines_first(away):
    client = away.test_client()
    page = client.get("/help-now/contact", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    response = client.post("/help-now/contact", headers={"Accept-Language": "fr"}, data={
        "csrf_token": csrf_token_from(page), "channel": "phone", "contact": "+32 470 11 22 33",
        "time_window": "evening", "language": "fr", "message": MESSAGE})
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and 'lang="fr"' in text
    assert MESSAGE in text and "+32 470 11 22 33" in text  # given back, to send again
    assert 'value="evening" checked' in text or 'checked value="evening"' in text or "evening" in text
    assert 'action="/help-now/contact"' in text and 'name="csrf_token"' in text
    # The phone lines come before the form: 112 and the lines for French speakers.
    assert text.index("tel:112") < text.index(MESSAGE)
    assert 'href="tel:080032123"' in text  # Centre de prévention du suicide (Belgium, French), as shipped
    assert "Content-Security-Policy" in response.headers and response.headers["Cache-Control"] == "no-store"


def test_help_now_shows_the_shipped_lines_while_the_database_is_away(away):
    page = away.test_client().get("/help-now", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="resources-unavailable"' in text
    assert 'href="tel:116123"' in text or "Samaritans" in text  # a UK line, from content/seed


def test_anything_escaping_flask_gets_the_translated_503_with_our_headers_never_a_plain_500(tmp_path):
    app = make_test_app(tmp_path)

    def failing_extension(_error):  # an extension whose clean-up fails
        raise RuntimeError("clean-up failed")

    # Registered first, so it runs last (Flask runs clean-ups in reverse): the database
    # session's own clean-up still runs and its connection goes back to the pool.
    app.teardown_appcontext_funcs.insert(0, failing_extension)

    response = app.test_client().get("/help-now", headers={"Accept-Language": "fr"})
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Internal Server Error" not in text and 'lang="fr"' in text and "tel:112" in text
    assert "indisponible" in text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
