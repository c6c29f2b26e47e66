"""Aggregate daily counters for the programme's reports: a name, a day, an optional key
(a band, a kind, an outcome) and a count. Never a person, never finer than a day.

Incrementing is one line wherever the thing happens: `count(session, "threads-opened", day)`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.db import Base

# Every counter the reports know, so a typo cannot start a new series.
NAMES = (
    "steps-completed",
    "urgent-closed",  # key: the outcome
    "urgent-first-contact",  # key: a bucket of time from request to first contact
    "threads-opened",
    "threads-answered-in-time",
    "threads-answered-late",
    "live-sessions-held",
)
# Counters set from rows that can still change (a booking's outcome can be corrected),
# recomputed for recent days rather than incremented.
SET_NAMES = ("bookings",)  # key: "kind:outcome"


class DailyCount(Base):
    __tablename__ = "daily_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


def _insert(session: Session):
    return postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def count(session: Session, name: str, day: dt.date, key: str = "", by: int = 1) -> None:
    """Adds `by` to the counter in the caller's transaction (an upsert: two workers
    counting the same day at once both count)."""
    if name not in NAMES:
        raise ValueError(f"unknown counter {name!r}")
    insert = _insert(session)
    statement = insert(DailyCount).values(day=day, name=name, key=key[:80], count=by)
    session.execute(statement.on_conflict_do_update(index_elements=["day", "name", "key"],
                                                    set_={"count": DailyCount.count + by}))


def set_count(session: Session, name: str, day: dt.date, key: str, value: int) -> None:
    if name not in SET_NAMES:
        raise ValueError(f"unknown counter {name!r}")
    insert = _insert(session)
    statement = insert(DailyCount).values(day=day, name=name, key=key[:80], count=value)
    session.execute(statement.on_conflict_do_update(index_elements=["day", "name", "key"], set_={"count": value}))


def totals(session: Session, name: str, since: dt.date, until: dt.date) -> dict[tuple[str, str], int]:
    """{(month "YYYY-MM", key): count} for days in [since, until)."""
    found: dict[tuple[str, str], int] = {}
    for day, key, value in session.execute(select(DailyCount.day, DailyCount.key, DailyCount.count).where(
            DailyCount.name == name, DailyCount.day >= since, DailyCount.day < until)):
        month = day.strftime("%Y-%m")
        found[(month, key)] = found.get((month, key), 0) + value
    return found
