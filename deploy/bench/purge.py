"""Purge benchmark: one million expired rows, deleted by the retention job's batches.

    .venv/bin/python deploy/bench/purge.py                      # SQLite in a temporary folder
    .venv/bin/python deploy/bench/purge.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints rows, total time, batches, and the longest single batch: the longest any lock
was held, so the longest a request could have waited on the purge.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from service import create_app  # noqa: E402
from service.db import db  # noqa: E402
from service.jobs import BATCH, delete_in_batches  # noqa: E402
from service.models import metadata  # noqa: E402
from service.visitor.models import AnonymousKey  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=BATCH)
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="pause-bench-")
    url = arguments.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
    app = create_app({"env": "testing", "database_url": url, "secret_key": "bench", "instance_path": folder,
                      "data_keys": (Fernet.generate_key().decode(),)})
    with app.app_context():
        metadata.drop_all(db.engine)
        metadata.create_all(db.engine)
        expired = dt.date(2020, 1, 1)
        started = time.perf_counter()
        with db.engine.begin() as connection:
            for first in range(0, arguments.rows, 50_000):
                connection.execute(insert(AnonymousKey), [
                    {"digest": index.to_bytes(32, "big"), "created_on": expired, "last_used_on": expired}
                    for index in range(first, min(first + 50_000, arguments.rows))])
        loaded = time.perf_counter() - started
        durations: list[float] = []
        started = time.perf_counter()
        deleted = delete_in_batches(AnonymousKey.__table__, AnonymousKey.last_used_on < dt.date(2021, 1, 1),
                                    arguments.batch, durations.append)
        total = time.perf_counter() - started
        metadata.drop_all(db.engine)
    print(f"database          {db_name(url)}")
    print(f"rows purged       {deleted:,} (loaded in {loaded:.1f} s)")
    print(f"total time        {total:.1f} s ({deleted / total:,.0f} rows/s)")
    print(f"batches           {len(durations):,} of {arguments.batch}")
    print(f"batch p50 / max   {statistics.median(durations) * 1000:.1f} ms / {max(durations) * 1000:.1f} ms "
          "(longest lock held)")


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


if __name__ == "__main__":
    main()
