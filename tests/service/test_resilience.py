"""The portal keeps serving when what it leans on fails: Redis for rate limits, the mail
server (see test_urgent_contact), the database (see test_healthz)."""

from __future__ import annotations

from service.db import db
from service.models import metadata
from tests.conftest import csrf_token_from, make_test_app, on_postgres


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
