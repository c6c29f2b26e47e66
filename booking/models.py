"""Therapists' profiles and availability, and the bookings visitors make anonymously."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DDL, ForeignKey, Index, LargeBinary, String, Text, event, false, inspect, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.db import Base

MODALITIES = ("phone", "video", "chat", "in-person")
# Only these hold a time: a cancelled booking frees it.
LIVE = "booked"
STATUSES = (LIVE, "cancelled", "attended", "no-show", "unrecorded")


class TherapistProfile(Base):
    __tablename__ = "therapist_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))  # a pseudonym is fine
    languages: Mapped[str] = mapped_column(String(40))  # space-separated codes
    modalities: Mapped[str] = mapped_column(String(60))  # space-separated MODALITIES
    location: Mapped[str] = mapped_column(String(200), default="")  # for in-person sessions
    introduction: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised on save and show
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    session_minutes: Mapped[int] = mapped_column(default=50)
    buffer_minutes: Mapped[int] = mapped_column(default=10)
    notice_hours: Mapped[int] = mapped_column(default=12)
    horizon_days: Mapped[int] = mapped_column(default=42)
    active: Mapped[bool] = mapped_column(default=True)
    # SHA-256 of the secret in the private calendar feed address; None = no feed.
    calendar_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Goes up with every change to what the booking page shows of this therapist (profile,
    # availability, bookings), so the page can be cached until it does, in every process.
    schedule_version: Mapped[int] = mapped_column(default=0, server_default="0")
    windows: Mapped[list[AvailabilityWindow]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                              order_by="(AvailabilityWindow.weekday, "
                                                                       "AvailabilityWindow.start)")
    exceptions: Mapped[list[AvailabilityException]] = relationship(cascade="all, delete-orphan",
                                                                    passive_deletes=True,
                                                                    order_by="AvailabilityException.day")


class AvailabilityWindow(Base):
    """A weekly recurring window, in the therapist's local time."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start: Mapped[dt.time]
    end: Mapped[dt.time]


class AvailabilityException(Base):
    """A day off (whole or part), or extra hours, on one local date; or whole days off from
    one local date to another."""

    __tablename__ = "availability_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date]
    # Set for days off given as a range: every local date from `day` to `last_day` is off.
    last_day: Mapped[dt.date | None]
    kind: Mapped[str] = mapped_column(String(8))  # "off" or "extra"
    start: Mapped[dt.time | None]
    end: Mapped[dt.time | None]


class Booking(Base):
    """An appointment. The visitor is known only by the argon2id hash of their booking
    key. The note, the way to reach them and the reminder address are sealed, and erased
    a day after the session; after 30 days only therapist, date, modality and outcome stay.

    Two live bookings of one therapist can never overlap: a partial unique index on the
    start (both databases), an exclusion constraint on the time range (PostgreSQL) or a
    trigger (SQLite), and a re-check under a lock when booking."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("uq_bookings_live_start", "therapist_id", "starts_at", unique=True,
              sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    key_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    # Set when the visitor used their anonymous key instead of a booking key.
    anonymous_key_id: Mapped[int | None] = mapped_column(ForeignKey("anonymous_keys.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    modality: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    session_day: Mapped[dt.date]
    sealed_note: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    sealed_contact: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    sealed_reminder_email: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    sealed_therapist_message: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    # The visitor's own title for their calendar file: it may say what the appointment is
    # for, so it is sealed like the note and erased with it.
    sealed_calendar_title: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    # The visitor said they book as a relative or friend of someone worried about their
    # thoughts, so the therapist knows who they will talk to.
    from_relative: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime]
    reminded_day_before_at: Mapped[dt.datetime | None]
    reminded_hour_before_at: Mapped[dt.datetime | None]
    details_erased_at: Mapped[dt.datetime | None]
    reduced_at: Mapped[dt.datetime | None]


class ReminderMail(Base):
    """Which queued message is a reminder of which booking, so that erasing the booking's
    details (or cancelling it) also removes reminders not yet sent, with their address."""

    __tablename__ = "booking_reminder_mails"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
class BookingMessage(Base):
    """A message from the therapist to the visitor about one appointment (a video link, a
    change of room). Messages join a list and never replace each other; the visitor reads
    them with their booking key. Sealed, and erased with the booking's details."""

    __tablename__ = "booking_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary, info={"sealed": True})
    created_at: Mapped[dt.datetime]


# Overlap guards that SQLAlchemy cannot declare portably; the migration creates the same.
SQLITE_NO_OVERLAP = [
    """CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_insert BEFORE INSERT ON bookings
    WHEN NEW.status = 'booked'
    BEGIN
      SELECT RAISE(ABORT, 'booking overlaps a live booking') WHERE EXISTS (
        SELECT 1 FROM bookings WHERE therapist_id = NEW.therapist_id AND status = 'booked'
        AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at);
    END""",
    """CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_update BEFORE UPDATE OF starts_at, ends_at, status ON bookings
    WHEN NEW.status = 'booked'
    BEGIN
      SELECT RAISE(ABORT, 'booking overlaps a live booking') WHERE EXISTS (
        SELECT 1 FROM bookings WHERE therapist_id = NEW.therapist_id AND status = 'booked' AND id != NEW.id
        AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at);
    END""",
]
POSTGRESQL_NO_OVERLAP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE bookings ADD CONSTRAINT ex_bookings_live_overlap EXCLUDE USING gist
    (therapist_id WITH =, tsrange(starts_at, ends_at) WITH &&) WHERE (status = 'booked')""",
]

for _statement in SQLITE_NO_OVERLAP:
    event.listen(Booking.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_NO_OVERLAP:
    event.listen(Booking.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


# Changes to a booking that move, free or take a time; reminders and erasures do not.
_BOOKING_FIELDS_THAT_CHANGE_FREE_TIMES = ("therapist_id", "status", "starts_at", "ends_at")


def _changes_free_times(session: Session, item: object) -> bool:
    if isinstance(item, Booking) and item in session.dirty:
        state = inspect(item)
        return any(state.attrs[name].history.has_changes() for name in _BOOKING_FIELDS_THAT_CHANGE_FREE_TIMES)
    return isinstance(item, Booking | AvailabilityWindow | AvailabilityException)


@event.listens_for(Session, "after_flush")
def _bump_schedule_versions(session: Session, _context) -> None:
    therapist_ids = {item.id for item in session.dirty
                     if isinstance(item, TherapistProfile) and session.is_modified(item)}
    therapist_ids |= {item.therapist_id for item in (*session.new, *session.dirty, *session.deleted)
                      if _changes_free_times(session, item) and item.therapist_id is not None}
    if therapist_ids:
        from service import freshness

        for therapist_id in therapist_ids:
            freshness.bump(session, "therapist-schedule", therapist_id)
        # Core, not the ORM: this runs inside the flush, and the counter is never read back here.
        profiles = TherapistProfile.__table__
        session.connection().execute(update(profiles).where(profiles.c.id.in_(therapist_ids))
                                     .values(schedule_version=profiles.c.schedule_version + 1))
