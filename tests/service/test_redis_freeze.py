"""A frozen Redis (its process stopped, its socket still open) must not stall the
rate-limited pages: each waits at most the short socket timeout, once, then the limits
fall back to the process, as when Redis is stopped (issue 20, finding 5)."""

from __future__ import annotations

import shutil
import time

import pytest

from service.db import db
from service.models import metadata
from tests.conftest import csrf_token_from, make_test_app, on_postgres
from tests.support.private_redis import PrivateRedis

KEY = "ABCD-EFGH-JKMN-PQRS-TVWX"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_a_frozen_redis_makes_no_request_wait_more_than_a_second(tmp_path, postgres_schema):
    redis = PrivateRedis().start()
    app = make_test_app(tmp_path, redis_url=redis.url(8))
    try:
        with app.app_context():
            if not on_postgres():
                metadata.create_all(db.engine)
        client = app.test_client()
        token = csrf_token_from(client.get("/key/").get_data(as_text=True))
        assert client.post("/key/open", data={"csrf_token": token, "key": KEY}).status_code == 422  # Redis counts
        # What the same request costs with Redis answering (checking a key is argon2id, and
        # the machine may be busy): the freeze may add less than a second to it.
        started = time.monotonic()
        client.post("/key/open", data={"csrf_token": token, "key": KEY})
        usual = time.monotonic() - started
        redis.freeze()
        waits, answers = [], []
        for _ in range(12):
            started = time.monotonic()
            answers.append(client.post("/key/open", data={"csrf_token": token, "key": KEY}).status_code)
            waits.append(time.monotonic() - started)
        # redis-py's defaults waited 5-10 s here; a gunicorn thread must not.
        assert max(waits) < usual + 1.0, (usual, waits)
        # The limit still holds, counted in the process while Redis is away.
        assert answers[-1] == 429 and set(answers) <= {422, 429}
    finally:
        redis.close()
        with app.app_context():
            db.engine.dispose()
