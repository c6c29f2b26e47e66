"""Two scheduler processes started at once run each job exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from service.db import db
from service.jobs import JOBS
from service.scheduler import JobLock
from tests.conftest import DATA_KEY

ROOT = Path(__file__).resolve().parents[2]


def test_two_schedulers_started_together_run_each_job_once(app):
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    environment = {**os.environ, "PAUSE_ENV": "testing", "PAUSE_DATABASE_URL": url,
                   "PAUSE_SECRET_KEY": "test-secret-key-not-for-production", "PAUSE_DATA_KEY": DATA_KEY,
                   "PAUSE_SMTP_PORT": "1"}
    command = [sys.executable, "-m", "flask", "--app", "service", "scheduler", "--ticks", "1"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    with app.app_context():
        runs = {row.name: row.run_count for row in db.session.scalars(select(JobLock))}
    assert runs == {name: 1 for name in JOBS}


def test_a_second_round_within_the_interval_runs_nothing_and_a_later_one_runs_all(app):
    import datetime as dt

    from service.clock import clock
    from service.scheduler import tick

    clock.freeze(dt.datetime(2026, 11, 22, 12, 0))
    assert all(result is not None for result in tick(app).values())
    clock.advance(dt.timedelta(seconds=20))
    assert all(result is None for result in tick(app).values())
    clock.advance(dt.timedelta(seconds=60))
    assert all(result is not None for result in tick(app).values())
