"""Live text sessions (a booked "text chat" appointment, or a walk-in chat) and the hours
in which walk-in chat is staffed, per language.

The words of a live session are the messages of its conversation (kind "live"); this
table holds only who may take part, when it opened and ended, and when its transcript
goes. No visitor is named here: the visitor side is whoever holds the booking (key or
anonymous key) or, for a walk-in, the browser session that joined the queue.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

BOOKED = "booked"
WALK_IN = "walk-in"

# Why a session ended.
ENDED_BY_VISITOR = "visitor"
ENDED_BY_STAFF = "staff"
ENDED_UNATTENDED = "unattended"  # left open with nothing said for a long time
MOVED_TO_THREAD = "thread"  # a walk-in nobody could take, kept as a message thread
WITHDRAWN = "withdrawn"  # the visitor left the queue


class LiveSession(Base):
    __tablename__ = "live_sessions"
    __table_args__ = (
        # The staff home's queue: walk-ins waiting, oldest first.
        Index("ix_live_sessions_queue", "kind", "picked_up_at", "ended_at", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # BOOKED or WALK_IN
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    # The therapist of the booking, or the counsellor who picked the walk-in up.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"), index=True)
    opened_at: Mapped[dt.datetime]
    queued_at: Mapped[dt.datetime | None]
    picked_up_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    ended_by: Mapped[str | None] = mapped_column(String(12))
    # When someone last wrote, so a session left open can be ended.
    last_message_at: Mapped[dt.datetime | None]
    transcript_erased_at: Mapped[dt.datetime | None]


class StaffedHours(Base):
    """A weekly window, in its own zone's local time, in which walk-in chat in one
    language is answered."""

    __tablename__ = "staffed_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8), index=True)
    weekday: Mapped[int]  # 0 = Monday
    start: Mapped[dt.time]
    end: Mapped[dt.time]
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
