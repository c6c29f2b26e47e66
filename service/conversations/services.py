"""The rules of conversations: opening, writing, reading, claiming, closing, reminding,
erasing. Plain functions taking the session they work in; the caller owns the
transaction (`with db.transaction() as session:`), as in booking.services.

Used by /talk (the visitor), /staff/messages (counsellors and duty staff), the urgent
contact path, self-help feedback, the scheduler, and live sessions (issue 17).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, object_session

from service import audit, crypto, outbox
from service.auth.models import StaffMember, StaffRole
from service.clock import clock
from service.conversations.models import (
    CLOSED,
    STAFF,
    VISITOR,
    WAITING_FOR_COUNSELLOR,
    WAITING_FOR_VISITOR,
    Conversation,
    Message,
    Note,
)

MAX_MESSAGE = 4000
MAX_NOTE = 4000
# Who may answer a visitor: counsellors, and duty staff (the urgent path's people).
ANSWERING_ROLES = ("counsellor", "duty")
TABS = ("unassigned", "mine", "waiting", "closed")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
NOTICE_SUBJECT = "Pause: you have a new message"
NOTICE_BODY = "You have a new message.\n\nThis e-mail holds nothing else on purpose."


class InvalidMessage(ValueError):
    """What the visitor or counsellor wrote cannot be kept as it is; `problems` says why
    per field, in their language. The text itself is never lost: the view shows it again."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class HeldByAnother(RuntimeError):
    """Another counsellor holds the thread: answering it needs an explicit take-over."""

    def __init__(self, holder: StaffMember | None) -> None:
        super().__init__("held by another counsellor")
        self.holder = holder


class ConversationClosed(RuntimeError):
    pass


# Writing ---------------------------------------------------------------------------------


def clean_body(text: str | None, field: str = "body", limit: int = MAX_MESSAGE) -> str:
    """The text as it will be kept, or InvalidMessage."""
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidMessage({field: str(_l("Please write your message."))})
    if len(body) > limit:
        raise InvalidMessage({field: str(_l(
            "Your message is %(count)d characters long; the limit is %(limit)d. Please shorten it: your text is "
            "kept below.", count=len(body), limit=limit))})
    if any(ord(char) < 32 and char not in "\n\t" for char in body):
        raise InvalidMessage({field: str(_l("Your text contains characters we cannot keep. Please remove them."))})
    return body


def clean_notice_address(address: str | None) -> str:
    address = (address or "").strip()
    if address and (len(address) > 254 or not EMAIL.match(address)):
        raise InvalidMessage({"notice_address": str(_l(
            "This does not look like an e-mail address. Leave it empty if you want no notice."))})
    return address


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """`days` working days (Monday to Friday) after `start`, at the same time of day. A
    message written at the weekend counts from Monday morning's first minute."""
    moment = start
    if moment.weekday() >= 5:
        moment = dt.datetime.combine(moment.date() + dt.timedelta(days=7 - moment.weekday()), dt.time())
    added = 0
    while added < days:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment


def _promise_days(reply_promise_days: int | None) -> int:
    if reply_promise_days is not None:
        return reply_promise_days
    return current_app.config["PAUSE"].conversation_reply_promise_days


def new_public_id() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits


def open_conversation(session: Session, *, key_id: int | None, body: str | None, language: str,
                      kind: str = "thread", origin: str = "talk", from_relative: bool = False,
                      urgent_case_id: int | None = None, notice_address: str = "", message_kind: str = "text",
                      reply_promise_days: int | None = None) -> Conversation:
    """A new conversation owned by the anonymous key `key_id`, with the visitor's first
    message (`body`; None opens a live session that has none yet). Raises InvalidMessage
    before anything is written."""
    text = clean_body(body) if body is not None else None
    address = clean_notice_address(notice_address)
    now = clock.now()
    conversation = Conversation(
        public_id=new_public_id(), key_id=key_id, kind=kind, origin=origin, from_relative=bool(from_relative),
        language=language, status=WAITING_FOR_COUNSELLOR, assigned_to_id=None, claimed_at=None, created_at=now,
        updated_at=now, reply_due_at=None, reminded_at=None, overdue_alerted_at=None, closed_at=None,
        urgent_case_id=urgent_case_id, sealed_notice_address=crypto.seal(address) if address else None,
        visitor_read_up_to=0, staff_read_up_to=0,
    )
    session.add(conversation)
    session.flush()
    if text is not None:
        _add_message(session, conversation, VISITOR, text, None, message_kind, _promise_days(reply_promise_days))
    return conversation


