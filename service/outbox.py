"""Outgoing e-mail, through a table: a message is queued in the same transaction as
what caused it, and a job delivers it. If the mail server is down nothing is lost; the
job tries again later, waiting longer each time."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.clock import clock
from service.db import Base

log = logging.getLogger(__name__)
MAX_WAIT = dt.timedelta(minutes=15)


class OutboxMessage(Base):
    """Staff notifications and visitors' reminders: neutral words, never what a visitor
    wrote. The recipient is sealed (a reminder goes to a visitor's address) and erased as
    soon as the message is sent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_recipient: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None]


def queue(session: Session, to_address: str, subject: str, body: str) -> OutboxMessage:
    from service.crypto import seal

    now = clock.now()
    message = OutboxMessage(sealed_recipient=seal(to_address), subject=subject, body=body, created_at=now,
                            next_attempt_at=now, attempts=0, sent_at=None)
    session.add(message)
    return message


def deliver_due(session: Session, host: str, port: int, sender: str, limit: int = 100) -> int:
    """Sends what is due; returns how many went out. The caller commits."""
    from service.crypto import unseal

    due = list(session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                           OutboxMessage.next_attempt_at <= clock.now())
                               .order_by(OutboxMessage.id).limit(limit)))
    if not due:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            for message in due:
                email = EmailMessage()
                email["From"], email["Subject"] = sender, message.subject
                email["To"] = unseal(message.sealed_recipient)
                email.set_content(message.body)
                smtp.send_message(email)
                message.sent_at, message.sealed_recipient = clock.now(), None
                sent += 1
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail server unavailable (%s); %d message(s) wait", type(error).__name__, len(due) - sent)
        for message in due:
            if message.sent_at is None:
                message.attempts += 1
                message.next_attempt_at = clock.now() + min(dt.timedelta(seconds=30 * 2 ** message.attempts),
                                                            MAX_WAIT)
    return sent


def erase_sent(session: Session, older_than: dt.timedelta) -> int:
    """Sent notifications are kept a short while for troubleshooting, then erased."""
    from sqlalchemy import delete

    cutoff = clock.now() - older_than
    return session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at.is_not(None),
                                                       OutboxMessage.sent_at < cutoff)).rowcount or 0
