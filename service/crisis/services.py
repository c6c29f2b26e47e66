"""Crisis help: resources by region, and urgent-contact cases from request to erasure.

A case code has the same entropy and hashing as an anonymous key. What reaches the
visitor's contact detail or message is sealed, audited when staff reveal it, and erased
a set time after the case closes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import audit, counters, crypto, outbox
from service.auth.models import StaffMember, StaffRole
from service.clock import clock
from service.crisis.models import REGIONS, CaseEvent, CrisisResource, DutyShift, UrgentCase
from service.hashing import anonymous_key_digest
from service.visitor.services import format_key, generate_key, normalise_key

CHANNELS = ("phone", "call-line", "message")
TIME_WINDOWS = ("soon", "morning", "afternoon", "evening")
OUTCOMES = ("talked", "referred", "emergency-services", "no-contact", "withdrawn")
ATTEMPT_RESULTS = ("reached", "no-answer", "wrong-number", "busy")
STALE_AFTER = dt.timedelta(days=183)
MAX_MESSAGE = 1000
# A number a visitor gives us to call: at least six digits, spacing as they like.
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,22}$")
# A service's number may be short (112, 15).
SERVICE_NUMBER = re.compile(r"^\+?[0-9][0-9 ]{1,22}$")


class CaseError(ValueError):
    """A rule about cases was broken; the message is for staff."""


class InvalidRequest(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# Resources -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceView:
    slug: str
    kind: str
    name: str
    phone: str
    hours: str
    description: str
    languages: str
    contact_way: str = "call"
    web_address: str = ""

    @property
    def web_address_shown(self) -> str:
        """The address as a visitor would type it (shown as text: pages link to no other site)."""
        return re.sub(r"^https://(www\.)?", "", self.web_address).rstrip("/")


def resources_for(session: Session, region: str, locale: str, default_locale: str) -> list[ResourceView]:
    rows = session.scalars(select(CrisisResource).order_by(CrisisResource.position, CrisisResource.slug))
    views = []
    for row in rows:
        if region not in row.regions.split() and "all" not in row.regions.split():
            continue
        texts = json.loads(row.texts)
        text = texts.get(locale) or texts.get(default_locale) or {}
        views.append(ResourceView(row.slug, row.kind, text.get("name", ""), row.phone, text.get("hours", ""),
                                  text.get("description", ""), row.languages, row.contact_way or "call",
                                  row.web_address))
    return views


def programme_line(session: Session, locale: str, default_locale: str) -> ResourceView | None:
    """The programme's own line, if staff have configured one (a resource of kind
    "programme" with a number); None otherwise."""
    row = session.scalar(select(CrisisResource).where(CrisisResource.kind == "programme", CrisisResource.phone != "")
                         .order_by(CrisisResource.position))
    if row is None:
        return None
    texts = json.loads(row.texts)
    text = texts.get(locale) or texts.get(default_locale) or {}
    return ResourceView(row.slug, row.kind, text.get("name", ""), row.phone, text.get("hours", ""),
                        text.get("description", ""), row.languages, row.contact_way or "call", row.web_address)


def stale_resources(session: Session) -> list[CrisisResource]:
    """Resources to flag to staff: never verified by a person, or not for six months."""
    cutoff = clock.today() - STALE_AFTER
    return list(session.scalars(select(CrisisResource).where(
        or_(CrisisResource.verified_on.is_(None), CrisisResource.verified_on < cutoff))
        .order_by(CrisisResource.position)))


def unverified_in(document: dict, today: dt.date) -> list[str]:
    """The slugs of a resource list (for example the draft in the editor) that no person
    has verified, or not for six months."""
    flagged = []
    for resource in document.get("resources") or []:
        verified = resource.get("verified_on") if isinstance(resource, dict) else None
        try:
            recent = bool(verified) and dt.date.fromisoformat(str(verified)) >= today - STALE_AFTER
        except ValueError:
            recent = False
        if isinstance(resource, dict) and not recent:
            flagged.append(str(resource.get("slug", "?")))
    return flagged


def stamp_verifications(document: dict, today: dt.date) -> dict:
    """In the editor, a person who has checked a resource against its source writes
    `verify_now = true`; saving turns that into today's date (verified_on)."""
    resources = document.get("resources")
    if not isinstance(resources, list):
        return document
    stamped = []
    for resource in resources:
        if isinstance(resource, dict) and resource.get("verify_now") is True:
            resource = {key: value for key, value in resource.items() if key != "verify_now"}
            resource["verified_on"] = today.isoformat()
        stamped.append(resource)
    return {**document, "resources": stamped}


