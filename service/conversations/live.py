"""The rules of live text sessions: opening a booked session, the walk-in queue, writing,
ending, the transcript and its erasure, and the staffed hours per language.

Plain functions taking the session they work in; the caller owns the transaction. The
words are messages of a conversation of kind "live" (service.conversations.services), so
ids only grow and a reader that remembers the last id it showed misses none and repeats
none, and a walk-in nobody could take becomes a thread by moving its messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from booking.models import LIVE as BOOKED_STATUS
from booking.models import Booking, TherapistProfile
from service import crypto
from service.auth.models import StaffMember
from service.clock import clock
from service.conversations import services as conversations
from service.conversations.live_models import (
    BOOKED,
    ENDED_UNATTENDED,
    MOVED_TO_THREAD,
    WALK_IN,
    LiveSession,
    StaffedHours,
)
from service.conversations.models import CLOSED, STAFF, VISITOR, Conversation, Message

log = logging.getLogger(__name__)

# The visitor and the therapist may open a booked session this long before its start.
OPENS_BEFORE = dt.timedelta(minutes=10)
# ... and until this long after its planned end, if neither has ended it.
OPEN_AFTER_END = dt.timedelta(hours=1)
# A session nobody writes in for this long is ended by the jobs (the transcript's
# countdown then starts).
UNATTENDED_AFTER = dt.timedelta(hours=2)
# The programme's opening words are a message of their own kind, written by nobody.
STATEMENT = "statement"
# Roles that take walk-in chats.
WALK_IN_ROLES = ("counsellor", "duty")

# States as the pages and the event stream name them.
WAITING = "waiting"  # a walk-in in the queue
OFFERED = "offered"  # a walk-in nobody took in time, or out of hours: offered a thread
OPEN = "open"
ENDED = "ended"


class LiveError(RuntimeError):
    """The session cannot do that now; `str()` is a sentence for the visitor or staff."""


def confidentiality_statement(language: str) -> str:
    """The programme's confidentiality statement, the first message of every session, in
    the session's language."""
    with force_locale(language):
        return _("Welcome. This conversation is confidential: what you write stays between you and the "
                 "programme's staff, and it is erased %(hours)d hours after the session ends, or at once if you "
                 "ask. We never ask for your name. The one exception: if you tell us a child is in danger now, "
                 "we will act to protect them, and we will tell you first.", hours=_transcript_hours())


def _transcript_hours() -> int:
    return current_app.config["PAUSE"].live_transcript_hours


def _new_live_conversation(session: Session, language: str, key_id: int | None, staff_id: int | None
                           ) -> Conversation:
    conversation = conversations.open_conversation(session, key_id=key_id, body=None, language=language,
                                                   kind="live", origin="live")
    conversation.assigned_to_id = staff_id
    conversation.claimed_at = clock.now() if staff_id else None
    now = clock.now()
    session.add(Message(conversation_id=conversation.id, author=STAFF, staff_id=None, kind=STATEMENT,
                        sealed_body=crypto.seal(confidentiality_statement(language)), created_at=now,
                        read_at=None))
    session.flush()
    return conversation


# Booked sessions ------------------------------------------------------------------------


def booked_session_opens_at(booking: Booking) -> dt.datetime | None:
    return booking.starts_at - OPENS_BEFORE if booking.starts_at else None


def booked_session_is_openable(booking: Booking, now: dt.datetime) -> bool:
    """A text-chat appointment, still booked, from 10 minutes before its start until an
    hour after its planned end."""
    return (booking.modality == "chat" and booking.status == BOOKED_STATUS and booking.starts_at is not None
            and booking.ends_at is not None and booking.starts_at - OPENS_BEFORE <= now
            < booking.ends_at + OPEN_AFTER_END)


def session_of_booking(session: Session, booking_id: int) -> LiveSession | None:
    return session.scalar(select(LiveSession).where(LiveSession.booking_id == booking_id))


def open_booked_session(session: Session, booking: Booking, now: dt.datetime) -> LiveSession:
    """The live session of the appointment, made the first time either side opens it.
    The booking row is locked first, so two first openings make one session."""
    session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    existing = session_of_booking(session, booking.id)
    if existing is not None:
        return existing
    if not booked_session_is_openable(booking, now):
        raise LiveError(_("The text session opens 10 minutes before the appointment starts."))
    profile = session.get(TherapistProfile, booking.therapist_id)
    conversation = _new_live_conversation(session, booking.language, booking.anonymous_key_id, profile.staff_id)
    live = LiveSession(conversation_id=conversation.id, kind=BOOKED, booking_id=booking.id,
                       language=booking.language, staff_id=profile.staff_id, opened_at=now, queued_at=None,
                       picked_up_at=now, ended_at=None, ended_by=None, last_message_at=None,
                       transcript_erased_at=None)
    session.add(live)
    session.flush()
    return live


