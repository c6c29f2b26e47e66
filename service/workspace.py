"""The staff home's "what needs me now": a registry of attention providers.

Each provider answers for some roles: `provider(session, now, staff)` returns the items
that need that staff member now, each with a title, a link and since when it waits. A
package adds its own with one line: `register_attention(name, roles, provider)`.

Hook points for other packages, wired after merge (see the README, "Staff workspace"):
  - threads near or past their promised reply time: `threads_needing_attention(session, now)`
    from the message-threads package, registered for therapists with `adapt(...)`;
  - the walk-in chat queue: `walk_in_queue(session, now)` from the live-chat package,
    registered for duty counsellors with `adapt(...)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    since: dt.datetime | None = None  # waiting since (UTC); None when it does not wait
    urgent: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Provider:
    name: str
    roles: frozenset[str]
    provide: Callable[[Session, dt.datetime, object], list[Item]]
    title: object


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    items: list[Item]


_PROVIDERS: dict[str, Provider] = {}


def register_attention(name: str, roles: Iterable[str], provider: Callable, title: object = None) -> None:
    """Adds (or replaces) a provider; `title` is the section's heading (a lazy string)."""
    _PROVIDERS[name] = Provider(name, frozenset(roles), provider, title or name)


def providers() -> list[Provider]:
    return list(_PROVIDERS.values())


def attention_for(session: Session, now: dt.datetime, staff) -> list[Section]:
    """The sections for this staff member's roles, in registration order. A provider that
    fails (a table not there yet) is skipped, so the home always answers."""
    sections = []
    for provider in _PROVIDERS.values():
        if not provider.roles & staff.role_names:
            continue
        try:
            items = list(provider.provide(session, now, staff))
        except SQLAlchemyError:
            session.rollback()
            log.warning("attention provider %s failed", provider.name)
            continue
        sections.append(Section(provider.name, str(provider.title), items))
    return sections


def count(sections: list[Section]) -> int:
    return sum(len(section.items) for section in sections)


def adapt(function: Callable) -> Callable:
    """Turns `function(session, now)` returning objects or dicts with title, link and
    since (or waiting_since) into a provider."""

    def provide(session: Session, now: dt.datetime, _staff) -> list[Item]:
        items = []
        for found in function(session, now) or []:
            get = found.get if isinstance(found, dict) else lambda name, default=None, f=found: getattr(f, name, default)
            items.append(Item(str(get("title", "")), str(get("link", "")), get("since") or get("waiting_since"),
                              bool(get("urgent", False))))
        return items

    return provide


# Providers of this package ------------------------------------------------------------------


def urgent_requests(session: Session, now: dt.datetime, _staff) -> list[Item]:
    from flask import url_for

    from service.crisis.services import open_cases
    from service.words import word

    items = []
    for case in open_cases(session):
        parts = [word(case.state, "case-state")]
        if case.acknowledged_by:
            parts.append(_("held by %(name)s", name=case.acknowledged_by))
        if case.escalation_level:
            parts.append(_("escalated"))
        if case.risk_flag:
            parts.append(_("risk"))
        items.append(Item(_("Request %(reference)s", reference=case.reference),
                          url_for("duty.case", reference=case.reference), case.created_at,
                          urgent=bool(case.escalation_level or case.risk_flag), detail=", ".join(parts)))
    return items


def drafts_to_review(session: Session, _now: dt.datetime, staff) -> list[Item]:
    from flask import url_for

    from content.models import ContentVersion
    from content.publishing import REVIEW
    from service.words import word

    rows = session.scalars(select(ContentVersion).where(ContentVersion.state == REVIEW)
                           .order_by(ContentVersion.updated_at))
    return [Item(_("%(kind)s “%(slug)s”, version %(number)d, from %(author)s", kind=word(row.kind, "content-kind"),
                   slug=row.slug, number=row.number, author=row.author_name),
                 url_for("staff_content.item", kind=row.kind, slug=row.slug), row.updated_at)
            for row in rows if row.author_id != staff.id]


def my_review_decisions(session: Session, now: dt.datetime, staff) -> list[Item]:
    """What publishers decided on my versions in the last 14 days: sent back (with the
    reason, which reaches the author here and on the item's page) or published."""
    from flask import url_for

    from content.publishing import decisions_for_author

    return [Item(decision.title, url_for("staff_content.item", kind=decision.kind, slug=decision.slug), decision.at,
                 urgent=decision.sent_back, detail=decision.reason)
            for decision in decisions_for_author(session, staff, now - dt.timedelta(days=14))]