def apply_resources(session: Session, document: dict) -> None:
    """Makes the published list of resources the live one, exactly."""
    wanted = {resource["slug"]: resource for resource in document.get("resources", [])}
    for row in session.scalars(select(CrisisResource)):
        if row.slug not in wanted:
            session.delete(row)
    session.flush()
    for position, (slug, resource) in enumerate(wanted.items()):
        row = session.scalar(select(CrisisResource).where(CrisisResource.slug == slug))
        if row is None:
            row = CrisisResource(slug=slug)
            session.add(row)
        row.position, row.kind = position, resource["kind"]
        row.regions, row.languages = " ".join(resource["regions"]), " ".join(resource.get("languages", []))
        row.phone, row.web_address = resource.get("phone", ""), resource.get("web_address", "")
        row.contact_way = resource.get("contact_way", "call")
        row.source_address = resource["source_address"]
        verified = resource.get("verified_on")
        row.verified_on = dt.date.fromisoformat(str(verified)) if verified else None
        row.texts = json.dumps(resource["texts"], ensure_ascii=False, sort_keys=True)
    session.flush()


MAX_RESOURCES = 200


def validate_resources(document: dict, locales: tuple[str, ...]) -> list[str]:
    from service.crisis.models import CONTACT_WAYS, RESOURCE_KINDS

    problems = []
    resources = document.get("resources")
    if not isinstance(resources, list) or not resources or not all(isinstance(item, dict) for item in resources):
        return [_("List at least one resource under [[resources]].")]
    if len(resources) > MAX_RESOURCES:
        return [_("At most %(most)s resources.", most=MAX_RESOURCES)]
    seen = set()
    for number, resource in enumerate(resources, start=1):
        where = _("Resource %(number)s (%(slug)s)", number=number, slug=resource.get("slug", "?"))
        if not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", str(resource.get("slug", ""))):
            problems.append(_("%(where)s: slug may hold only lowercase letters, digits and hyphens.", where=where))
        if resource.get("slug") in seen:
            problems.append(_("%(where)s: another resource has the same slug.", where=where))
        seen.add(resource.get("slug"))
        kind = resource.get("kind")
        if kind not in RESOURCE_KINDS:
            problems.append(_("%(where)s: kind must be one of %(kinds)s.", where=where, kinds=", ".join(RESOURCE_KINDS)))
        regions = resource.get("regions", [])
        if not isinstance(regions, list) or not regions or set(map(str, regions)) - set(REGIONS) - {"all"}:
            problems.append(_("%(where)s: regions must be among %(regions)s or all.", where=where,
                              regions=", ".join(REGIONS)))
        if resource.get("phone") and not SERVICE_NUMBER.match(str(resource["phone"])):
            problems.append(_("%(where)s: the phone number has characters a phone cannot dial.", where=where))
        if kind == "programme" and not resource.get("phone"):
            problems.append(_("%(where)s: the programme's line needs its number (phone).", where=where))
        if resource.get("contact_way", "call") not in CONTACT_WAYS:
            problems.append(_("%(where)s: contact_way is call or text.", where=where))
        if not str(resource.get("source_address", "")).startswith("https://"):
            problems.append(_("%(where)s: give the https address where the number was checked (source_address).",
                              where=where))
        if kind != "programme" and not str(resource.get("web_address", "")).startswith("https://"):
            problems.append(_("%(where)s: give the service's own https address (web_address), shown to visitors.",
                              where=where))
        if "verify_now" in resource and not isinstance(resource["verify_now"], bool):
            problems.append(_("%(where)s: verify_now is true or false.", where=where))
        if resource.get("verified_on") not in (None, ""):
            try:
                verified = dt.date.fromisoformat(str(resource["verified_on"]))
                if verified > clock.today():
                    problems.append(_("%(where)s: verified_on is in the future.", where=where))
            except ValueError:
                problems.append(_("%(where)s: verified_on must be a date like 2026-11-22.", where=where))
        texts = resource.get("texts", {})
        if not isinstance(texts, dict):
            problems.append(_("%(where)s: texts is a table per language.", where=where))
            continue
        for locale in locales:
            text = texts.get(locale) or {}
            if not str(text.get("name", "")).strip():
                problems.append(_("%(where)s: the name in %(language)s is missing.", where=where, language=locale))
            if not str(text.get("hours", "")).strip():
                problems.append(_("%(where)s: the hours in %(language)s are missing.", where=where, language=locale))
    return problems