def therapist_may_open(session: Session, staff: StaffMember, booking: Booking) -> bool:
    profile = session.get(TherapistProfile, booking.therapist_id)
    return profile is not None and profile.staff_id == staff.id


# Walk-in chat ---------------------------------------------------------------------------


def join_walk_in(session: Session, language: str, first_words: str, key_id: int | None, now: dt.datetime
                 ) -> LiveSession:
    """A walk-in chat: in the queue if the language is staffed now, or at once offered a
    thread (state OFFERED) if it is not. What the visitor wrote is kept either way.
    Raises InvalidMessage (nothing written) if their words cannot be kept."""
    words = conversations.clean_body(first_words) if first_words.strip() else None
    conversation = _new_live_conversation(session, language, key_id, None)
    live = LiveSession(conversation_id=conversation.id, kind=WALK_IN, booking_id=None, language=language,
                       staff_id=None, opened_at=now, queued_at=now, picked_up_at=None, ended_at=None, ended_by=None,
                       last_message_at=now if words else None, transcript_erased_at=None)
    session.add(live)
    session.flush()
    if words:
        conversations.post_message(session, conversation, VISITOR, words)
    return live


def waiting_limit() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["PAUSE"].walk_in_wait_minutes)


def state_of(session: Session, live: LiveSession, now: dt.datetime) -> str:
    if live.ended_at is not None:
        return ENDED
    if live.kind == WALK_IN and live.picked_up_at is None:
        if now - live.queued_at >= waiting_limit() or not is_staffed(session, live.language, now):
            return OFFERED
        return WAITING
    return OPEN


def place_in_queue(session: Session, live: LiveSession) -> int:
    """1 for the next to be picked up, among walk-ins in the same language."""
    ahead = session.scalar(select(func.count()).select_from(LiveSession).where(
        LiveSession.kind == WALK_IN, LiveSession.language == live.language, LiveSession.picked_up_at.is_(None),
        LiveSession.ended_at.is_(None), LiveSession.queued_at < live.queued_at)) or 0
    return ahead + 1


@dataclass(frozen=True)
class QueueEntry:
    live_id: int
    language: str
    queued_at: dt.datetime
    waiting: dt.timedelta
    place: int  # within its language
    past_limit: bool  # offered a thread already; a counsellor may still take it


def walk_in_queue(session: Session, now: dt.datetime) -> list[QueueEntry]:
    """The walk-ins nobody has picked up, oldest first, with how long each has waited
    (for the counsellors' queue and the staff home)."""
    waiting = session.scalars(select(LiveSession).where(
        LiveSession.kind == WALK_IN, LiveSession.picked_up_at.is_(None), LiveSession.ended_at.is_(None))
        .order_by(LiveSession.queued_at, LiveSession.id)).all()
    places: dict[str, int] = {}
    limit = waiting_limit()
    entries = []
    for live in waiting:
        places[live.language] = places.get(live.language, 0) + 1
        entries.append(QueueEntry(live.id, live.language, live.queued_at, now - live.queued_at,
                                  places[live.language], now - live.queued_at >= limit))
    return entries


def may_take_walk_ins(staff: StaffMember) -> bool:
    return bool(staff.role_names & set(WALK_IN_ROLES))


def pick_up(session: Session, staff: StaffMember, live_id: int, now: dt.datetime) -> bool:
    """The counsellor takes the chat: one conditional UPDATE, so of two counsellors
    picking the same chat at once exactly one gets it. False if someone was first (or
    the visitor left)."""
    taken = session.execute(update(LiveSession).where(
        LiveSession.id == live_id, LiveSession.kind == WALK_IN, LiveSession.picked_up_at.is_(None),
        LiveSession.ended_at.is_(None)).values(picked_up_at=now, staff_id=staff.id)).rowcount
    if not taken:
        return False
    live = session.get(LiveSession, live_id)
    session.refresh(live)
    conversation = session.get(Conversation, live.conversation_id)
    conversation.assigned_to_id, conversation.claimed_at = staff.id, now
    return True


