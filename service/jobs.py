"""The jobs that keep promises on time: escalating unacknowledged requests, delivering
mail, and erasing what must not be kept. Each is idempotent and runs in its own unit
of work, so running one twice, or two processes running it, changes nothing more."""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, url_for

from service.db import db

log = logging.getLogger(__name__)


def _duty_link() -> str:
    with current_app.test_request_context():
        path = url_for("duty.queue")
    return current_app.config["PAUSE"].base_url + path


def escalate_cases() -> int:
    from service.crisis.services import escalate_unacknowledged

    settings = current_app.config["PAUSE"]
    with db.transaction() as session:
        return escalate_unacknowledged(session, dt.timedelta(minutes=settings.case_escalation_minutes),
                                       dt.timedelta(minutes=settings.case_second_escalation_minutes), _duty_link())


def deliver_mail() -> int:
    from service.outbox import deliver_due

    settings = current_app.config["PAUSE"]
    # Each message in its own transactions (claim, send, record): see service.outbox.
    return deliver_due(db.transaction, settings.smtp_host, settings.smtp_port, sender(settings))


def sender(settings) -> str:
    """The From of every message: a neutral name (reminders land in visitors' mailboxes)."""
    from email.utils import formataddr

    return formataddr((settings.mail_sender_name, settings.mail_from))


def erase_closed_cases() -> int:
    from service.crisis.services import erase_closed_cases as erase

    with db.transaction() as session:
        return erase(session, dt.timedelta(hours=current_app.config["PAUSE"].case_erasure_hours))


def erase_unused_keys() -> int:
    from service.clock import clock
    from service.visitor.models import AnonymousKey

    cutoff = clock.today() - dt.timedelta(days=current_app.config["PAUSE"].anonymous_key_retention_days)
    return delete_in_batches(AnonymousKey.__table__, AnonymousKey.last_used_on < cutoff)


def erase_sent_mail() -> int:
    from service.outbox import erase_sent

    with db.transaction() as session:
        return erase_sent(session, dt.timedelta(days=7))


def send_reminders() -> int:
    from booking.services import send_due_reminders

    with db.transaction() as session:
        return send_due_reminders(session)


def remind_about_reply_times() -> int:
    from service.conversations.services import remind_about_reply_times as remind

    settings = current_app.config["PAUSE"]
    with current_app.test_request_context():
        link = settings.base_url + url_for("staff_messages.inbox")
    with db.transaction() as session:
        return remind(session, dt.timedelta(hours=settings.conversation_reminder_hours), link)


def erase_closed_conversations() -> int:
    """Closed threads, with their messages and notes, once their period is over."""
    from service.clock import clock
    from service.conversations.models import Conversation
    from service.conversations.services import closed_before

    settings, now = current_app.config["PAUSE"], clock.now()
    # A thread without a key (an urgent request answered with its case code) goes after
    # as long a silence as an unused key would.
    silent = (Conversation.key_id.is_(None)
              & (Conversation.updated_at < now - dt.timedelta(days=settings.anonymous_key_retention_days)))
    return delete_in_batches(Conversation.__table__, closed_before(now, settings.conversation_retention_days) | silent)


def erase_booking_details() -> int:
    from booking.services import erase_booking_details as erase

    with db.transaction() as session:
        return erase(session)


def erase_live_transcripts() -> int:
    from service.clock import clock
    from service.conversations.live import erase_expired_transcripts

    with db.transaction() as session:
        return erase_expired_transcripts(session, clock.now(), current_app.config["PAUSE"].live_transcript_hours)


# Purges delete in batches, each its own short transaction, so no request waits long on
# a lock held by a purge.
BATCH = 1000


def delete_in_batches(table, condition, batch: int = BATCH, observe=None) -> int:
    """Deletes matching rows `batch` at a time; `observe(seconds)` hears how long each
    batch's transaction (and so its locks) lasted."""
    import time

    from sqlalchemy import delete, select

    primary_key = next(iter(table.primary_key.columns))
    deleted = 0
    while True:
        started = time.perf_counter()
        with db.transaction() as session:
            ids = list(session.scalars(select(primary_key).where(condition).limit(batch)))
            if ids:
                deleted += session.execute(delete(table).where(primary_key.in_(ids))).rowcount or 0
        if observe is not None:
            observe(time.perf_counter() - started)
        if not ids:
            return deleted


def erase_old_records() -> int:
    """The periods the retention registry promises for what is kept after use."""
    from sqlalchemy import func

    from booking.models import Booking
    from self_help.models import AssessmentCount
    from service.auth.held import HeldForm
    from service.auth.models import AuditEntry, EnrolmentInvite, StaffSession
    from service.clock import clock
    from service.counters import DailyCount
    from service.crisis.models import DutyShift, UrgentCase

    now = clock.now()
    return sum((
        delete_in_batches(AssessmentCount.__table__, AssessmentCount.day < (now - dt.timedelta(days=3 * 365)).date()),
        delete_in_batches(UrgentCase.__table__, UrgentCase.closed_at < now - dt.timedelta(days=365)),
        delete_in_batches(Booking.__table__, Booking.reduced_at.is_not(None)
                          & (Booking.session_day < (now - dt.timedelta(days=3 * 365)).date())),
        delete_in_batches(EnrolmentInvite.__table__, EnrolmentInvite.expires_at < now - dt.timedelta(days=30)),
        delete_in_batches(StaffSession.__table__, func.coalesce(StaffSession.ended_at, StaffSession.last_seen_at)
                          < now - dt.timedelta(days=30)),
        delete_in_batches(AuditEntry.__table__, AuditEntry.at < now - dt.timedelta(days=2 * 365)),
        delete_in_batches(DutyShift.__table__, DutyShift.ends_at < now - dt.timedelta(days=90)),
        delete_in_batches(HeldForm.__table__, HeldForm.created_at < now - dt.timedelta(hours=24)),
        delete_in_batches(DailyCount.__table__, DailyCount.day < (now - dt.timedelta(days=3 * 365)).date()),
    ))


def purge_visitor_sessions() -> int:
    from service.sessions import purge_expired

    return purge_expired()
def publish_scheduled() -> int:
    """Versions whose publisher chose a time go live at that time."""
    from content.publishing import publish_due

    with db.transaction() as session:
        return publish_due(session)


def count_bookings() -> int:
    """The report's bookings by kind and outcome, set again for recent days."""
    from reports.services import recount_bookings
    from service.clock import clock

    with db.transaction() as session:
        return recount_bookings(session, clock.today())


JOBS = {
    "escalate-cases": escalate_cases,
    "send-reminders": send_reminders,
    "remind-about-reply-times": remind_about_reply_times,
    "deliver-mail": deliver_mail,
    "erase-closed-cases": erase_closed_cases,
    "erase-booking-details": erase_booking_details,
    "erase-closed-conversations": erase_closed_conversations,
    "erase-unused-keys": erase_unused_keys,
    "purge-visitor-sessions": purge_visitor_sessions,
    "erase-sent-mail": erase_sent_mail,
    "erase-old-records": erase_old_records,
    "erase-live-transcripts": erase_live_transcripts,
    "count-bookings": count_bookings,
    "publish-scheduled": publish_scheduled,
}


def run_all() -> dict[str, int]:
    """Every job once, in order: escalations first, so their mail goes out in the same run."""
    results = {}
    for name, job in JOBS.items():
        results[name] = job()
        if results[name]:
            log.info("job %s: %d", name, results[name])
    return results