# Cases ---------------------------------------------------------------------------------------


def validate_request(channel: str, contact: str, time_window: str, language: str, message: str,
                     locales: tuple[str, ...], channels: tuple[str, ...] = CHANNELS) -> dict:
    """The request as it will be kept, or InvalidRequest with a message per field.
    `channels`: the ways offered (calling the programme's line only when it is configured)."""
    problems: dict[str, str] = {}
    contact = (contact or "").strip()
    message = (message or "").replace("\r\n", "\n").strip()
    if channel not in CHANNELS or channel not in channels:
        problems["channel"] = str(_l("Please choose how we should contact you."))
    if channel == "phone" and not PHONE.match(contact):
        problems["contact"] = str(_l("Please give a phone number we can call, for example +32 470 12 34 56."))
    if time_window not in TIME_WINDOWS:
        problems["time_window"] = str(_l("Please choose when suits you best."))
    if language not in locales:
        problems["language"] = str(_l("Please choose a language."))
    if len(message) > MAX_MESSAGE:
        problems["message"] = str(_l("Your message is %(length)d characters long; the most we can take is %(limit)d.",
                                     length=len(message), limit=MAX_MESSAGE))
    if any(ord(char) < 32 and char not in "\n\t" for char in message + contact):
        problems["message"] = str(_l("Your message contains characters we cannot keep. Please remove them."))
    if problems:
        raise InvalidRequest(problems)
    return {"channel": channel, "contact": contact if channel == "phone" else "", "time_window": time_window,
            "language": language, "message": message}


def open_case(session: Session, request: dict, staff_link: str) -> tuple[UrgentCase, str]:
    """A new case and its code (shown once to the visitor). The duty roster is told by
    e-mail in the same transaction, through the outbox."""
    code = generate_key()
    now = clock.now()
    case = UrgentCase(
        code_digest=anonymous_key_digest(normalise_key(code)),
        reference=secrets.token_hex(3).upper(),
        channel=request["channel"], time_window=request["time_window"], language=request["language"],
        sealed_contact=crypto.seal(request["contact"]) if request["contact"] else None,
        sealed_message=crypto.seal(request["message"]) if request["message"] else None,
        sealed_reply=None, state="open", created_at=now, acknowledged_at=None, closed_at=None,
        escalation_level=0, last_escalated_at=None, erased_at=None,
    )
    case.events.append(CaseEvent(at=now, kind="created", detail=request["channel"], by=""))
    session.add(case)
    session.flush()
    messages = [outbox.queue(session, address, "Pause: a new request for contact",
                             "A new request for contact is waiting in the duty queue.\n\n"
                             f"Open the queue: {staff_link}\n\nThis message holds no personal data on purpose.",
                             urgent=True)
                for address in first_to_tell(session, now)]
    session.flush()
    case.notice_ids = " ".join(str(message.id) for message in messages)[:200]
    return case, format_key(normalise_key(code))


def first_to_tell(session: Session, now: dt.datetime) -> list[str]:
    """Who hears of a new request first: those on the roster now, else everyone on duty."""
    return _addresses(on_duty_now(session, now)) or _addresses_with_role(session, "duty")


def on_duty_now(session: Session, now: dt.datetime) -> list[StaffMember]:
    rows = session.scalars(select(StaffMember).join(DutyShift, DutyShift.staff_id == StaffMember.id).where(
        DutyShift.starts_at <= now, DutyShift.ends_at > now, StaffMember.disabled_at.is_(None),
        StaffMember.enrolled_at.is_not(None)).order_by(StaffMember.display_name))
    return list(dict.fromkeys(rows))


def _addresses(people: list[StaffMember]) -> list[str]:
    return sorted({person.email for person in people if person.email})


# What the status page tells the visitor about the notification to the team.
NOTICE_NONE, NOTICE_WAITING, NOTICE_FAILING, NOTICE_SENT = "none", "waiting", "failing", "sent"


