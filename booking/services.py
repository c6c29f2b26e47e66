"""Booking rules: who has which free slots, booking without a double booking, managing
with a booking key, the therapist's side, reminders and erasure. Plain functions over
a Session; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import slots as slot_rules
from booking.models import (
    LIVE,
    MODALITIES,
    AvailabilityException,
    AvailabilityWindow,
    Booking,
    BookingMessage,
    ReminderMail,
    TherapistProfile,
)
from booking.words import OUTCOMES
from service import audit, crypto, outbox
from service.addresses import checked_address
from service.auth.models import StaffMember
from service.clock import clock
from service.crisis.services import PHONE
from service.hashing import anonymous_key_digest
from service.visitor.current import key_forgetting
from service.visitor.services import format_key, generate_key, normalise_key

MAX_NOTE = 1000
MAX_CALENDAR_TITLE = 80
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
    exceptions = [slot_rules.DateException(item.day, item.kind, item.start, item.end, item.last_day)
                  for item in profile.exceptions]
    busy = [(booking.starts_at, booking.ends_at) for booking in live_bookings(session, profile.id, excluding_booking)]
    return slot_rules.free_slots(profile.time_zone, windows, exceptions, rules_of(profile), busy, as_of or clock.now())


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
    if reminder_email:
        try:
            reminder_email = checked_address(reminder_email)
        except ValueError:
            problems["reminder_email"] = str(_l("This does not look like an e-mail address. Leave it empty if "
                                                "you want no reminder."))
    if problems:
        raise InvalidBooking(problems)
    return {"modality": modality, "language": language, "note": note,
            "contact": contact if modality == "phone" else "", "reminder_email": reminder_email}


def key_for_attempt(secret: str, attempt: str) -> str | None:
    """The booking key for one filling-in of the booking form, derived from the random
    token the form carries (and the app's secret), or None for a token that is not one.
    If the answer to a booking is lost (the database or the network failed after the
    commit), posting the same form again finds the booking and shows the same key,
    instead of leaving a slot held by a key no one has."""
    import hmac

    from service.visitor.services import ALPHABET, KEY_LENGTH

    if not (16 <= len(attempt or "") <= 64) or not re.fullmatch(r"[A-Za-z0-9_-]+", attempt):
        return None
    digest = int.from_bytes(hmac.new(secret.encode(), f"booking-attempt:{attempt}".encode(), "sha256").digest())
    raw = "".join(ALPHABET[(digest >> (5 * position)) & 31] for position in range(KEY_LENGTH))
    return format_key(raw)


def booking_of_attempt(session: Session, key_digest: bytes | None, anonymous_key_id: int | None, therapist_id: int,
                       starts_at: dt.datetime) -> Booking | None:
    """The live booking this same form already made, if any (`key_digest`: of the key
    from key_for_attempt)."""
    if anonymous_key_id is not None:
        query = select(Booking).where(Booking.anonymous_key_id == anonymous_key_id)
    elif key_digest is not None:
        query = select(Booking).where(Booking.key_digest == key_digest)
    else:
        return None
    return session.scalar(query.where(Booking.therapist_id == therapist_id, Booking.starts_at == starts_at,
                                      Booking.status == LIVE))


def book(session: Session, therapist_id: int, starts_at: dt.datetime, request: dict,
         anonymous_key_id: int | None = None, calendar_title: str = "",
         plain_key: str | None = None, key_digest: bytes | None = None,
         from_relative: bool = False) -> tuple[Booking, str | None]:
    """Books the slot if it is still free; raises SlotTaken otherwise. Returns the booking
    and its booking key (None when the visitor's anonymous key holds it instead); the key
    is `plain_key` when the form gave one (see key_for_attempt), whose digest the caller
    may have computed already."""
    # The key is hashed before the therapist is locked: argon2id takes tens of
    # milliseconds, and everyone booking this therapist would wait on it.
    plain_key = None if anonymous_key_id else (plain_key or generate_key())
    if plain_key is None:
        key_digest = None
    elif key_digest is None:
        key_digest = anonymous_key_digest(normalise_key(plain_key))
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
        sealed_therapist_message=None,
        sealed_calendar_title=crypto.seal(calendar_title[:MAX_CALENDAR_TITLE]) if calendar_title.strip() else None,
        from_relative=from_relative,
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


def change_cutoff() -> dt.timedelta:
    from flask import current_app

    return dt.timedelta(hours=current_app.config["PAUSE"].booking_change_cutoff_hours)


def can_change(booking: Booking, now: dt.datetime, cutoff: dt.timedelta | None = None) -> bool:
    """Whether the visitor may still move or cancel online: a live booking, up to and
    including the moment exactly `cutoff` (the programme's, by default) before it starts.
    The manage page and the services both ask this, so they cannot disagree."""
    cutoff = change_cutoff() if cutoff is None else cutoff
    return booking.status == LIVE and booking.starts_at is not None and now <= booking.starts_at - cutoff


def _before_cutoff(booking: Booking, cutoff: dt.timedelta | None = None) -> None:
    if booking.status != LIVE:
        raise BookingError(_l("This appointment is no longer booked."))
    if not can_change(booking, clock.now(), cutoff):
        raise BookingError(_l("It is too late to change this appointment online. If you cannot come, please "
                              "tell the therapist at the start of the session, or simply do not come."))


def cancel(session: Session, booking: Booking, cutoff: dt.timedelta | None = None) -> None:
    _before_cutoff(booking, cutoff)
    booking.status = "cancelled"
    delete_unsent_reminders(session, [booking.id])


def calendar_title(booking: Booking) -> str:
    """The visitor's own title for the calendar file, or "" for the neutral one."""
    return crypto.unseal(booking.sealed_calendar_title) if booking.sealed_calendar_title else ""


def delete_unsent_reminders(session: Session, booking_ids: list[int]) -> int:
    """Reminders of these bookings still waiting in the outbox go, with the address they
    hold; sent ones are already without it."""
    from sqlalchemy import delete

    if not booking_ids:
        return 0
    waiting = select(ReminderMail.message_id).where(ReminderMail.booking_id.in_(booking_ids))
    return session.execute(delete(outbox.OutboxMessage).where(outbox.OutboxMessage.id.in_(waiting),
                                                              outbox.OutboxMessage.sent_at.is_(None))
                           .execution_options(synchronize_session=False)).rowcount or 0


def erase_details(session: Session, booking: Booking) -> None:
    """What the visitor wrote, the way to reach them, their reminder address and title,
    and the therapist's message: all sealed, all gone, with reminders not yet sent."""
    booking.sealed_note = booking.sealed_contact = booking.sealed_reminder_email = None
    booking.sealed_therapist_message = booking.sealed_calendar_title = None
    session.execute(delete(BookingMessage).where(BookingMessage.booking_id == booking.id))
    delete_unsent_reminders(session, [booking.id])


@key_forgetting.connect
def _forget_bookings_with_the_key(session: Session, key_id: int) -> None:
    forget_bookings_of_key(session, key_id)


def forget_bookings_of_key(session: Session, key_id: int) -> int:
    """"Forget me": the key's future bookings are cancelled, their sealed details erased
    and their queued reminders deleted, before the key itself goes (and with it the link
    from the bookings to the key). Past ones keep only what the therapist records."""
    now, changed = clock.now(), 0
    for booking in session.scalars(select(Booking).where(Booking.anonymous_key_id == key_id)):
        if booking.status == LIVE and booking.starts_at is not None and booking.starts_at > now:
            booking.status = "cancelled"
        erase_details(session, booking)
        booking.details_erased_at = booking.details_erased_at or now
        changed += 1
    return changed


def move(session: Session, booking: Booking, new_start: dt.datetime, cutoff: dt.timedelta | None = None) -> None:
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


@dataclass(frozen=True)
class Message:
    written_at: dt.datetime  # UTC, naive
    body: str


def therapist_messages(session: Session, booking: Booking) -> list[Message]:
    """The therapist's messages to the visitor about this appointment, oldest first (one
    left before messages became a list comes first)."""
    messages = [Message(booking.created_at, crypto.unseal(booking.sealed_therapist_message))] \
        if booking.sealed_therapist_message else []
    rows = session.scalars(select(BookingMessage).where(BookingMessage.booking_id == booking.id)
                           .order_by(BookingMessage.created_at, BookingMessage.id))
    return messages + [Message(row.created_at, crypto.unseal(row.sealed_body)) for row in rows]


def week_of_free_times(session: Session, therapist: TherapistProfile, week_start: dt.date, now: dt.datetime,
                       zone: str = "Europe/Brussels", excluding_booking: int | None = None) -> dict:
    """One therapist's free times in the week from `week_start` (a local date in `zone`,
    the visitor's), grouped by local day, and the first local day with free times after
    that week (None if there is none)."""
    free = free_slots_for(session, therapist, excluding_booking=excluding_booking, as_of=now)
    days = slot_rules.local_day_slots(free, zone)
    last_day = week_start + dt.timedelta(days=6)
    return {"days": {day: slots for day, slots in days.items() if week_start <= day <= last_day},
            "next_day": next((day for day in days if day > last_day), None), "any": bool(free)}


# A calendar file can be seen by anyone who sees the visitor's calendar: nothing in it
# names the programme, not even the identifiers calendar apps keep.
NEUTRAL_PRODID = "-//Calendar//Appointment//EN"


def neutral_uid(booking: Booking) -> str:
    """Stable for a booking (importing the file twice updates one event), naming nothing."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"booking {booking.reference}"))


def calendar_file(booking: Booking, profile: TherapistProfile, title: str, description: str) -> bytes:
    """An .ics for the visitor: neutral words unless they chose a title of their own."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", NEUTRAL_PRODID)
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", neutral_uid(booking))
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
        # Closed, with no public name, until the therapist chooses one and opens their diary:
        # an account name is not something visitors should read.
        profile = TherapistProfile(staff_id=staff.id, display_name="", languages="en fr",
                                   modalities="phone video", location="", introduction="", time_zone="Europe/Brussels",
                                   session_minutes=50, buffer_minutes=10, notice_hours=12, horizon_days=42,
                                   active=False, calendar_token_digest=None)
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


def can_record_outcome(booking: Booking, now: dt.datetime) -> bool:
    """Attended or did not attend can be said once the session has started, not before."""
    return booking.starts_at is not None and now >= booking.starts_at and booking.status != "cancelled"


def mark(session: Session, staff: StaffMember, booking: Booking, status: str, now: dt.datetime | None = None) -> None:
    """Records what happened: attended or did not attend once the session has started
    (and corrected later, audited as a correction), or cancelled while still booked."""
    now = clock.now() if now is None else now
    if status == "cancelled":
        if booking.status != LIVE:
            raise BookingError(_l("Only an appointment that is still booked can be cancelled."))
        booking.status = status
        audit.record(session, staff, "booking.cancelled", "booking", booking.reference)
        return
    if status not in OUTCOMES:
        raise BookingError(_l("Please choose “Attended” or “Did not attend”."))
    if booking.status == "cancelled":
        raise BookingError(_l("This appointment was cancelled, so it has no outcome."))
    if not can_record_outcome(booking, now):
        raise BookingError(_l("The outcome can be recorded once the session has started."))
    if booking.status == status:
        return
    before, booking.status = booking.status, status
    if before == LIVE:
        audit.record(session, staff, f"booking.{status}", "booking", booking.reference)
    else:
        audit.record(session, staff, "booking.outcome_corrected", "booking", booking.reference, before=before,
                     after=status)


def leave_message(session: Session, staff: StaffMember, booking: Booking, message: str,
                  now: dt.datetime | None = None) -> BookingMessage:
    """Adds a message to the appointment's list; earlier ones stay as they were."""
    text = (message or "").replace("\r\n", "\n").strip()
    if not text:
        raise BookingError(_l("Please write the message before sending it."))
    if len(text) > MAX_NOTE:
        raise BookingError(_l("The message is %(length)d characters long; the most it can be is %(limit)d.",
                              length=len(text), limit=MAX_NOTE))
    if booking.details_erased_at is not None:
        raise BookingError(_l("The details of this appointment have been erased, so it takes no more messages."))
    item = BookingMessage(booking_id=booking.id, sealed_body=crypto.seal(text),
                          created_at=clock.now() if now is None else now)
    session.add(item)
    audit.record(session, staff, "booking.message_left", "booking", booking.reference)
    return item


def new_calendar_token(session: Session, profile: TherapistProfile) -> str:
    token = secrets.token_urlsafe(32)
    profile.calendar_token_digest = hashlib.sha256(token.encode()).hexdigest()
    return token


def profile_by_calendar_token(session: Session, token: str) -> TherapistProfile | None:
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    return session.scalar(select(TherapistProfile).where(TherapistProfile.calendar_token_digest == digest))


def calendar_feed(session: Session, profile: TherapistProfile, link_for=None) -> bytes:
    """The therapist's appointments, past ones included (a diary keeps its history until
    the booking is reduced), each with a neutral title and, when `link_for(reference)` is
    given, the address of the appointment in the workspace. Nothing about visitors."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", NEUTRAL_PRODID)
    calendar.add("version", "2.0")
    for booking in session.scalars(select(Booking).where(Booking.therapist_id == profile.id,
                                                         Booking.status != "cancelled",
                                                         Booking.starts_at.is_not(None))
                                   .order_by(Booking.starts_at)):
        event = Event()
        event.add("uid", neutral_uid(booking))
        event.add("dtstamp", clock.now().replace(tzinfo=dt.UTC))
        event.add("dtstart", booking.starts_at.replace(tzinfo=dt.UTC))
        event.add("dtend", booking.ends_at.replace(tzinfo=dt.UTC))
        event.add("summary", str(NEUTRAL_TITLE))
        if link_for is not None:
            event.add("url", link_for(booking.reference))
            event.add("description", link_for(booking.reference))
        calendar.add_component(event)
    return calendar.to_ical()


def set_windows(session: Session, profile: TherapistProfile, windows: list[tuple[int, dt.time, dt.time]]) -> None:
    profile.windows = [AvailabilityWindow(weekday=weekday, start=start, end=end) for weekday, start, end in windows]


def add_exception(session: Session, profile: TherapistProfile, day: dt.date, kind: str, start: dt.time | None,
                  end: dt.time | None, last_day: dt.date | None = None) -> None:
    profile.exceptions.append(AvailabilityException(day=day, kind=kind, start=start, end=end,
                                                    last_day=last_day if last_day and last_day > day else None))


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
    # Read in full first: each reminder queued is flushed (for its link) as we go.
    for booking in list(session.scalars(select(Booking).where(Booking.status == LIVE,
                                                              Booking.sealed_reminder_email.is_not(None),
                                                              Booking.starts_at > now))):
        for reminder in REMINDERS:
            if getattr(booking, reminder.field) is not None or now < booking.starts_at - reminder.before:
                continue
            # The one-hour reminder makes the day-before one pointless if both are due.
            setattr(booking, reminder.field, now)
            if reminder.field == "reminded_day_before_at" and now >= booking.starts_at - dt.timedelta(hours=1):
                continue
            message = outbox.queue(session, crypto.unseal(booking.sealed_reminder_email), reminder.subject,
                                   f"This is a reminder of an appointment at {booking.starts_at:%Y-%m-%d %H:%M} "
                                   "UTC.\n\nYou asked for this reminder. No reply is needed.")
            session.flush()
            session.add(ReminderMail(booking_id=booking.id, message_id=message.id))
            queued += 1
    return queued


def erase_booking_details(session: Session) -> int:
    """A day after the session: the note, the way to reach the visitor and the reminder
    address go. After 30 days: only therapist, date, modality and outcome stay."""
    now, changed = clock.now(), 0
    for booking in session.scalars(select(Booking).where(Booking.details_erased_at.is_(None),
                                                         Booking.ends_at <= now - DETAILS_KEPT_AFTER_SESSION)):
        erase_details(session, booking)
        booking.details_erased_at = now
        changed += 1
    for booking in session.scalars(select(Booking).where(Booking.reduced_at.is_(None),
                                                         Booking.session_day <= (now - REDUCED_AFTER).date())):
        if booking.status == LIVE:
            booking.status = "unrecorded"  # the therapist never said; a reduced row holds no time
        booking.key_digest = None
        booking.anonymous_key_id = None
        booking.starts_at = booking.ends_at = None
        booking.from_relative = False
        erase_details(session, booking)
        booking.reduced_at = now
        changed += 1
    return changed