def move_to_thread(session: Session, live: LiveSession, key_id: int, now: dt.datetime) -> Conversation:
    """A walk-in nobody could take becomes a message thread owned by the visitor's key:
    what they wrote moves into it (the very rows, so nothing is copied or lost), and
    the live session ends."""
    if live.kind != WALK_IN or live.picked_up_at is not None or live.ended_at is not None:
        raise LiveError(_("This chat can no longer be kept as a message thread."))
    thread = conversations.open_conversation(session, key_id=key_id, body=None, language=live.language,
                                             kind="thread", origin="live")
    moved = session.execute(update(Message).where(
        Message.conversation_id == live.conversation_id, Message.author == VISITOR)
        .values(conversation_id=thread.id)).rowcount
    session.expire_all()
    if moved:
        thread = session.get(Conversation, thread.id)
        thread.visitor_read_up_to = session.scalar(select(func.max(Message.id))
                                                   .where(Message.conversation_id == thread.id))
        thread.reply_due_at = conversations.add_working_days(now, conversations._promise_days(None))
        thread.updated_at = now
    live = session.get(LiveSession, live.id)
    _end(session, live, MOVED_TO_THREAD, now)
    return thread


# Writing and ending ---------------------------------------------------------------------


def say(session: Session, live: LiveSession, side: str, body: str, staff: StaffMember | None,
        now: dt.datetime) -> Message:
    """A message from one side. Raises InvalidMessage (the view shows the text again) or
    LiveError when the session has ended or, for staff, is not theirs yet."""
    if live.ended_at is not None:
        raise LiveError(_("This session has ended."))
    conversation = session.get(Conversation, live.conversation_id)
    if side == STAFF and (staff is None or live.staff_id != staff.id):
        raise LiveError(_("This session is not yours."))
    message = conversations.post_message(session, conversation, side, body, staff=staff)
    live.last_message_at = now
    return message


def end(session: Session, live: LiveSession, by: str, now: dt.datetime) -> None:
    if live.ended_at is None:
        _end(session, live, by, now)


def _end(session: Session, live: LiveSession, by: str, now: dt.datetime) -> None:
    live.ended_at, live.ended_by = now, by
    conversation = session.get(Conversation, live.conversation_id) if live.conversation_id else None
    if conversation is not None:
        conversation.status, conversation.closed_at = CLOSED, now


def erase_transcript(session: Session, live: LiveSession, now: dt.datetime) -> None:
    """The words go (the conversation and all its messages); the session row keeps only
    its times, for the programme's counts."""
    if live.conversation_id is not None:
        session.execute(delete(Message).where(Message.conversation_id == live.conversation_id))
        session.execute(delete(Conversation).where(Conversation.id == live.conversation_id))
    live.conversation_id = None
    live.transcript_erased_at = now


def erase_expired_transcripts(session: Session, now: dt.datetime, hours: int) -> int:
    """The jobs' round: end sessions left open with nothing said for two hours, erase
    every transcript `hours` after its session ended, and after a year the session's
    times too."""
    quiet_since = now - UNATTENDED_AFTER
    for live in session.scalars(select(LiveSession).where(
            LiveSession.ended_at.is_(None),
            func.coalesce(LiveSession.last_message_at, LiveSession.opened_at) < quiet_since)):
        _end(session, live, ENDED_UNATTENDED, now)
    session.flush()
    erased = 0
    for live in session.scalars(select(LiveSession).where(
            LiveSession.ended_at < now - dt.timedelta(hours=hours), LiveSession.transcript_erased_at.is_(None))
            .limit(1000)):
        erase_transcript(session, live, now)
        erased += 1
    # What stays of a session (its times) goes after a year, as the registry says.
    session.execute(delete(LiveSession).where(LiveSession.ended_at < now - dt.timedelta(days=365),
                                              LiveSession.transcript_erased_at.is_not(None)))
    return erased


@dataclass(frozen=True)
class Line:
    id: int
    author: str  # visitor, staff, or STATEMENT for the programme's words
    text: str
    at: dt.datetime


def lines_after(session: Session, conversation_id: int | None, after_id: int = 0, limit: int = 500) -> list[Line]:
    if conversation_id is None:
        return []
    rows = session.execute(select(Message.id, Message.author, Message.kind, Message.sealed_body, Message.created_at)
                           .where(Message.conversation_id == conversation_id, Message.id > after_id)
                           .order_by(Message.id).limit(limit)).all()
    return [Line(row.id, STATEMENT if row.kind == STATEMENT else row.author,
                 crypto.unseal(row.sealed_body) if row.sealed_body else "", row.created_at) for row in rows]