def notification_state(session: Session, case: UrgentCase) -> str:
    """The truth about telling the team: nobody could be told by e-mail; the mail is on
    its way; the mail server refused or could not be reached; or it went out. Sent rows
    are erased after a week: a missing row was sent."""
    ids = [int(part) for part in (case.notice_ids or "").split() if part.isdigit()]
    if not ids:
        return NOTICE_NONE
    rows = list(session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.id.in_(ids))))
    if len(rows) < len(ids) or any(row.sent_at is not None for row in rows):
        return NOTICE_SENT
    if any(row.attempts > 0 for row in rows):
        return NOTICE_FAILING
    return NOTICE_WAITING


def find_case(session: Session, typed_code: str) -> UrgentCase | None:
    """Raises MalformedKey (from service.visitor.services) for text that cannot be a code."""
    return session.scalar(select(UrgentCase).where(UrgentCase.code_digest == anonymous_key_digest(
        normalise_key(typed_code))))


def _addresses_with_role(session: Session, role: str) -> list[str]:
    rows = session.scalars(select(StaffMember).join(StaffRole).where(
        StaffRole.role == role, StaffMember.disabled_at.is_(None), StaffMember.enrolled_at.is_not(None)))
    return sorted({row.email for row in rows if row.email})


def open_cases(session: Session) -> list[UrgentCase]:
    return list(session.scalars(select(UrgentCase).where(UrgentCase.state != "closed")
                                .order_by(UrgentCase.created_at)))


def recent_closed_cases(session: Session, limit: int = 20) -> list[UrgentCase]:
    return list(session.scalars(select(UrgentCase).where(UrgentCase.state == "closed")
                                .order_by(UrgentCase.closed_at.desc()).limit(limit)))


def _event(case: UrgentCase, kind: str, staff: StaffMember | None, detail: str = "") -> None:
    case.events.append(CaseEvent(at=clock.now(), kind=kind, detail=detail, by=staff.username if staff else ""))


class HeldByAnother(ValueError):
    """The case is held by another counsellor: they take it over explicitly first."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def _claim_or_check(session: Session, staff: StaffMember, case: UrgentCase) -> None:
    """Acting on an unclaimed case claims it; acting on a colleague's is refused."""
    if case.state == "closed":
        raise ValueError("closed")
    if case.state == "open":
        acknowledge(session, staff, case)
    elif case.acknowledged_by and case.acknowledged_by != staff.username:
        raise HeldByAnother(case.acknowledged_by)


def acknowledge(session: Session, staff: StaffMember, case: UrgentCase) -> None:
    """Acknowledging claims the case: colleagues then see who holds it."""
    if case.state != "open":
        if case.acknowledged_by and case.acknowledged_by != staff.username and case.state != "closed":
            raise HeldByAnother(case.acknowledged_by)
        return
    case.state, case.acknowledged_at, case.acknowledged_by = "acknowledged", clock.now(), staff.username
    _event(case, "acknowledged", staff)
    audit.record(session, staff, "case.acknowledged", "case", case.reference)


def take_over(session: Session, staff: StaffMember, case: UrgentCase) -> None:
    """Explicitly takes a colleague's case (or claims an unclaimed one)."""
    if case.state == "closed":
        raise ValueError("closed")
    if case.state == "open":
        acknowledge(session, staff, case)
        return
    if case.acknowledged_by == staff.username:
        return
    previous = case.acknowledged_by
    case.acknowledged_by = staff.username
    _event(case, "taken-over", staff, previous)
    audit.record(session, staff, "case.taken_over", "case", case.reference, previous=previous)


def reveal_contact(session: Session, staff: StaffMember, case: UrgentCase, visit_started: dt.datetime | None = None) -> dict:
    """The way to reach the visitor, their message and the case notes; audited once per
    visit (a staff session): showing them again in the same visit adds no entry."""
    audit.record_once(session, staff, "case.contact_viewed", "case", case.reference, since=visit_started)
    return {
        "contact": crypto.unseal(case.sealed_contact) if case.sealed_contact else "",
        "message": crypto.unseal(case.sealed_message) if case.sealed_message else "",
        "reply": crypto.unseal(case.sealed_reply) if case.sealed_reply else "",
        "notes": _notes(case),
    }


