"""Booking rules: who has which free slots, booking without a double booking, managing
with a booking key, the therapist's side, reminders and erasure. Plain functions over
a Session; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import slots as slot_rules
from booking.models import (
    LIVE,
    MODALITIES,
    STATUSES,
    AvailabilityException,
    AvailabilityWindow,
    Booking,
    TherapistProfile,
)
from content.cache import database_of
from service import audit, crypto, outbox
from service.auth.models import StaffMember
from service.clock import clock
from service.crisis.services import PHONE
from service.hashing import anonymous_key_digest
from service.visitor.services import format_key, generate_key, normalise_key

MAX_NOTE = 1000
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,}$")
REVEAL_WINDOW = dt.timedelta(hours=1)
DETAILS_KEPT_AFTER_SESSION = dt.timedelta(hours=24)
REDUCED_AFTER = dt.timedelta(days=30)
# In the visitor's language when the file is made (« Rendez-vous » in French).
NEUTRAL_TITLE = _l("Appointment")


class SlotTaken(Exception):
    """Someone else booked this time a moment earlier."""


class BookingError(ValueError):
    """A rule was broken; the message is for the visitor or therapist."""


class InvalidBooking(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# Therapists and slots ----------------------------------------------------------------------


def therapists(session: Session, language: str | None = None, modality: str | None = None) -> list[TherapistProfile]:
    rows = session.scalars(select(TherapistProfile).join(StaffMember).where(
        TherapistProfile.active.is_(True), StaffMember.disabled_at.is_(None)).order_by(TherapistProfile.display_name))
    return [row for row in rows if (not language or language in row.languages.split())
            and (not modality or modality in row.modalities.split())]


def rules_of(profile: TherapistProfile) -> slot_rules.Rules:
    return slot_rules.Rules(session_minutes=profile.session_minutes, buffer_minutes=profile.buffer_minutes,
                            notice_hours=profile.notice_hours, horizon_days=profile.horizon_days)


def live_bookings(session: Session, therapist_id: int, excluding: int | None = None) -> list[Booking]:
    query = select(Booking).where(Booking.therapist_id == therapist_id, Booking.status == LIVE)
    if excluding is not None:
        query = query.where(Booking.id != excluding)
    return list(session.scalars(query))


def free_slots_for(session: Session, profile: TherapistProfile, excluding_booking: int | None = None,
                   as_of: dt.datetime | None = None) -> list[slot_rules.Slot]:
    windows = [slot_rules.WeeklyWindow(window.weekday, window.start, window.end) for window in profile.windows]
    exceptions = [slot_rules.DateException(item.day, item.kind, item.start, item.end) for item in profile.exceptions]
    busy = [(booking.starts_at, booking.ends_at) for booking in live_bookings(session, profile.id, excluding_booking)]
    return slot_rules.free_slots(profile.time_zone, windows, exceptions, rules_of(profile), busy, as_of or clock.now())


# What the list of free times depends on is asked of the database at most once a second
# per process; a commit in this process that changes a schedule forgets it at once.
SCHEDULE_CHECK_SECONDS = 1.0
_schedules: dict[str, tuple[float, tuple[tuple[int, int], ...]]] = {}


def forget_schedules(database: str | None = None) -> None:
    if database is None:
        _schedules.clear()
    else:
        _schedules.pop(database, None)


def schedule_state(engine: Engine) -> tuple[dt.datetime, tuple[tuple[int, int], ...]]:
    """What the list of free times depends on, besides the visitor's choices: the end of
    the current minute (the times shown are those still free then), and each bookable
    therapist with the version of their schedule."""
    database = database_of(engine)
    known = _schedules.get(database)
    if known is None or time.monotonic() - known[0] >= SCHEDULE_CHECK_SECONDS:
        checked_at = time.monotonic()
        with engine.connect() as connection:
            rows = connection.execute(
                select(TherapistProfile.id, TherapistProfile.schedule_version).join(StaffMember)
                .where(TherapistProfile.active.is_(True), StaffMember.disabled_at.is_(None))
                .order_by(TherapistProfile.id)).all()
        known = _schedules[database] = (checked_at, tuple((row.id, row.schedule_version) for row in rows))
    minute_ends = clock.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return minute_ends, known[1]


def free_times_unchanged(database: str, depended_on: tuple) -> bool:
    """Whether a list of free times made for `schedule_state` value `depended_on[-1]` is
    still what the visitor should see: the same minute, and each bookable therapist's
    schedule as this process last read it, within the check interval. Asks nothing of
    the database (the shared page server calls it before any request exists)."""
    minute_ends, therapists = depended_on[-1]
    known = _schedules.get(database)
    return (known is not None and time.monotonic() - known[0] < SCHEDULE_CHECK_SECONDS
            and known[1] == therapists and clock.now() < minute_ends)


@event.listens_for(Session, "after_flush")
def _note_schedule_writes(session: Session, _context) -> None:
    # Therapist profiles, their weeks and bookings bump a schedule version (booking.models);
    # disabling a staff account takes a therapist off the list.
    if any(isinstance(item, TherapistProfile | AvailabilityWindow | AvailabilityException | Booking | StaffMember)
           for item in (*session.new, *session.dirty, *session.deleted)):
        session.info["schedule_written"] = True


@event.listens_for(Session, "after_commit")
def _forget_schedules_after_writes(session: Session) -> None:
    if session.info.pop("schedule_written", False):
        forget_schedules(database_of(session.get_bind()))


def _lock_therapist(session: Session, therapist_id: int) -> TherapistProfile | None:
    """Booking for one therapist happens one at a time: a row lock on PostgreSQL; on
    SQLite the write transaction (BEGIN IMMEDIATE) already serialises writers."""
    query = select(TherapistProfile).where(TherapistProfile.id == therapist_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


# Booking -------------------------------------------------------------------------------------


def validate_request(profile: TherapistProfile, modality: str, language: str, note: str, contact: str,
                     reminder_email: str) -> dict:
    problems: dict[str, str] = {}
    note = (note or "").replace("\r\n", "\n").strip()
    contact, reminder_email = (contact or "").strip(), (reminder_email or "").strip()
    if modality not in profile.modalities.split() or modality not in MODALITIES:
        problems["modality"] = str(_l("Please choose a kind of session this therapist offers."))
    if language not in profile.languages.split():
        problems["language"] = str(_l("Please choose a language this therapist speaks."))
    if len(note) > MAX_NOTE:
        problems["note"] = str(_l("Your note is %(length)d characters long; the most we can take is %(limit)d.",
                                  length=len(note), limit=MAX_NOTE))
    if any(ord(char) < 32 and char not in "\n\t" for char in note + contact + reminder_email):
        problems["note"] = str(_l("Your text contains characters we cannot keep. Please remove them."))
    if modality == "phone" and not PHONE.match(contact):
        problems["contact"] = str(_l("For a phone session, please give a number the therapist can call."))
    if reminder_email and not EMAIL.match(reminder_email):
        problems["reminder_email"] = str(_l("This does not look like an e-mail address. Leave it empty if you "
                                            "want no reminder."))
    if problems:
        raise InvalidBooking(problems)
    return {"modality": modality, "language": language, "note": note,
            "contact": contact if modality == "phone" else "", "reminder_email": reminder_email}


def book(session: Session, therapist_id: int, starts_at: dt.datetime, request: dict,
         anonymous_key_id: int | None = None, calendar_title: str = "",
         from_relative: bool = False) -> tuple[Booking, str | None]:
    """Books the slot if it is still free; raises SlotTaken otherwise. Returns the booking
    and its booking key (None when the visitor's anonymous key holds it instead)."""
    # The key is hashed before the therapist is locked: argon2id takes tens of
    # milliseconds, and everyone booking this therapist would wait on it.
    plain_key = None if anonymous_key_id else generate_key()
    key_digest = anonymous_key_digest(normalise_key(plain_key)) if plain_key else None
    profile = _lock_therapist(session, therapist_id)
    if profile is None or not profile.active:
        raise SlotTaken
    slot = next((slot for slot in free_slots_for(session, profile) if slot.starts_at == starts_at), None)
    if slot is None:
        raise SlotTaken
    booking = Booking(
        therapist_id=profile.id, reference=secrets.token_hex(4).upper(), key_digest=key_digest,
        anonymous_key_id=anonymous_key_id, status=LIVE, modality=request["modality"], language=request["language"],
        starts_at=slot.starts_at, ends_at=slot.ends_at, session_day=slot.starts_at.date(),
        sealed_note=crypto.seal(request["note"]) if request["note"] else None,
        sealed_contact=crypto.seal(request["contact"]) if request["contact"] else None,
        sealed_reminder_email=crypto.seal(request["reminder_email"]) if request["reminder_email"] else None,
        sealed_therapist_message=None, calendar_title=calendar_title[:80], from_relative=from_relative,
        created_at=clock.now(),
        reminded_day_before_at=None, reminded_hour_before_at=None, details_erased_at=None, reduced_at=None,
    )
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError as clash:
        # The constraints are the last word: two live bookings can never overlap.
        raise SlotTaken from clash
    return booking, format_key(normalise_key(plain_key)) if plain_key else None


def find_by_key(session: Session, typed_key: str) -> Booking | None:
    """Raises MalformedKey for text that cannot be a key."""
    return session.scalar(select(Booking).where(Booking.key_digest == anonymous_key_digest(normalise_key(typed_key))))


def bookings_of_anonymous_key(session: Session, key_id: int) -> list[Booking]:
    return list(session.scalars(select(Booking).where(Booking.anonymous_key_id == key_id, Booking.status == LIVE)
                                .order_by(Booking.starts_at)))


def _before_cutoff(booking: Booking, cutoff: dt.timedelta) -> None:
    if booking.status != LIVE:
        raise BookingError(_l("This appointment is no longer booked."))
    if clock.now() > booking.starts_at - cutoff:
        raise BookingError(_l("It is too late to change this appointment online. If you cannot come, please "
                              "tell the therapist at the start of the session, or simply do not come."))


def cancel(session: Session, booking: Booking, cutoff: dt.timedelta) -> None:
    _before_cutoff(booking, cutoff)
    booking.status = "cancelled"


def move(session: Session, booking: Booking, new_start: dt.datetime, cutoff: dt.timedelta) -> None:
    _before_cutoff(booking, cutoff)
    profile = _lock_therapist(session, booking.therapist_id)
    slot = next((slot for slot in free_slots_for(session, profile, excluding_booking=booking.id)
                 if slot.starts_at == new_start), None)
    if slot is None:
        raise SlotTaken
    try:
        with session.begin_nested():
            booking.starts_at, booking.ends_at, booking.session_day = slot.starts_at, slot.ends_at, slot.starts_at.date()
            booking.reminded_day_before_at = booking.reminded_hour_before_at = None
            session.flush()
    except IntegrityError as clash:
        raise SlotTaken from clash


def therapist_message(booking: Booking) -> str:
    return crypto.unseal(booking.sealed_therapist_message) if booking.sealed_therapist_message else ""


def calendar_file(booking: Booking, profile: TherapistProfile, title: str, description: str) -> bytes:
    """An .ics for the visitor: neutral words unless they chose a title of their own."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Pause//Appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{booking.reference}@pause")
    event.add("dtstamp", clock.now().replace(tzinfo=dt.UTC))
    event.add("dtstart", booking.starts_at.replace(tzinfo=dt.UTC))
    event.add("dtend", booking.ends_at.replace(tzinfo=dt.UTC))
    event.add("summary", title or str(NEUTRAL_TITLE))
    event.add("description", description)
    calendar.add_component(event)
    return calendar.to_ical()


# The therapist's side --------------------------------------------------------------------


def profile_for_staff(session: Session, staff: StaffMember) -> TherapistProfile:
    """The therapist's profile, made with sensible defaults the first time."""
    profile = session.scalar(select(TherapistProfile).where(TherapistProfile.staff_id == staff.id))
    if profile is None:
        profile = TherapistProfile(staff_id=staff.id, display_name=staff.display_name, languages="en fr",
                                   modalities="phone video", location="", introduction="", time_zone="Europe/Brussels",
                                   session_minutes=50, buffer_minutes=10, notice_hours=12, horizon_days=42,
                                   active=True, calendar_token_digest=None)
        session.add(profile)
        session.flush()
    return profile


def appointments_between(session: Session, profile: TherapistProfile, start: dt.datetime, end: dt.datetime) \
        -> list[Booking]:
    return list(session.scalars(select(Booking).where(Booking.therapist_id == profile.id,
                                                      Booking.starts_at >= start, Booking.starts_at < end)
                                .order_by(Booking.starts_at)))


def read_note(session: Session, staff: StaffMember, booking: Booking) -> str:
    if booking.sealed_note is None:
        return ""
    audit.record(session, staff, "booking.note_viewed", "booking", booking.reference)
    return crypto.unseal(booking.sealed_note)


def can_reveal_contact(booking: Booking) -> bool:
    """Only from an hour before the session to an hour after it."""
    now = clock.now()
    return booking.starts_at is not None and booking.starts_at - REVEAL_WINDOW <= now <= booking.ends_at + \
        REVEAL_WINDOW


def reveal_contact(session: Session, staff: StaffMember, booking: Booking) -> str:
    if not can_reveal_contact(booking):
        raise BookingError(_l("The way to reach the visitor is shown only from one hour before to one hour after "
                              "the session."))
    audit.record(session, staff, "booking.contact_viewed", "booking", booking.reference)
    return crypto.unseal(booking.sealed_contact) if booking.sealed_contact else ""


def mark(session: Session, staff: StaffMember, booking: Booking, status: str, message: str = "") -> None:
    if status not in STATUSES or status == LIVE:
        raise BookingError(_l("Please choose attended, no-show or cancelled."))
    booking.status = status
    message = (message or "").strip()[:MAX_NOTE]
    if message:
        booking.sealed_therapist_message = crypto.seal(message)
    audit.record(session, staff, f"booking.{status}", "booking", booking.reference)


def leave_message(session: Session, staff: StaffMember, booking: Booking, message: str) -> None:
    booking.sealed_therapist_message = crypto.seal((message or "").strip()[:MAX_NOTE])
    audit.record(session, staff, "booking.message_left", "booking", booking.reference)


def new_calendar_token(session: Session, profile: TherapistProfile) -> str:
    token = secrets.token_urlsafe(32)
    profile.calendar_token_digest = hashlib.sha256(token.encode()).hexdigest()
    return token


def profile_by_calendar_token(session: Session, token: str) -> TherapistProfile | None:
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    return session.scalar(select(TherapistProfile).where(TherapistProfile.calendar_token_digest == digest))


def calendar_feed(session: Session, profile: TherapistProfile) -> bytes:
    """The therapist's live appointments, with neutral entries and no visitor data."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Pause//Therapist calendar//EN")
    calendar.add("version", "2.0")
    for booking in session.scalars(select(Booking).where(Booking.therapist_id == profile.id,
                                                         Booking.status == LIVE, Booking.starts_at >= clock.now())):
        event = Event()
        event.add("uid", f"{booking.reference}@pause")
        event.add("dtstamp", clock.now().replace(tzinfo=dt.UTC))
        event.add("dtstart", booking.starts_at.replace(tzinfo=dt.UTC))
        event.add("dtend", booking.ends_at.replace(tzinfo=dt.UTC))
        event.add("summary", f"Pause session {booking.reference} ({booking.modality})")
        calendar.add_component(event)
    return calendar.to_ical()


def set_windows(session: Session, profile: TherapistProfile, windows: list[tuple[int, dt.time, dt.time]]) -> None:
    profile.windows = [AvailabilityWindow(weekday=weekday, start=start, end=end) for weekday, start, end in windows]


def add_exception(session: Session, profile: TherapistProfile, day: dt.date, kind: str, start: dt.time | None,
                  end: dt.time | None) -> None:
    profile.exceptions.append(AvailabilityException(day=day, kind=kind, start=start, end=end))


# Jobs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    field: str
    before: dt.timedelta
    subject: str


REMINDERS = (
    Reminder("reminded_day_before_at", dt.timedelta(hours=24), "Reminder: your appointment tomorrow"),
    Reminder("reminded_hour_before_at", dt.timedelta(hours=1), "Reminder: your appointment in one hour"),
)


def send_due_reminders(session: Session) -> int:
    """Queues the reminders that are due: each once, never for a cancelled booking, and
    only while the session is still to come."""
    now, queued = clock.now(), 0
    for booking in session.scalars(select(Booking).where(Booking.status == LIVE,
                                                         Booking.sealed_reminder_email.is_not(None),
                                                         Booking.starts_at > now)):
        for reminder in REMINDERS:
            if getattr(booking, reminder.field) is not None or now < booking.starts_at - reminder.before:
                continue
            # The one-hour reminder makes the day-before one pointless if both are due.
            setattr(booking, reminder.field, now)
            if reminder.field == "reminded_day_before_at" and now >= booking.starts_at - dt.timedelta(hours=1):
                continue
            outbox.queue(session, crypto.unseal(booking.sealed_reminder_email), reminder.subject,
                         f"This is a reminder of an appointment at {booking.starts_at:%Y-%m-%d %H:%M} UTC.\n\n"
                         "You asked for this reminder. No reply is needed.")
            queued += 1
    return queued


def erase_booking_details(session: Session) -> int:
    """A day after the session: the note, the way to reach the visitor and the reminder
    address go. After 30 days: only therapist, date, modality and outcome stay."""
    now, changed = clock.now(), 0
    for booking in session.scalars(select(Booking).where(Booking.details_erased_at.is_(None),
                                                         Booking.ends_at <= now - DETAILS_KEPT_AFTER_SESSION)):
        booking.sealed_note = booking.sealed_contact = booking.sealed_reminder_email = None
        booking.sealed_therapist_message = None
        booking.details_erased_at = now
        changed += 1
    for booking in session.scalars(select(Booking).where(Booking.reduced_at.is_(None),
                                                         Booking.session_day <= (now - REDUCED_AFTER).date())):
        if booking.status == LIVE:
            booking.status = "unrecorded"  # the therapist never said; a reduced row holds no time
        booking.key_digest = None
        booking.anonymous_key_id = None
        booking.starts_at = booking.ends_at = None
        booking.calendar_title = ""
        booking.from_relative = False
        booking.sealed_note = booking.sealed_contact = booking.sealed_reminder_email = None
        booking.sealed_therapist_message = None
        booking.reduced_at = now
        changed += 1
    return changed