def transcript_text(lines: list[Line], zone: str, names: dict[str, str]) -> str:
    """The transcript as the visitor downloads it: plain text, times in their zone."""
    tz = ZoneInfo(zone)
    out = []
    for line in lines:
        local = line.at.replace(tzinfo=dt.UTC).astimezone(tz)
        out.append(f"[{local:%Y-%m-%d %H:%M}] {names[line.author]}:\n{line.text}\n")
    return "\n".join(out)


# Staffed hours --------------------------------------------------------------------------


def staffed_hours(session: Session, language: str | None = None) -> list[StaffedHours]:
    query = select(StaffedHours).order_by(StaffedHours.language, StaffedHours.weekday, StaffedHours.start)
    if language is not None:
        query = query.where(StaffedHours.language == language)
    return list(session.scalars(query))


def is_staffed(session: Session, language: str, now: dt.datetime) -> bool:
    for window in staffed_hours(session, language):
        local = now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(window.time_zone))
        if local.weekday() == window.weekday and window.start <= local.time().replace(tzinfo=None) < window.end:
            return True
    return False


def set_staffed_hours(session: Session, language: str, windows: list[tuple[int, dt.time, dt.time]],
                      zone: str = "Europe/Brussels") -> None:
    """Replaces the language's weekly hours. Windows are checked by the form."""
    session.execute(delete(StaffedHours).where(StaffedHours.language == language))
    for weekday, start, end_ in windows:
        session.add(StaffedHours(language=language, weekday=weekday, start=start, end=end_, time_zone=zone))


# The event stream -----------------------------------------------------------------------

# A listener looks in the database on its own this often even without a wake-up: a
# wake-up lost on the way costs at most this much delay, never a message. The look ends
# with a comment line, which keeps proxies from timing the stream out and lets the
# server notice a browser that went away.
POLL_SECONDS = 15
# In the queue, places move without any wake-up: look more often.
QUEUE_POLL_SECONDS = 5
# Each stream ends after this long and the browser reconnects (with Last-Event-ID),
# so a stream never outlives a signed-out staff session or an ended chat for long.
STREAM_SECONDS = 300


def sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_sessions(app: Flask) -> sessionmaker:
    """The app's own sessions: in production the streams run in their own process
    (deploy/gunicorn-live.conf.py), so their pool is theirs alone."""
    return app.extensions["pause_db"]["sessionmaker"]


def event_stream(app: Flask, live_id: int, side: str, after_id: int, zone: str) -> Iterator[str]:
    """Server-sent events for one participant: each message above `after_id` once, in
    order, with its id as the event id (so the browser's Last-Event-ID resumes exactly),
    and the session's state when it changes. No database transaction stays open while
    it waits: each look is its own short session."""
    started = clock.now()
    last_state = None
    yield "retry: 1500\n\n"
    with app.extensions["pause_live_bus"].listening(live_id) as woken:
        while True:
            woken.clear()
            try:
                with app.app_context(), stream_sessions(app)() as session:
                    live = session.get(LiveSession, live_id)
                    if live is None:
                        return
                    lines = lines_after(session, live.conversation_id, after_id)
                    now = clock.now()
                    state = state_of(session, live, now)
                    place = place_in_queue(session, live) if state == WAITING else 0
            except SQLAlchemyError:
                # The database is busy or away: say nothing, look again shortly. The
                # browser keeps its place (the last id it saw), so nothing is lost.
                log.warning("live stream: the database did not answer; looking again")
                woken.wait(1)
                continue
            if (state, place) != last_state:
                last_state = (state, place)
                yield sse("state", {"state": state, "place": place})
            tz = ZoneInfo(zone)
            for line in lines:
                after_id = line.id
                yield sse("message", {"id": line.id, "author": line.author, "text": line.text,
                                      "at": line.at.replace(tzinfo=dt.UTC).astimezone(tz).strftime("%H:%M"),
                                      "mine": line.author == side}, line.id)
            if state == ENDED or (now - started).total_seconds() > STREAM_SECONDS:
                return
            if not woken.wait(QUEUE_POLL_SECONDS if state in (WAITING, OFFERED) else POLL_SECONDS):
                yield ": still here\n\n"