def shown_in_this_visit(session: Session, staff: StaffMember, case: UrgentCase, visit_started: dt.datetime) -> bool:
    """Once a counsellor has asked to see the contact detail, it stays shown on that case
    for the rest of their visit while the case is open."""
    if case.erased_at is not None or case.state == "closed":
        return False
    return audit.recorded_since(session, staff, "case.contact_viewed", "case", case.reference, visit_started)


FIRST_CONTACT_BUCKETS = ((dt.timedelta(minutes=15), "under-15-min"), (dt.timedelta(hours=1), "15-60-min"),
                         (dt.timedelta(hours=4), "1-4-h"), (dt.timedelta(hours=24), "4-24-h"))


def first_contact_bucket(waited: dt.timedelta) -> str:
    for limit, name in FIRST_CONTACT_BUCKETS:
        if waited < limit:
            return name
    return "over-24-h"


def _count_first_contact(session: Session, case: UrgentCase) -> None:
    """The first attempt or message is the first contact; counted once, by the day."""
    if any(event.kind in ("attempt", "replied") for event in case.events):
        return
    now = clock.now()
    counters.count(session, "urgent-first-contact", now.date(), first_contact_bucket(now - case.created_at))


def record_attempt(session: Session, staff: StaffMember, case: UrgentCase, result: str) -> None:
    if result not in ATTEMPT_RESULTS or case.state == "closed":
        raise ValueError(result)
    _claim_or_check(session, staff, case)
    _count_first_contact(session, case)
    _event(case, "attempt", staff, result)
    audit.record(session, staff, "case.attempt", "case", case.reference, result=result)


def reply(session: Session, staff: StaffMember, case: UrgentCase, text: str) -> None:
    """A message the visitor reads when they check their case with the code. Not on a
    closed case: its sealed fields are about to be erased, and a reply written then would
    outlive the erasure."""
    if case.state == "closed" or case.erased_at is not None:
        raise CaseError(_l("This request is closed: it can no longer get a reply."))
    text = (text or "").strip()
    if len(text) > MAX_MESSAGE:
        raise CaseError(_l("The reply is %(length)d characters long; the most it can be is %(limit)d.",
                           length=len(text), limit=MAX_MESSAGE))
    _claim_or_check(session, staff, case)
    _count_first_contact(session, case)
    case.sealed_reply = crypto.seal(text)
    _event(case, "replied", staff)
    audit.record(session, staff, "case.replied", "case", case.reference)


def add_note(session: Session, staff: StaffMember, case: UrgentCase, text: str) -> None:
    """Adds to the counsellor's notes (sealed, erased with the contact detail). Notes are
    added to, never replaced, so a form left open cannot wipe a colleague's."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_NOTES or any(ord(char) < 32 and char not in "\n\t" for char in text):
        raise ValueError("notes")
    _claim_or_check(session, staff, case)
    notes = json.loads(crypto.unseal(case.sealed_notes)) if case.sealed_notes else []
    notes.append({"at": clock.now().isoformat(timespec="minutes"), "by": staff.username, "text": text})
    case.sealed_notes = crypto.seal(json.dumps(notes, ensure_ascii=False))
    _event(case, "notes-saved", staff)
    audit.record(session, staff, "case.notes_saved", "case", case.reference)


MAX_NOTES = 4000


def _notes(case: UrgentCase) -> list[dict]:
    """The notes as a list of {at (UTC), by, text}; shown in each reader's zone."""
    if not case.sealed_notes:
        return []
    notes = json.loads(crypto.unseal(case.sealed_notes))
    for note in notes:
        note["at"] = dt.datetime.fromisoformat(note["at"]) if isinstance(note["at"], str) else note["at"]
    return notes


def set_risk(session: Session, staff: StaffMember, case: UrgentCase, flagged: bool) -> None:
    _claim_or_check(session, staff, case)
    if case.risk_flag == flagged:
        return
    case.risk_flag = flagged
    _event(case, "risk-flagged" if flagged else "risk-cleared", staff)
    audit.record(session, staff, "case.risk_changed", "case", case.reference, risk=flagged)


def set_callback(session: Session, staff: StaffMember, case: UrgentCase, at: dt.datetime | None) -> None:
    """`at` in UTC; None clears it. A call-back time in the past is refused."""
    if at is not None and at < clock.now() - dt.timedelta(minutes=1):
        raise ValueError("past")
    _claim_or_check(session, staff, case)
    case.callback_at = at
    _event(case, "callback-set", staff)
    audit.record(session, staff, "case.callback_set", "case", case.reference)


