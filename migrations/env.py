"""Alembic environment: runs against the engine of the running Pause app."""

from __future__ import annotations

from alembic import context

from service.models import metadata

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The app's 2.5 s limits (statement, socket) are for visitors' requests; a
            # migration may rewrite a large table. RESET (below) restores them.
            connection.execution_options(pause_patient=True)
            connection.exec_driver_sql("SET statement_timeout = 0")
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("RESET statement_timeout")
            connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run `flask --app service db upgrade`.")
run_migrations_online()