def my_sessions_today(session: Session, now: dt.datetime, staff) -> list[Item]:
    from flask import url_for

    from booking.models import LIVE, Booking, TherapistProfile
    from service.words import from_local, local_today, staff_time, word

    profile = session.scalar(select(TherapistProfile).where(TherapistProfile.staff_id == staff.id))
    if profile is None:
        return []
    today = local_today(now, staff)
    start = from_local(dt.datetime.combine(today, dt.time()), staff)
    rows = session.scalars(select(Booking).where(Booking.therapist_id == profile.id, Booking.status == LIVE,
                                                 Booking.starts_at >= start,
                                                 Booking.starts_at < start + dt.timedelta(days=1))
                           .order_by(Booking.starts_at))
    return [Item(_("%(time)s, %(kind)s", time=staff_time(row.starts_at, "time", staff),
                   kind=word(row.modality, "modality")),
                 url_for("appointments.appointment", reference=row.reference)) for row in rows]


def resources_to_verify(session: Session, _now: dt.datetime, _staff) -> list[Item]:
    import json

    from flask import url_for

    from service.crisis.services import stale_resources
    from service.i18n import current_locale

    items = []
    for row in stale_resources(session):
        name = (json.loads(row.texts).get(current_locale()) or {}).get("name") or row.slug
        items.append(Item(_("Check %(name)s against its source", name=name),
                          url_for("staff_content.item", kind="resources", slug="crisis-resources")))
    return items


FAILED_AFTER_ATTEMPTS = 3


def mail_not_sent(session: Session, _now: dt.datetime, _staff) -> list[Item]:
    """Mail the server refused or could not take, several times. Messages set aside by the
    outbox (a column it may add: `set_aside_at`) count too, when the column exists."""
    from flask import url_for

    from service.outbox import OutboxMessage

    failing = (OutboxMessage.sent_at.is_(None)) & (OutboxMessage.attempts >= FAILED_AFTER_ATTEMPTS)
    set_aside = getattr(OutboxMessage, "set_aside_at", None)
    if set_aside is not None:
        failing = failing | set_aside.is_not(None)
    number, oldest = session.execute(select(func.count(), func.min(OutboxMessage.created_at)).where(failing)).one()
    if not number:
        return []
    return [Item(_("%(count)d e-mails could not be sent", count=number), url_for("mail.set_aside"), oldest,
                 urgent=True)]


def threads_waiting(session: Session, now: dt.datetime, staff) -> list[Item]:
    """Message threads waiting for a counsellor: past or near the promised reply time
    first. Only the thread's state, never the visitor's words."""
    from flask import url_for

    from service.conversations.services import threads_needing_attention

    items = []
    for thread in threads_needing_attention(session, now):
        if thread.assigned_to_id not in (None, staff.id):
            continue  # held by a colleague: theirs to answer
        if thread.overdue:
            title = _("A message thread is past its promised reply time")
        elif thread.due_soon:
            title = _("A message thread is near its promised reply time")
        else:
            title = _("A message thread is waiting for an answer")
        detail = _("from a relative or friend") if thread.from_relative else ""
        items.append(Item(title, url_for("staff_messages.thread", public_id=thread.public_id), None,
                          urgent=thread.overdue, detail=detail))
    return items


def walk_ins_waiting(session: Session, now: dt.datetime, _staff) -> list[Item]:
    from flask import url_for

    from service.conversations.live import walk_in_queue
    from service.words import word

    return [Item(_("A walk-in chat is waiting (%(language)s)", language=word(entry.language, "language")),
                 url_for("staff_live.queue"), entry.queued_at, urgent=entry.past_limit)
            for entry in walk_in_queue(session, now)]


register_attention("urgent-requests", ("duty", "admin"), urgent_requests, _l("Urgent requests"))
register_attention("review", ("publisher", "admin"), drafts_to_review, _l("Waiting for your review"))
register_attention("decisions", ("editor", "publisher", "admin"), my_review_decisions,
                   _l("Decisions on your drafts"))
register_attention("sessions-today", ("therapist",), my_sessions_today, _l("Your sessions today"))
register_attention("resources", ("editor", "publisher", "admin"), resources_to_verify,
                   _l("Crisis resources due for verification"))
register_attention("mail", ("admin",), mail_not_sent, _l("Mail that could not be sent"))
register_attention("threads", ("counsellor", "duty"), threads_waiting, _l("Message threads"))
register_attention("walk-in", ("counsellor", "duty"), walk_ins_waiting, _l("Walk-in chat queue"))
