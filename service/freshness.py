"""Freshness by name: "published content changed", "a therapist's schedule changed".

A writer says what it changed, in its own transaction:

    freshness.bump(session, "published-content")
    freshness.bump(session, "therapist-schedule", therapist_id)

and a reader asks for the version of a name (`version(session, "published-content")`)
and keys what it builds with it. Versions live in the `freshness_marks` table, so every
process sees a change: each process asks the database at most once a second per name
(by the one clock), and forgets at once what a commit of its own bumped."""

from __future__ import annotations

from collections.abc import Hashable

from sqlalchemy import String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.cache import MISSING, Cache, database_of
from service.db import Base

NAMES = frozenset({"published-content", "therapist-schedule"})
CHECK_SECONDS = 1.0
known = Cache(maxsize=1024, ttl=CHECK_SECONDS)


class FreshnessMark(Base):
    """How many times something named changed (per scope: a therapist's id, or "")."""

    __tablename__ = "freshness_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    version: Mapped[int] = mapped_column(default=0)


class UnknownName(ValueError):
    """A freshness name that is not in NAMES (a typo would otherwise never be fresh)."""


def _check(name: str) -> None:
    if name not in NAMES:
        raise UnknownName(name)


def bump(session: Session, name: str, scope: object = None) -> None:
    """Says, in the caller's transaction, that `name` (for `scope`) changed. Safe inside
    a flush: it writes with Core on the session's connection."""
    _check(name)
    table = FreshnessMark.__table__
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = {"name": name, "scope": "" if scope is None else str(scope), "version": 1}
    statement = dialect.insert(table).values(values).on_conflict_do_update(
        index_elements=[table.c.name, table.c.scope], set_={"version": table.c.version + 1})
    connection.execute(statement)
    session.info.setdefault("pause_freshness_bumped", set()).add(name)


def version(session: Session, name: str, scope: object = None) -> Hashable:
    """The current version of `name` (all scopes, or one), as this process last read it
    within CHECK_SECONDS; equal values mean nothing named changed in between."""
    _check(name)
    engine = session.get_bind()
    key = (database_of(engine), name, None if scope is None else str(scope))
    value = known.get(key)
    if value is MISSING:
        query = select(FreshnessMark.scope, FreshnessMark.version).where(FreshnessMark.name == name)
        if scope is not None:
            query = query.where(FreshnessMark.scope == str(scope))
        with engine.connect() as connection:
            value = tuple(sorted(tuple(row) for row in connection.execute(query)))
        known.set(key, value)
    return value


@event.listens_for(Session, "after_commit")
def _forget_after_own_bumps(session: Session) -> None:
    bumped = session.info.pop("pause_freshness_bumped", None)
    if bumped:
        database = database_of(session.get_bind())
        with known.lock:
            for key in [key for key in known.entries if key[0] == database and key[1] in bumped]:
                known.entries.pop(key, None)


@event.listens_for(Session, "after_rollback")
def _nothing_bumped_after_rollback(session: Session) -> None:
    session.info.pop("pause_freshness_bumped", None)
