"""Step 2 of deploy/README.md on this machine: the setup script makes a role with no
rights beyond its own database, and that role can migrate, seed and serve."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from tests.conftest import DATA_KEY, POSTGRES_URL, on_postgres

ROOT = Path(__file__).resolve().parents[2]
NAME = "pause_setup_test"  # never "pause": a real deployment on this machine stays untouched
pytestmark = pytest.mark.skipif(not on_postgres() or os.geteuid() != 0 or shutil.which("runuser") is None,
                                reason="runs the setup script as root against the local PostgreSQL")


def drop_test_database_and_role(admin) -> None:
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
        connection.execute(text(f"DROP ROLE IF EXISTS {NAME}"))


def test_the_setup_script_makes_a_least_privilege_role_that_can_run_pause():
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    drop_test_database_and_role(admin)
    try:
        for _ in range(2):  # and again: it can be run twice
            subprocess.run([str(ROOT / "deploy" / "postgres-setup.sh")], check=True, capture_output=True,
                           env={**os.environ, "PAUSE_DB_NAME": NAME, "PAUSE_DB_ROLE": NAME})
        with admin.connect() as connection:
            rights = connection.execute(text(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles "
                "WHERE rolname = :name"), {"name": NAME}).one()
            assert tuple(rights) == (False, False, False, False, False)
            owner, access = connection.execute(text(
                "SELECT pg_get_userbyid(datdba), datacl::text FROM pg_database WHERE datname = :name"),
                {"name": NAME}).one()
            assert owner == NAME
            assert not any(entry.startswith("=") for entry in access.strip("{}").split(",")), "PUBLIC has no access"

        database_url = make_url(POSTGRES_URL).set(username=NAME, database=NAME).render_as_string(hide_password=False)
        environment = {**os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": database_url,
                       "PAUSE_SECRET_KEY": "setup-test-secret-key-0123456789abcdef",
                       "PAUSE_DATA_KEY": DATA_KEY}
        flask = [sys.executable, "-m", "flask", "--app", "service"]
        for command in (["db", "upgrade"], ["seed"]):
            done = subprocess.run([*flask, *command], cwd=ROOT, env=environment, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr

        as_role = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with as_role.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM modules")).scalar() > 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text("CREATE DATABASE pause_setup_test_other"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text("CREATE ROLE pause_setup_test_other"))
        as_role.dispose()
    finally:
        drop_test_database_and_role(admin)
        admin.dispose()
