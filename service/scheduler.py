"""The scheduler: one dedicated process (`flask --app service scheduler`) runs the jobs of
service.jobs every minute with APScheduler.

APScheduler's job stores must not be shared between processes, so each process keeps its
own in memory, and the database decides who runs: before a job runs, its row in
job_locks is claimed with one conditional UPDATE that only succeeds if the job has not
run within its interval. If two schedulers start by mistake, each job still runs once per
interval. On PostgreSQL the run also holds an advisory lock, so a slow run is never
overlapped.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib

from flask import Flask
from sqlalchemy import String, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import clock
from service.db import Base, db

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = dt.timedelta(seconds=60)
# A claim counts as "this interval" if it is at least this much of the interval old.
TOLERANCE = 0.5


class JobLock(Base):
    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[dt.datetime | None]
    run_count: Mapped[int] = mapped_column(default=0)


def claim(name: str, interval: dt.timedelta) -> bool:
    """True if this process may run the job now; at most one process gets True per interval."""
    now = clock.now()
    with db.transaction() as session:
        if session.get(JobLock, name) is None:
            try:
                with session.begin_nested():
                    session.add(JobLock(name=name, last_run_at=None, run_count=0))
            except IntegrityError:
                pass  # another process made the row a moment ago
        result = session.execute(
            update(JobLock)
            .where(JobLock.name == name)
            .where((JobLock.last_run_at.is_(None)) | (JobLock.last_run_at <= now - interval * TOLERANCE))
            .values(last_run_at=now, run_count=JobLock.run_count + 1)
        )
        return result.rowcount == 1


def run_job(name: str, job, interval: dt.timedelta = DEFAULT_INTERVAL) -> int | None:
    """Runs one job if this process wins the claim; returns its count, or None if skipped."""
    if not claim(name, interval):
        return None
    if db.engine.dialect.name == "postgresql":
        key = zlib.crc32(f"pause-job:{name}".encode())
        with db.engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                return None
            try:
                return job()
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                except SQLAlchemyError as error:
                    # The session is gone (a restart): the server released its lock with it.
                    log.warning("job %s: lock released with its session (%s)", name, type(error).__name__)
    return job()


def tick(app: Flask, interval: dt.timedelta = DEFAULT_INTERVAL) -> dict[str, int | None]:
    """One round: every job that is due, once."""
    from service.jobs import JOBS

    results = {}
    with app.app_context():
        for name, job in JOBS.items():
            try:
                results[name] = run_job(name, job, interval)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("job %s failed", name)
                results[name] = None
            if results[name]:
                log.info("job %s: %d", name, results[name])
        if db.engine.dialect.name == "sqlite":
            # Purged pages leave the WAL file too, not only the database file.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return results


def run_forever(app: Flask, interval: dt.timedelta = DEFAULT_INTERVAL, ticks: int | None = None) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    if ticks is not None:
        for _ in range(ticks):
            tick(app, interval)
        return
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(tick, "interval", args=(app, interval), seconds=interval.total_seconds(),
                      next_run_time=clock.now().replace(tzinfo=dt.UTC), max_instances=1, coalesce=True)
    log.info("scheduler started: every %ss", int(interval.total_seconds()))
    scheduler.start()


def last_runs() -> list[JobLock]:
    return list(db.session.scalars(select(JobLock).order_by(JobLock.name)))