def post_message(session: Session, conversation: Conversation, author: str, body: str,
                 staff: StaffMember | None = None, kind: str = "text", take_over: bool = False,
                 reply_promise_days: int | None = None) -> Message:
    """Adds a message from the visitor or from staff.

    A visitor answering a closed thread opens it again. A counsellor answering a thread
    nobody holds claims it; one held by someone else raises HeldByAnother unless
    `take_over` is set (the counsellor chose to, having been told who holds it)."""
    text = clean_body(body)
    if author == STAFF:
        if staff is None:
            raise ValueError("a staff message needs its author")
        if conversation.is_closed:
            raise ConversationClosed
        claim(session, staff, conversation, take_over=take_over)
    elif author != VISITOR:
        raise ValueError(author)
    promise = _promise_days(reply_promise_days) if author == VISITOR else 0
    return _add_message(session, conversation, author, text, staff, kind, promise)


def _add_message(session: Session, conversation: Conversation, author: str, text: str,
                 staff: StaffMember | None, kind: str, promise_days: int) -> Message:
    now = clock.now()
    message = Message(conversation_id=conversation.id, author=author, staff_id=staff.id if staff else None,
                      kind=kind, sealed_body=crypto.seal(text), created_at=now, read_at=None)
    session.add(message)
    session.flush()
    conversation.updated_at = now
    if author == VISITOR:
        conversation.visitor_read_up_to = max(conversation.visitor_read_up_to, message.id)
        if conversation.is_closed:
            conversation.closed_at = None
        if conversation.status != WAITING_FOR_COUNSELLOR or conversation.reply_due_at is None:
            # The promise runs from the oldest message nobody has answered yet.
            if conversation.kind == "thread":
                conversation.reply_due_at = add_working_days(now, promise_days)
            conversation.reminded_at = conversation.overdue_alerted_at = None
        conversation.status = WAITING_FOR_COUNSELLOR
    else:
        conversation.staff_read_up_to = max(conversation.staff_read_up_to, message.id)
        conversation.status = WAITING_FOR_VISITOR
        conversation.reply_due_at = conversation.reminded_at = conversation.overdue_alerted_at = None
        if conversation.sealed_notice_address:
            outbox.queue(session, crypto.unseal(conversation.sealed_notice_address), NOTICE_SUBJECT, NOTICE_BODY)
    return message


def messages_since(conversation: Conversation, after_id: int = 0, session: Session | None = None) -> list[Message]:
    """The messages with an id above `after_id`, oldest first: ids only grow, so a reader
    that remembers the last id it showed misses none and repeats none."""
    from service.db import db

    session = session or object_session(conversation) or db.session
    return list(session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                      Message.id > after_id).order_by(Message.id)))


@dataclass(frozen=True)
class ShownMessage:
    id: int
    author: str
    kind: str
    body: str
    created_at: dt.datetime
    new: bool
    staff_id: int | None = None


def shown_messages(conversation: Conversation, reader: str, session: Session | None = None) -> list[ShownMessage]:
    """The messages opened for reading, each marked new when the reader has not seen it."""
    seen = conversation.visitor_read_up_to if reader == VISITOR else conversation.staff_read_up_to
    return [ShownMessage(message.id, message.author, message.kind,
                         crypto.unseal(message.sealed_body) if message.sealed_body else "", message.created_at,
                         message.author != reader and message.id > seen, message.staff_id)
            for message in messages_since(conversation, 0, session)]


def unread_count(session: Session, conversation: Conversation, reader: str) -> int:
    seen = conversation.visitor_read_up_to if reader == VISITOR else conversation.staff_read_up_to
    return session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conversation.id, Message.author != reader, Message.id > seen)) or 0


def mark_read(session: Session, conversation: Conversation, reader: str) -> None:
    """Everything the other side wrote is now read by `reader`."""
    last = session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation.id)) or 0
    now = clock.now()
    for message in session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                         Message.author != reader, Message.read_at.is_(None))):
        message.read_at = now
    if reader == VISITOR:
        conversation.visitor_read_up_to = last
    else:
        conversation.staff_read_up_to = last


# The visitor's side -------------------------------------------------------------------------


