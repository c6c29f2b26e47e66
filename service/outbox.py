"""Outgoing e-mail, through a table: a message is queued in the same transaction as
what caused it, and a job delivers it. If the mail server is down nothing is lost; the
job tries again later, waiting longer each time (never more than a minute for urgent
notifications: duty alerts and escalations).

Each message is sent on its own, in three steps with their own transactions: claim it
(count the attempt and set when it may be tried again), hand it to the mail server,
record it as sent. A scheduler killed at any moment, or a database that goes away
mid-round, can at worst lose the one attempt under way, which is tried again; it never
sends a batch twice. If recording fails after the server accepted the message, the job
keeps trying to record it (for up to RECORD_PATIENCE) rather than sending it again.

A message that cannot be sent (an address that is not one, a server that refuses it,
or MAX_FAILURES failed tries) is set aside instead of holding up the others, and shown
to admins at /staff/mail. Logs name the kind of failure only, never an address."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import Boolean, LargeBinary, String, Text, false, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.clock import clock
from service.db import Base

log = logging.getLogger(__name__)
MAX_WAIT = dt.timedelta(minutes=15)
URGENT_MAX_WAIT = dt.timedelta(minutes=1)
# Failures of this one message (not of the mail server as a whole) before it is set aside.
MAX_FAILURES = 5
RECORD_PATIENCE = dt.timedelta(minutes=2)

# Why a message was set aside; the admin page says each in words.
UNUSABLE_ADDRESS = "address"
REFUSED = "refused"
UNREADABLE = "unreadable"
KEPT_FAILING = "failing"
REASONS = (UNUSABLE_ADDRESS, REFUSED, UNREADABLE, KEPT_FAILING)


class OutboxMessage(Base):
    """Staff notifications and visitors' reminders: neutral words, never what a visitor
    wrote. The recipient is sealed (a reminder goes to a visitor's address) and erased as
    soon as the message is sent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_recipient: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None]
    # Duty alerts and escalations: sent first, and retried at least every minute.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Failures of this message itself; the server being away does not count.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    failure: Mapped[str | None] = mapped_column(String(20))
    set_aside_at: Mapped[dt.datetime | None]


def queue(session: Session, to_address: str, subject: str, body: str, urgent: bool = False) -> OutboxMessage:
    from service.crypto import seal

    now = clock.now()
    message = OutboxMessage(sealed_recipient=seal(to_address), subject=subject, body=body, created_at=now,
                            next_attempt_at=now, attempts=0, sent_at=None, urgent=urgent, failures=0)
    session.add(message)
    return message


def retry_delay(attempts: int, urgent: bool) -> dt.timedelta:
    """How long after an attempt (the `attempts`-th) the message may be tried again."""
    delay = dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0))
    return min(delay, URGENT_MAX_WAIT if urgent else MAX_WAIT)


@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str | None
    subject: str
    body: str


Transaction = Callable[[], AbstractContextManager[Session]]


def claim_next(transaction: Transaction) -> Claimed | None:
    """The next message due, urgent ones first, with its attempt counted and committed."""
    from service.crypto import unseal

    with transaction() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.sent_at.is_(None), OutboxMessage.set_aside_at.is_(None),
                        OutboxMessage.next_attempt_at <= clock.now())
                 .order_by(OutboxMessage.urgent.desc(), OutboxMessage.id).limit(1))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # two schedulers never claim the same one
        message = session.scalar(query)
        if message is None:
            return None
        message.attempts += 1
        # If this process dies before recording the outcome, the message is tried again then.
        message.next_attempt_at = clock.now() + retry_delay(message.attempts, message.urgent)
        try:
            recipient = unseal(message.sealed_recipient) if message.sealed_recipient else None
        except Exception:  # noqa: BLE001 - an unreadable recipient is this message's problem only
            recipient = None
        return Claimed(message.id, recipient, message.subject, message.body)


def build(claimed: Claimed, sender: str) -> EmailMessage:
    """The e-mail; ValueError if the recipient is not an address."""
    from service.addresses import mail_address

    if claimed.recipient is None:
        raise LookupError("no readable recipient")
    email = EmailMessage()
    email["From"] = sender
    email["To"] = mail_address(claimed.recipient)
    email["Subject"] = claimed.subject
    email.set_content(claimed.body)
    return email


