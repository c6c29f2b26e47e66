"""Anonymous keys: made by the server, shown once, stored only as an argon2id hash,
opened only within the rate limit."""

from __future__ import annotations

import math
import re

import pytest
from sqlalchemy import select

from service.db import db
from service.hashing import hashes_computed
from service.visitor import services
from service.visitor.models import AnonymousKey
from tests.conftest import csrf_token_from

KEY_PATTERN = re.compile(r"<code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})</code>")


def create_key_through_the_page(client) -> str:
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    page = client.post("/key/new", data={"csrf_token": token}).get_data(as_text=True)
    return KEY_PATTERN.search(page).group(1)


def test_a_key_carries_at_least_80_bits_and_reads_in_groups():
    key = services.generate_key()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", key)
    assert services.KEY_LENGTH * math.log2(len(services.ALPHABET)) >= 80
    assert len({services.generate_key() for _ in range(200)}) == 200


def test_typing_is_forgiving_of_case_spaces_and_look_alikes():
    assert services.normalise_key("abcd efgh-jkmn pqrs tvwx") == "ABCDEFGHJKMNPQRSTVWX"
    assert services.normalise_key("O0IL-0000-0000-0000-0000") == "00110000000000000000"
    for wrong in ("", "short", "ABCD-EFGH-JKMN-PQRS-TVWU", "ABCD-EFGH-JKMN-PQRS-TVWX-Y"):
        with pytest.raises(services.MalformedKey):
            services.normalise_key(wrong)


def test_only_the_argon2id_hash_is_stored(app, client):
    key = create_key_through_the_page(client)
    with app.app_context():
        stored = db.session.scalars(select(AnonymousKey)).all()
        assert len(stored) == 1
        assert len(stored[0].digest) == 32
        raw = b"".join(bytes(str(value), "utf8") for row in db.session.execute(select(AnonymousKey.__table__)).all()
                       for value in row)
        normalised = services.normalise_key(key)
        assert normalised.encode() not in raw and key.encode() not in raw


def test_a_key_opens_in_another_browser(app, client):
    key = create_key_through_the_page(client)
    other = app.test_client()
    token = csrf_token_from(other.get("/key/").get_data(as_text=True))
    response = other.post("/key/open", data={"csrf_token": token, "key": key.lower().replace("-", " ")},
                          follow_redirects=True)
    assert "Your key is open" in response.get_data(as_text=True)


@pytest.mark.parametrize(("typed", "message"), [
    ("ABCD-EFGH-JKMN-PQRS-TVWX", "We found no key like that"),
    ("not a key", "That is not a key"),
    ("", "Please type your key"),
])
def test_a_wrong_key_gets_a_clear_message_and_keeps_what_was_typed(client, typed, message):
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    response = client.post("/key/open", data={"csrf_token": token, "key": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f'value="{typed}"' in page or typed == ""
    assert 'aria-invalid="true"' in page


def test_a_wrong_key_message_is_translated(client):
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    response = client.post("/key/open", data={"csrf_token": token, "key": "ABCD-EFGH-JKMN-PQRS-TVWX"},
                           headers={"Accept-Language": "fr"})
    assert "Nous n" in response.get_data(as_text=True)


def test_opening_is_rate_limited_before_any_hash_is_computed(app, client):
    token = csrf_token_from(client.get("/key/").get_data(as_text=True))
    allowed = int(app.config["PAUSE"].key_open_rate_limit.split(" ")[0])
    for _ in range(allowed):
        assert client.post("/key/open", data={"csrf_token": token, "key": "ABCD-EFGH-JKMN-PQRS-TVWX"}).status_code == 422
    before = hashes_computed.value
    throttled = client.post("/key/open", data={"csrf_token": token, "key": "ABCD-EFGH-JKMN-PQRS-TVWX"},
                            headers={"Accept-Language": "fr"})
    assert throttled.status_code == 429
    assert "trop de tentatives" in throttled.get_data(as_text=True).lower()
    assert hashes_computed.value == before


def test_forget_me_deletes_the_key_and_clears_site_data(app, client):
    create_key_through_the_page(client)
    token = csrf_token_from(client.get("/key/forget").get_data(as_text=True))
    response = client.post("/key/forget", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    with app.app_context():
        assert db.session.scalars(select(AnonymousKey)).all() == []


def test_keys_unused_for_the_retention_period_are_erased(app):
    import datetime as dt

    from service.clock import clock

    with app.app_context():
        clock.freeze(dt.datetime(2026, 1, 1, 12))
        with db.transaction() as session:
            services.create_key(session)
        clock.advance(dt.timedelta(days=app.config["PAUSE"].anonymous_key_retention_days))
        with db.transaction() as session:
            assert services.erase_unused_keys(session, app.config["PAUSE"].anonymous_key_retention_days) == 0
        clock.advance(dt.timedelta(days=1))
        with db.transaction() as session:
            assert services.erase_unused_keys(session, app.config["PAUSE"].anonymous_key_retention_days) == 1
