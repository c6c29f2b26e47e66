"""The encrypted backup restores into an empty database, and cannot be read without its key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, on_postgres

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
pytestmark = pytest.mark.skipif(not on_postgres(), reason="backups are of the PostgreSQL database")


def fresh_database(name: str) -> str:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def test_backup_is_encrypted_and_restores(seeded, tmp_path):
    key = tmp_path / "backup.key"
    key.write_text("a test backup key that is long enough to be a passphrase\n")
    environment = {**os.environ, "PAUSE_DATABASE_URL": POSTGRES_URL, "PAUSE_BACKUP_KEY_FILE": str(key),
                   "PAUSE_BACKUP_DIR": str(tmp_path / "backups")}
    made = subprocess.run([str(DEPLOY / "backup.sh")], env=environment, capture_output=True, text=True, check=True)
    backup = Path(made.stdout.strip())
    content = backup.read_bytes()
    assert b"Understanding your thoughts" not in content and b"CREATE TABLE" not in content

    target = fresh_database("pause_restore_test")
    plain_target = target.replace("postgresql+psycopg", "postgresql")
    subprocess.run([str(DEPLOY / "restore.sh"), str(backup), plain_target], env=environment, check=True,
                   capture_output=True)
    engine = create_engine(target)
    with engine.connect() as connection:
        restored = connection.execute(text("SELECT count(*) FROM modules")).scalar()
    engine.dispose()
    source = create_engine(POSTGRES_URL)
    with source.connect() as connection:
        assert restored == connection.execute(text("SELECT count(*) FROM modules")).scalar() > 0
    source.dispose()

    key.write_text("the wrong key\n")
    wrong = subprocess.run([str(DEPLOY / "restore.sh"), str(backup), plain_target], env=environment,
                           capture_output=True)
    assert wrong.returncode != 0