def conversations_for_key(session: Session, key_id: int) -> list[Conversation]:
    return list(session.scalars(select(Conversation).where(Conversation.key_id == key_id, Conversation.kind == "thread")
                                .order_by(Conversation.updated_at.desc())))


def find_for_visitor(session: Session, public_id: str, key_id: int | None, case_id: int | None = None
                     ) -> Conversation | None:
    """The conversation, if it belongs to the visitor's key (or to the urgent case whose
    code they typed in this session); None for any other, so a guessed or borrowed id
    tells nothing."""
    if not public_id or len(public_id) > 32 or (key_id is None and case_id is None):
        return None
    owner = []
    if key_id is not None:
        owner.append(Conversation.key_id == key_id)
    if case_id is not None:
        owner.append(and_(Conversation.urgent_case_id == case_id, Conversation.origin == "urgent"))
    return session.scalar(select(Conversation).where(Conversation.public_id == public_id, or_(*owner)))


def set_notice_address(session: Session, conversation: Conversation, address: str) -> None:
    """An address for a neutral notice, or none ("" erases it at once)."""
    address = clean_notice_address(address)
    conversation.sealed_notice_address = crypto.seal(address) if address else None


def delete_conversation(session: Session, conversation: Conversation) -> None:
    """The visitor's "delete at once": the thread, its messages and notes go now."""
    session.execute(delete(Conversation).where(Conversation.id == conversation.id))


def for_urgent_case(session: Session, case_id: int) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.urgent_case_id == case_id)
                          .order_by(Conversation.id))


# The counsellors' side ------------------------------------------------------------------------


def may_answer(staff: StaffMember) -> bool:
    return bool(staff.role_names & set(ANSWERING_ROLES))


def holder(session: Session, conversation: Conversation) -> StaffMember | None:
    return session.get(StaffMember, conversation.assigned_to_id) if conversation.assigned_to_id else None


def claim(session: Session, staff: StaffMember, conversation: Conversation, take_over: bool = False) -> None:
    """Makes `staff` the one who answers. Claiming is explicit: a thread held by another
    raises HeldByAnother unless the counsellor chose to take it over (audited)."""
    if conversation.assigned_to_id == staff.id:
        return
    if conversation.assigned_to_id is not None and not take_over:
        raise HeldByAnother(holder(session, conversation))
    previous = conversation.assigned_to_id
    conversation.assigned_to_id, conversation.claimed_at = staff.id, clock.now()
    audit.record(session, staff, "conversation.taken_over" if previous else "conversation.claimed",
                 "conversation", conversation.public_id)


def hand_over(session: Session, staff: StaffMember, conversation: Conversation, to: StaffMember | None) -> None:
    """Gives the thread to another counsellor, or back to the unassigned tab (`to` None).
    Only its holder (or anyone, when nobody holds it) may hand it over."""
    if conversation.assigned_to_id not in (None, staff.id):
        raise HeldByAnother(holder(session, conversation))
    if to is not None and not (to.is_active and may_answer(to)):
        raise ValueError("that person cannot answer messages")
    conversation.assigned_to_id = to.id if to else None
    conversation.claimed_at = clock.now() if to else None
    audit.record(session, staff, "conversation.handed_over", "conversation", conversation.public_id,
                 to=to.username if to else "")


def close(session: Session, staff: StaffMember, conversation: Conversation) -> None:
    if conversation.is_closed:
        return
    if conversation.assigned_to_id not in (None, staff.id):
        raise HeldByAnother(holder(session, conversation))
    conversation.status, conversation.closed_at = CLOSED, clock.now()
    conversation.reply_due_at = conversation.reminded_at = conversation.overdue_alerted_at = None
    audit.record(session, staff, "conversation.closed", "conversation", conversation.public_id)


def add_note(session: Session, staff: StaffMember, conversation: Conversation, body: str) -> Note:
    text = clean_body(body, field="note", limit=MAX_NOTE)
    note = Note(conversation_id=conversation.id, staff_id=staff.id, author_name=staff.display_name[:64],
                sealed_body=crypto.seal(text), created_at=clock.now())
    session.add(note)
    session.flush()
    audit.record(session, staff, "conversation.note_added", "conversation", conversation.public_id)
    return note


def shown_notes(conversation: Conversation) -> list[tuple[Note, str]]:
    return [(note, crypto.unseal(note.sealed_body) if note.sealed_body else "") for note in conversation.notes]


