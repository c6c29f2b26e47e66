"""The database settings the rest of the code relies on."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from service.db import db
from tests.conftest import on_postgres

sqlite_only = pytest.mark.skipif(on_postgres(), reason="SQLite settings")


@sqlite_only
def test_sqlite_runs_with_wal_foreign_keys_secure_delete_and_a_busy_timeout(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@sqlite_only
def test_a_write_transaction_takes_the_write_lock_when_it_begins(app, tmp_path):
    with app.app_context():
        path = db.engine.url.database
        with db.transaction() as session:
            session.execute(text("SELECT 1"))  # a read only: BEGIN IMMEDIATE already holds the lock
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        # A read transaction does not block writers.
        db.session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_a_failed_unit_of_work_leaves_nothing_behind(app):
    from service.visitor.models import AnonymousKey
    from service.visitor.services import create_key

    with app.app_context():
        with pytest.raises(RuntimeError), db.transaction() as session:
            create_key(session)
            raise RuntimeError("interrupted")
        assert db.session.query(AnonymousKey).count() == 0


def test_production_cookie_is_host_prefixed_secure_httponly_and_samesite(tmp_path):
    from cryptography.fernet import Fernet

    from service import create_app
    from service.models import metadata

    app = create_app({"env": "production", "database_url": f"sqlite:///{tmp_path / 'p.db'}",
                      "instance_path": str(tmp_path), "secret_key": "s" * 64,
                      "data_keys": (Fernet.generate_key().decode(),)})
    with app.app_context():
        metadata.create_all(db.engine)
    response = app.test_client().get("/key/", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-pause=")
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie, "the cookie ends with the browser session"
    assert "Domain" not in cookie
