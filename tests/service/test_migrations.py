"""Every migration runs up and down on both databases, and the newest one matches the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from service.cli import alembic_config
from service.models import metadata
from tests.conftest import POSTGRES_URL, make_test_app, on_postgres

MIGRATION_DATABASE = "pause_migrations_test"


@pytest.fixture
def empty_database_url(tmp_path):
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {MIGRATION_DATABASE}"))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + MIGRATION_DATABASE
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DATABASE} WITH (FORCE)"))
    admin.dispose()


def test_every_migration_runs_up_and_down_and_head_matches_the_models(tmp_path, empty_database_url):
    app = make_test_app(tmp_path, database_url=empty_database_url)
    with app.app_context():
        config = alembic_config()
        engine = config.attributes["engine"]
        revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
        assert revisions, "there are migrations"

        # Step up one revision at a time, oldest first, then all the way down and up again.
        for revision in reversed(revisions):
            command.upgrade(config, revision.revision)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == [], f"models and migrations differ: {differences}"

        for revision in revisions:
            command.downgrade(config, revision.down_revision or "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        command.upgrade(config, "head")
        assert set(inspect(engine).get_table_names()) >= {table.name for table in metadata.sorted_tables}
        engine.dispose()


def test_migration_files_are_named_with_a_date_and_a_slug():
    import re

    from service.cli import MIGRATIONS_FOLDER

    for path in (MIGRATIONS_FOLDER / "versions").glob("*.py"):
        assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_[a-z0-9_]+\.py", path.name), path.name