def record_reading(session: Session, staff: StaffMember, conversation: Conversation) -> None:
    """One audit entry for a counsellor's reading; the view calls it once per visit."""
    audit.record(session, staff, "conversation.read", "conversation", conversation.public_id)


def open_urgent_case(session: Session, staff: StaffMember, conversation: Conversation, staff_link: str):
    """Turns the thread into an urgent case in one step: a case on the duty queue, linked
    from the thread (and the thread from the case, through the same link)."""
    from service.crisis.models import CaseEvent, UrgentCase
    from service.hashing import anonymous_key_digest
    from service.visitor.services import generate_key, normalise_key

    if conversation.urgent_case_id is not None:
        return session.get(UrgentCase, conversation.urgent_case_id)
    now = clock.now()
    # The visitor reaches this case through their thread, so its code is never shown.
    digest = anonymous_key_digest(normalise_key(generate_key()))
    case = UrgentCase(code_digest=digest, reference=secrets.token_hex(3).upper(), channel="message", time_window="soon",
                      language=conversation.language, sealed_contact=None, sealed_message=None, sealed_reply=None,
                      state="acknowledged", created_at=now, acknowledged_at=now, acknowledged_by=staff.username,
                      closed_at=None, outcome="", escalation_level=0, last_escalated_at=None, erased_at=None)
    case.events.append(CaseEvent(at=now, kind="created", detail="from-thread", by=staff.username))
    session.add(case)
    session.flush()
    conversation.urgent_case_id = case.id
    audit.record(session, staff, "conversation.made_urgent", "conversation", conversation.public_id,
                 case=case.reference)
    for address in addresses_with_roles(session, ("duty",)):
        outbox.queue(session, address, "Pause: a message thread became an urgent case",
                     "A counsellor marked a message thread as urgent. It is on the duty queue.\n\n"
                     f"Open the queue: {staff_link}\n\nThis message holds no personal data on purpose.")
    return case


def open_from_urgent_case(session: Session, case, message: str, key_id: int | None,
                          reply_promise_days: int | None = None) -> Conversation:
    """The urgent-contact "message" option: the request becomes a thread the visitor
    answers, read with their case code (and with their key, if one was open)."""
    body = message.strip() or None
    conversation = open_conversation(session, key_id=key_id, body=body, language=case.language, origin="urgent",
                                     urgent_case_id=case.id, reply_promise_days=reply_promise_days)
    if body is None:
        # No words yet: the thread still waits for a counsellor, who writes first.
        conversation.reply_due_at = None
    return conversation


def conversations_in_tab(session: Session, staff: StaffMember, tab: str, limit: int = 200) -> list[Conversation]:
    query = select(Conversation).where(Conversation.kind == "thread")
    if tab == "unassigned":
        query = query.where(Conversation.status != CLOSED, Conversation.assigned_to_id.is_(None))
        query = query.order_by(Conversation.reply_due_at.is_(None), Conversation.reply_due_at, Conversation.id)
    elif tab == "mine":
        query = query.where(Conversation.status != CLOSED, Conversation.assigned_to_id == staff.id)
        query = query.order_by(Conversation.reply_due_at.is_(None), Conversation.reply_due_at, Conversation.id)
    elif tab == "waiting":
        query = query.where(Conversation.status == WAITING_FOR_VISITOR).order_by(Conversation.updated_at.desc())
    elif tab == "closed":
        query = query.where(Conversation.status == CLOSED).order_by(Conversation.closed_at.desc())
    else:
        raise ValueError(tab)
    return list(session.scalars(query.limit(limit)))


def tab_counts(session: Session, staff: StaffMember) -> dict[str, int]:
    return {tab: len(conversations_in_tab(session, staff, tab, limit=1000)) for tab in TABS}


def answering_staff(session: Session) -> list[StaffMember]:
    rows = session.scalars(select(StaffMember).join(StaffRole).where(
        StaffRole.role.in_(ANSWERING_ROLES), StaffMember.disabled_at.is_(None),
        StaffMember.enrolled_at.is_not(None)).order_by(StaffMember.display_name))
    return list(dict.fromkeys(rows))


def addresses_with_roles(session: Session, roles: tuple[str, ...]) -> list[str]:
    rows = session.scalars(select(StaffMember).join(StaffRole).where(
        StaffRole.role.in_(roles), StaffMember.disabled_at.is_(None), StaffMember.enrolled_at.is_not(None)))
    return sorted({row.email for row in rows if row.email})