def close(session: Session, staff: StaffMember, case: UrgentCase, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    if case.state == "closed":
        return
    if case.state == "acknowledged" and case.acknowledged_by and case.acknowledged_by != staff.username:
        raise HeldByAnother(case.acknowledged_by)
    case.state, case.closed_at, case.outcome = "closed", clock.now(), outcome
    _event(case, "closed", staff, outcome)
    counters.count(session, "urgent-closed", clock.today(), outcome)
    audit.record(session, staff, "case.closed", "case", case.reference, outcome=outcome)


# The roster ----------------------------------------------------------------------------------


def add_shift(session: Session, actor: StaffMember, person: StaffMember, starts_at: dt.datetime,
              ends_at: dt.datetime) -> DutyShift:
    if "duty" not in person.role_names or not person.is_active:
        raise ValueError("not-duty")
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(days=7):
        raise ValueError("times")
    shift = DutyShift(staff_id=person.id, starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    session.flush()
    audit.record(session, actor, "roster.shift_added", "roster", shift.id, person=person.username)
    return shift


def remove_shift(session: Session, actor: StaffMember, shift: DutyShift) -> None:
    audit.record(session, actor, "roster.shift_removed", "roster", shift.id)
    session.delete(shift)


def upcoming_shifts(session: Session, now: dt.datetime, days: int = 14) -> list[tuple[DutyShift, StaffMember]]:
    return list(session.execute(select(DutyShift, StaffMember).join(StaffMember, StaffMember.id == DutyShift.staff_id)
                                .where(DutyShift.ends_at > now, DutyShift.starts_at < now + dt.timedelta(days=days))
                                .order_by(DutyShift.starts_at)))


# Jobs ----------------------------------------------------------------------------------------


def escalate_unacknowledged(session: Session, first_after: dt.timedelta, second_after: dt.timedelta,
                            staff_link: str) -> int:
    """Cases nobody acknowledged in time go to the admins, then again after a further
    period. Idempotent: a level is reached once."""
    now, escalated = clock.now(), 0
    for case in session.scalars(select(UrgentCase).where(UrgentCase.state == "open")):
        due_level = 0
        if now - case.created_at >= first_after:
            due_level = 1
        if case.last_escalated_at is not None and case.escalation_level >= 1 and \
                now - case.last_escalated_at >= second_after:
            due_level = 2
        if due_level <= case.escalation_level:
            continue
        case.escalation_level, case.last_escalated_at = due_level, now
        _event(case, "escalated", None, f"level {due_level}")
        audit.record(session, None, "case.escalated", "case", case.reference, actor_name="scheduler",
                     level=due_level)
        # Those on duty now first; the admins when nobody is on the roster, and at the
        # second level in any case (with everyone on duty).
        recipients = _addresses(on_duty_now(session, now)) or _addresses_with_role(session, "admin")
        if due_level == 2:
            recipients = sorted(set(_addresses_with_role(session, "admin")) | set(recipients)
                                | set(_addresses_with_role(session, "duty")))
        for address in recipients:
            outbox.queue(session, address, f"Pause: a request for contact is waiting (escalation {due_level})",
                         "A request for contact has not been acknowledged in time.\n\n"
                         f"Open the duty queue: {staff_link}\n\nThis message holds no personal data on purpose.",
                         urgent=True)
        escalated += 1
    return escalated


def erase_closed_cases(session: Session, after: dt.timedelta) -> int:
    """Erases the contact detail, message and reply of cases closed long enough ago.
    Any sealed field still there is erased, whatever `erased_at` says: a value written
    after an earlier erasure (or by older code) must not stay for good."""
    cutoff, erased = clock.now() - after, 0
    sealed = [name for model, name in crypto.sealed_columns() if model is UrgentCase]
    still_held = [getattr(UrgentCase, name).is_not(None) for name in sealed]
    for case in session.scalars(select(UrgentCase).where(UrgentCase.state == "closed",
                                                         UrgentCase.closed_at <= cutoff,
                                                         or_(UrgentCase.erased_at.is_(None), *still_held))):
        for name in sealed:
            setattr(case, name, None)
        case.erased_at = case.erased_at or clock.now()
        erased += 1
    return erased