def deliver_due(transaction: Transaction, host: str, port: int, sender: str, limit: int = 100) -> int:
    """Sends what is due, each message in its own transactions; returns how many went out."""
    sent, smtp = 0, None
    try:
        for _ in range(limit):
            claimed = claim_next(transaction)
            if claimed is None:
                break
            try:
                email = build(claimed, sender)
            except LookupError:
                record_failure(transaction, claimed.id, UNREADABLE, permanent=True)
                continue
            except ValueError:
                record_failure(transaction, claimed.id, UNUSABLE_ADDRESS, permanent=True)
                continue
            try:
                if smtp is None:
                    smtp = smtplib.SMTP(host, port, timeout=10)
                smtp.send_message(email)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                if _smtp_code(error) == 421:
                    # "Service not available": the server, not this message.
                    log.warning("mail server unavailable (%s); messages wait", type(error).__name__)
                    break
                # The server answered, about this message: the next one may still go.
                permanent = _smtp_code(error) >= 500
                log.warning("mail refused (%s); %s", type(error).__name__,
                            "set aside" if permanent else "tried again later")
                record_failure(transaction, claimed.id, REFUSED, permanent=permanent)
                continue
            except (OSError, smtplib.SMTPException) as error:
                # The server is away: this attempt is lost (the claim set its retry); the
                # rest wait for the next round.
                log.warning("mail server unavailable (%s); messages wait", type(error).__name__)
                smtp = None
                break
            record_sent(transaction, claimed.id)
            sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass  # everything handed over is already recorded
    return sent


def _smtp_code(error: smtplib.SMTPException) -> int:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return min((code for code, _ in error.recipients.values()), default=550)
    return int(getattr(error, "smtp_code", 550) or 550)


def _patiently(transaction: Transaction, change) -> None:
    """Runs a small unit of work until the database takes it: the mail server has already
    answered, and what it said must not be forgotten (a sent message sent again)."""
    deadline = time.monotonic() + RECORD_PATIENCE.total_seconds()
    while True:
        try:
            with transaction() as session:
                change(session)
            return
        except SQLAlchemyError as error:
            if time.monotonic() > deadline:
                raise
            log.warning("outcome not recorded yet (%s); trying again", type(error).__name__)
            time.sleep(0.3)


def record_sent(transaction: Transaction, message_id: int) -> None:
    now = clock.now()
    _patiently(transaction, lambda session: session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(sent_at=now, sealed_recipient=None)))


def record_failure(transaction: Transaction, message_id: int, reason: str, permanent: bool) -> None:
    now = clock.now()

    def change(session: Session) -> None:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        message.failures += 1
        message.failure = reason if message.failures < MAX_FAILURES or permanent else KEPT_FAILING
        if permanent or message.failures >= MAX_FAILURES:
            message.set_aside_at = now
            log.warning("mail set aside after %d failure(s): %s", message.failures, message.failure)

    _patiently(transaction, change)


def set_aside(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.set_aside_at.is_not(None),
                                                            OutboxMessage.sent_at.is_(None))
                                .order_by(OutboxMessage.set_aside_at.desc(), OutboxMessage.id.desc())))


def try_again(session: Session, message: OutboxMessage) -> None:
    """An admin puts a message set aside back in the queue (after fixing the address
    behind it, or once the mail server accepts it again)."""
    message.set_aside_at, message.failure, message.failures = None, None, 0
    message.next_attempt_at = clock.now()


def discard(session: Session, message: OutboxMessage) -> None:
    session.delete(message)


def erase_sent(session: Session, older_than: dt.timedelta) -> int:
    """Sent notifications are kept a short while for troubleshooting, then erased; so are
    messages set aside that no one put back."""
    from sqlalchemy import delete

    cutoff = clock.now() - older_than
    sent = session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at.is_not(None),
                                                       OutboxMessage.sent_at < cutoff)).rowcount or 0
    aside = session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                        OutboxMessage.set_aside_at < cutoff)).rowcount or 0
    return sent + aside