@dataclass(frozen=True)
class NeedsAttention:
    """A thread waiting for a counsellor, for the staff home: no visitor's words."""

    public_id: str
    assigned_to_id: int | None
    reply_due_at: dt.datetime | None
    due_soon: bool
    overdue: bool
    from_relative: bool


def threads_needing_attention(session: Session, now: dt.datetime, soon: dt.timedelta | None = None
                              ) -> list[NeedsAttention]:
    """Open threads waiting for a counsellor, the most pressing first (overdue, then due
    soon, then the rest by promise). `soon` defaults to the reminder period."""
    if soon is None:
        soon = dt.timedelta(hours=current_app.config["PAUSE"].conversation_reminder_hours)
    rows = session.scalars(select(Conversation).where(Conversation.kind == "thread",
                                                      Conversation.status == WAITING_FOR_COUNSELLOR)
                           .order_by(Conversation.reply_due_at.is_(None), Conversation.reply_due_at,
                                     Conversation.id))
    return [NeedsAttention(row.public_id, row.assigned_to_id, row.reply_due_at,
                           row.reply_due_at is not None and row.reply_due_at - soon <= now < row.reply_due_at,
                           row.reply_due_at is not None and now >= row.reply_due_at, row.from_relative)
            for row in rows]


# Jobs --------------------------------------------------------------------------------------


def remind_about_reply_times(session: Session, remind_before: dt.timedelta, staff_link: str) -> int:
    """Near the promised reply time, the counsellors are reminded (the holder, or every
    counsellor when nobody holds the thread); past it, the admins are told. Each once per
    unanswered message: an answer resets both. Neutral words only."""
    now, sent = clock.now(), 0
    rows = session.scalars(select(Conversation).where(Conversation.kind == "thread",
                                                      Conversation.status == WAITING_FOR_COUNSELLOR,
                                                      Conversation.reply_due_at.is_not(None)))
    for conversation in rows:
        due = conversation.reply_due_at
        if conversation.reminded_at is None and now >= due - remind_before:
            conversation.reminded_at = now
            held_by = holder(session, conversation)
            recipients = [held_by.email] if held_by is not None and held_by.is_active and held_by.email else \
                addresses_with_roles(session, ("counsellor",))
            for address in recipients:
                outbox.queue(session, address, "Pause: a message is near its promised reply time",
                             f"A message thread is due for a reply by {due:%Y-%m-%d %H:%M} UTC.\n\n"
                             f"Open the messages: {staff_link}\n\nThis message holds no personal data on purpose.")
            audit.record(session, None, "conversation.reminded", "conversation", conversation.public_id,
                         actor_name="scheduler")
            sent += 1
        if conversation.overdue_alerted_at is None and now >= due:
            conversation.overdue_alerted_at = now
            for address in addresses_with_roles(session, ("admin",)):
                outbox.queue(session, address, "Pause: a message has passed its promised reply time",
                             f"A message thread was due for a reply by {due:%Y-%m-%d %H:%M} UTC and has no "
                             f"answer yet.\n\nOpen the messages: {staff_link}\n\n"
                             "This message holds no personal data on purpose.")
            audit.record(session, None, "conversation.overdue", "conversation", conversation.public_id,
                         actor_name="scheduler")
            sent += 1
    return sent


def closed_before(now: dt.datetime, retention_days: int):
    """The condition for closed threads whose period is over (for the purge in batches)."""
    return and_(Conversation.status == CLOSED, Conversation.closed_at <= now - dt.timedelta(days=retention_days))


def exercise_message(request_words: str, title: str, prompt: str, answer: dict, items: list[str] | tuple,
                     added: str | None) -> str:
    """The message a key holder sends from a self-help exercise: which one, its prompt,
    their answer, and what they add. Cut to the message limit rather than refused: the
    answer itself is kept with the key anyway."""
    lines = [request_words, "", title, "", prompt, ""]
    if answer.get("text"):
        lines.append(answer["text"])
    lines += [f"[x] {items[i]}" for i in answer.get("ticked", []) if isinstance(i, int) and i < len(items)]
    if (added or "").strip():
        lines += ["", "-" * 20, "", added.strip()]
    return "\n".join(lines).strip()[:MAX_MESSAGE]
