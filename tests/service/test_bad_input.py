"""Bad input of any kind gets a clear 4xx page in the visitor's language; nothing is
stored; nothing crashes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking.models import Booking
from service.crisis.models import UrgentCase
from service.db import db
from service.visitor.models import AnonymousKey
from tests.conftest import csrf_token_from

NASTY = [
    "' OR 1=1 --",
    "'; DROP TABLE anonymous_keys; --",
    "{{ 7*7 }}",
    "{% raw %}{{ config }}{% endraw %}",
    "../../etc/passwd",
    "\u202e\u0000\u0007",
    "A" * 5000,
    "😀" * 300,
]
POST_FORMS = [
    ("/key/", "/key/open", "key"),
    ("/help-now/contact/status", "/help-now/contact/status", "code"),
    ("/booking/manage", "/booking/manage", "key"),
    ("/staff/login", "/staff/login", "username"),
]


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
@pytest.mark.parametrize(("page", "action", "field"), POST_FORMS, ids=[form[1] for form in POST_FORMS])
def test_hostile_text_in_any_field_gets_a_clear_answer_and_stores_nothing(seeded, page, action, field, value):
    client = seeded.test_client()
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    response = client.post(action, data={"csrf_token": token, field: value, "password": value},
                           headers={"Accept-Language": "fr"})
    assert 400 <= response.status_code < 500
    body = response.get_data(as_text=True)
    assert '<html lang="fr">' in body and "Traceback" not in body
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(AnonymousKey)) == 0


def test_template_syntax_typed_by_a_visitor_is_shown_back_as_text_never_run(seeded):
    client = seeded.test_client()
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    body = client.post("/key/open", data={"csrf_token": token, "key": "{{ 7*7 }}"}).get_data(as_text=True)
    assert 'value="{{ 7*7 }}"' in body


def test_an_oversize_body_is_refused_with_a_translated_413(seeded):
    client = seeded.test_client()
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    response = client.post("/key/open", data={"csrf_token": token, "key": "x" * 100_000},
                           headers={"Accept-Language": "fr"})
    assert response.status_code == 413
    assert '<html lang="fr">' in response.get_data(as_text=True)


def test_malformed_utf8_and_control_characters_are_refused_cleanly(seeded):
    client = seeded.test_client()
    token = csrf_token_from(client.get("/help-now/contact").get_data(as_text=True))
    body = b"csrf_token=" + token.encode() + b"&channel=phone&contact=%FF%FE%00&time_window=soon&language=en" \
        + b"&message=%C3%28%00%07"
    response = client.post("/help-now/contact", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400  # a NUL character is refused before anything else
    without_nul = body.replace(b"%00", b"")
    assert client.post("/help-now/contact", data=without_nul,
                       content_type="application/x-www-form-urlencoded").status_code == 422
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(UrgentCase)) == 0


@pytest.mark.parametrize("query", [
    "therapist=abc&start=20261124T0800", "therapist=1&start=yesterday", "therapist=1&start=20261399T9999",
    "therapist=99999&start=20261124T0800", "therapist=1%27%20OR%201=1&start=20261124T0800",
])
def test_invalid_booking_addresses_are_not_found(seeded, query):
    response = seeded.test_client().get(f"/booking/book?{query}", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert '<html lang="fr">' in response.get_data(as_text=True)
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/localtime", "", "UTC' OR '1"])
def test_an_unknown_time_zone_falls_back_to_brussels(seeded, zone):
    response = seeded.test_client().get("/booking/", query_string={"zone": zone})
    assert response.status_code == 200
    assert '<option selected>Europe/Brussels</option>' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/self-help/%2e%2e/%2e%2e/etc/passwd", "/self-help/..%2f..%2f", "/check/..%2F/1", "/check/wellbeing/-1",
    "/check/wellbeing/99999999999999999999", "/pages/..%2Fsecret", "/staff/content/module/x/versions/abc/edit",
    "/language/..%2F", "/help-now?region=../../x",
])
def test_traversal_and_malformed_addresses_are_not_found(seeded, path):
    response = seeded.test_client().get(path, headers={"Accept-Language": "fr"})
    assert response.status_code in (302, 404)
    assert "Traceback" not in response.get_data(as_text=True)


def test_wrong_http_methods_get_a_translated_page(seeded):
    response = seeded.test_client().delete("/self-help/", headers={"Accept-Language": "fr"})
    assert response.status_code == 405
    assert '<html lang="fr">' in response.get_data(as_text=True)
