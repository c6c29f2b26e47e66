"""`flask --app service ...` commands."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from service.auth.models import ROLES

MIGRATIONS_FOLDER = Path(__file__).resolve().parent.parent / "migrations"

database = AppGroup("db", help="Database schema migrations (Alembic).")


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    # env.py takes the engine from the running app, so the URL is never written here.
    config.attributes["engine"] = current_app.extensions["pause_db"]["engine"]
    return config


@database.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    alembic_command.upgrade(alembic_config(), revision)


@database.command("downgrade")
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (default: one step)."""
    alembic_command.downgrade(alembic_config(), revision)


@database.command("current")
def current() -> None:
    """Show the revision the database is at."""
    alembic_command.current(alembic_config())


@database.command("revision")
@click.option("-m", "--message", required=True, help="A slug for the change, e.g. 'add bookings'.")
@click.option("--autogenerate/--empty", default=True)
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file, compared against the models."""
    alembic_command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also add a demo therapist with weekday hours (development only).")
@with_appcontext
def seed(demo: bool) -> None:
    """Load the shipped content (idempotent: running it twice changes nothing)."""
    from content.seeding import SeedError, seed_all
    from service.db import db

    try:
        with db.transaction() as session:
            report = seed_all(session)
    except SeedError as error:
        raise click.ClickException("the seed content has problems:\n" + "\n".join(error.problems)) from error
    click.echo(f"seed: {report.created} items created as version 1, {report.unchanged} left as they are")
    if demo:
        if current_app.config["PAUSE"].is_production:
            raise click.ClickException("--demo is for development only")
        with db.transaction() as session:
            click.echo(seed_demo_therapist(session))


def seed_demo_therapist(session) -> str:
    """A therapist who cannot sign in (never enrolled), so /booking/ shows free times."""
    import datetime as dt

    from booking import services as booking_services
    from service.auth import services as auth_services

    staff = auth_services.find_by_username(session, "demo-therapist")
    if staff is not None:
        return "demo: the demo therapist is there already"
    staff = auth_services.create_staff(session, "demo-therapist", "Alex (demo)", "", {"therapist"}, None)
    profile = booking_services.profile_for_staff(session, staff)
    profile.introduction = "A demo therapist, so the booking pages have free times to show."
    # A new therapist starts closed and nameless; the demo one is open at once.
    profile.display_name, profile.active = "Alex (demo)", True
    booking_services.set_windows(session, profile, [(day, dt.time(9), dt.time(17)) for day in range(5)])
    return "demo: added a demo therapist with weekday hours"


staff = AppGroup("staff", help="Staff accounts.")


@staff.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role to grant; repeat for several.")
@click.option("--name", "display_name", default="", help="Display name (default: the username).")
@click.option("--email", default="", help="Work e-mail for notifications.")
def create_staff(username: str, roles: tuple[str, ...], display_name: str, email: str) -> None:
    """Create a staff account and print its one-time enrolment link."""
    from service.auth import services
    from service.db import db

    try:
        with db.transaction() as session:
            member = services.create_staff(session, username, display_name or username, email, set(roles), None)
            token = services.invite(session, member, None)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    base = current_app.config["PAUSE"].base_url
    click.echo(f"Created {member.username} ({', '.join(sorted(roles))}).")
    click.echo(f"One-time enrolment link (valid {services.INVITE_LIFETIME.days} days): {base}/staff/enrol/{token}")


jobs = AppGroup("jobs", help="Scheduled jobs.")


@jobs.command("run")
def run_jobs() -> None:
    """Run every scheduled job once (escalation, mail, erasure)."""
    from service.jobs import run_all

    for name, count in run_all().items():
        click.echo(f"{name}: {count}")


@click.command("scheduler")
@click.option("--interval", default=60, show_default=True, help="Seconds between rounds of jobs.")
@click.option("--ticks", type=int, default=None, help="Run this many rounds, then stop (for tests).")
@with_appcontext
def scheduler_command(interval: int, ticks: int | None) -> None:
    """Run the scheduled jobs in this one process (escalation, reminders, mail, purges)."""
    import datetime as dt

    from service.scheduler import run_forever

    run_forever(current_app._get_current_object(), dt.timedelta(seconds=interval), ticks)


retention = AppGroup("retention", help="What is kept, and erasing what must go.")


@retention.command("run")
def retention_run() -> None:
    """Run every purge now."""
    from service.jobs import JOBS

    for name, job in JOBS.items():
        if name.startswith("erase"):
            click.echo(f"{name}: {job()}")


@retention.command("report")
def retention_report() -> None:
    """Print what is held per data class and the date of the oldest item."""
    from service.db import db
    from service.retention import report

    for holding in report(db.session):
        oldest = str(holding.oldest) if holding.oldest else "-"
        click.echo(f"{holding.entry.name:28} {holding.count:>8}  oldest {oldest:26} {holding.entry.period}")


keys = AppGroup("keys", help="Encryption keys.")


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True)
def keys_rotate(batch: int) -> None:
    """Re-encrypt everything under the first key of PAUSE_DATA_KEY."""
    from service.crypto import rotate_all

    click.echo(f"re-encrypted {rotate_all(batch)} values")


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_command)
    app.cli.add_command(retention)
    app.cli.add_command(keys)
    app.cli.add_command(jobs)
    app.cli.add_command(database)
    app.cli.add_command(seed)
    app.cli.add_command(staff)
