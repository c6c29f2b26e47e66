"""The retention registry: every table that can hold data about a visitor or a staff
member says what it holds, why, for how long, and how it is erased.

One list, read by the jobs that erase (service.jobs), by `flask --app service retention
report`, by the public privacy page and by /staff/privacy, so the promise and the code
cannot drift apart. A test fails when a model has a column that no entry covers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.orm import Session

DELETE_ROW = "row deleted"
NULL_COLUMNS = "columns erased"
AGGREGATE = "reduced to aggregate"
KEPT = "kept while in use"


@dataclass(frozen=True)
class DataClass:
    name: str
    table: str
    # "*" for every column of the table.
    columns: tuple[str, ...]
    about: str  # "visitor", "staff" or "content"
    description: object  # lazy translated text
    purpose: object
    period: object  # lazy translated text of the retention period
    erasure: str
    # Column holding the moment the period runs from, for the report's "oldest" age.
    age_column: str | None = None
    # Which rows of the table this entry covers, where two entries share a table (the
    # messages of threads and of live sessions have different periods): an SQL
    # condition written here, never taken from input. Empty: every row.
    rows: str = ""


_MESSAGES_OF = "conversation_id IN (SELECT id FROM conversations WHERE kind = '%s')"

REGISTRY: tuple[DataClass, ...] = (
    DataClass("anonymous-keys", "anonymous_keys", ("*",), "visitor",
              _l("Anonymous keys (only a one-way hash) and the day they were last used"),
              _l("To let you keep progress and answers across devices"),
              _l("12 months after last use, or at once with “Forget me”"), DELETE_ROW, "last_used_on"),
    DataClass("visitor-sessions", "visitor_sessions", ("*",), "visitor",
              _l("Browser sessions on the server, encrypted: an open key, progress and answers under way"),
              _l("To remember what you do during one visit"),
              _l("30 minutes after the last page, or at once with “Close my key”, “Forget me” or quick exit"),
              DELETE_ROW, "expires_at"),
    DataClass("progress", "step_progress", ("*",), "visitor", _l("Self-help steps marked done, with a key"),
              _l("To show your progress"), _l("Deleted with the key"), DELETE_ROW, "completed_on"),
    DataClass("exercise-answers", "exercise_answers", ("*",), "visitor",
              _l("Exercise answers, encrypted, with a key"), _l("So you can read and download them"),
              _l("Deleted with the key"), DELETE_ROW, "updated_on"),
    DataClass("kept-results", "assessment_results", ("*",), "visitor",
              _l("Self-check results you chose to keep (bands and totals, encrypted; never your answers)"),
              _l("To show how things change over time"), _l("Deleted with the key, or when you delete them"),
              DELETE_ROW, "taken_on"),
    DataClass("check-counts", "assessment_counts", ("*",), "visitor",
              _l("Counts of self-check results per day, version and band (no answers, nothing about a person)"),
              _l("To know whether the self-check helps"), _l("3 years"), AGGREGATE, "day"),
    DataClass("urgent-contact-details", "urgent_cases", ("sealed_contact", "sealed_message", "sealed_reply",
                                                        "sealed_notes"),
              "visitor", _l("The phone number and message of an urgent-contact request, and the counsellor's notes, "
                            "encrypted"),
              _l("To contact you as you asked"), _l("24 hours after the request is closed"), NULL_COLUMNS,
              "closed_at"),
    DataClass("urgent-contact-cases", "urgent_cases", ("*",), "visitor",
              _l("An urgent-contact request without its details: how and when, outcome, times, escalations"),
              _l("To make sure every request is answered, and to learn from it"), _l("1 year after closing"),
              DELETE_ROW, "created_at"),
    DataClass("urgent-contact-history", "urgent_case_events", ("*",), "visitor",
              _l("What staff did with a request (codes only)"), _l("Accountability"),
              _l("Deleted with the request"), DELETE_ROW, "at"),
    DataClass("booking-details", "bookings",
              ("sealed_note", "sealed_contact", "sealed_reminder_email", "sealed_therapist_message",
               "sealed_calendar_title"), "visitor",
              _l("The note, phone number, reminder address, calendar title and therapist's message of an "
                 "appointment, encrypted"),
              _l("To hold the session and remind you"), _l("24 hours after the session"), NULL_COLUMNS, "ends_at"),
    DataClass("booking-messages", "booking_messages", ("*",), "visitor",
              _l("The therapist's messages to the visitor about an appointment, encrypted"),
              _l("So you can read them with your booking key"), _l("24 hours after the session"), DELETE_ROW,
              "created_at"),
    DataClass("bookings", "bookings", ("*",), "visitor",
              _l("Appointments: therapist, time, kind of session, outcome, and the hash of the booking key"),
              _l("To hold the appointment; afterwards for programme statistics"),
              _l("After 30 days only therapist, date, kind and outcome; deleted after 3 years"), AGGREGATE,
              "session_day"),
    DataClass("booking-reminders", "booking_reminder_mails", ("*",), "visitor",
              _l("Which waiting reminder belongs to which appointment (no address)"),
              _l("To delete a reminder with the appointment's details"),
              _l("Deleted with the reminder or the appointment"), DELETE_ROW),
    DataClass("conversations", "conversations", ("*",), "visitor",
              _l("Message threads with a counsellor: state, times, who holds them, and an optional notice address "
                 "(encrypted)"),
              _l("To answer you and keep our promised reply time"),
              _l("30 days after the thread is closed, with the key, or at once when you delete it"), DELETE_ROW,
              "closed_at"),
    DataClass("conversation-messages", "conversation_messages", ("*",), "visitor",
              _l("The messages you and the counsellors write, encrypted"), _l("To answer you"),
              _l("Deleted with the thread"), DELETE_ROW, "created_at", _MESSAGES_OF % "thread"),
    DataClass("conversation-notes", "conversation_notes", ("*",), "visitor",
              _l("Counsellors' internal notes on a thread, encrypted"),
              _l("So the counsellors who answer you know what was done"), _l("Deleted with the thread"), DELETE_ROW,
              "created_at"),
    DataClass("live-sessions", "live_sessions", ("*",), "visitor",
              _l("Live text sessions without their words: kind, language, times, who ended it"),
              _l("To hold the session and to count how chat is used"),
              _l("1 year after the session"), DELETE_ROW, "ended_at"),
    DataClass("live-transcripts", "conversation_messages", ("*",), "visitor",
              _l("What you and the counsellor or therapist wrote in a live text session, encrypted"),
              _l("So both of you can read it during the session, and you can download it"),
              _l("24 hours after the session ends, or at once when you ask"), DELETE_ROW, "created_at",
              _MESSAGES_OF % "live"),
    DataClass("chat-hours", "staffed_hours", ("*",), "content", _l("The hours in which walk-in chat is answered"),
              _l("To tell visitors when the chat is open"), _l("While set"), KEPT),
    DataClass("notifications", "outbox_messages", ("*",), "staff",
              _l("E-mails to staff and reminders waiting to go out (the recipient encrypted, and erased once sent)"),
              _l("To deliver them even if the mail server is down"),
              _l("7 days after sending"), DELETE_ROW, "created_at"),
    DataClass("staff-accounts", "staff_members", ("*",), "staff",
              _l("Staff accounts: username, name, work e-mail, password hash, second factor"),
              _l("To sign in and be notified"), _l("While the account exists"), KEPT, "created_at"),
    DataClass("staff-roles", "staff_roles", ("*",), "staff", _l("Staff roles"), _l("To decide who may do what"),
              _l("While the account exists"), KEPT),
    DataClass("staff-recovery-codes", "staff_recovery_codes", ("*",), "staff",
              _l("Hashes of staff recovery codes"), _l("To sign in without the phone"),
              _l("Until replaced"), KEPT),
    DataClass("staff-invitations", "staff_enrolment_invites", ("*",), "staff",
              _l("Hashes of enrolment links"), _l("To set up an account"), _l("30 days after use or expiry"),
              DELETE_ROW, "expires_at"),
    DataClass("staff-sessions", "staff_sessions", ("*",), "staff",
              _l("Staff sessions (a hash of the session token and times)"), _l("To keep staff signed in safely"),
              _l("30 days after they end"), DELETE_ROW, "last_seen_at"),
    DataClass("audit-log", "audit_entries", ("*",), "staff",
              _l("The audit log of staff actions (never visitors' data)"), _l("Accountability"), _l("2 years"),
              DELETE_ROW, "at"),
    DataClass("therapist-profiles", "therapist_profiles", ("*",), "staff",
              _l("Therapists' public profiles and settings"), _l("To offer appointments"),
              _l("While the account exists"), KEPT),
    DataClass("therapist-availability", "availability_windows", ("*",), "staff", _l("Therapists' weekly hours"),
              _l("To offer appointments"), _l("While the account exists"), KEPT),
    DataClass("therapist-exceptions", "availability_exceptions", ("*",), "staff",
              _l("Therapists' days off and extra hours"), _l("To offer appointments"),
              _l("While the account exists"), KEPT, "day"),
    DataClass("content-contributors", "content_contributors", ("*",), "staff",
              _l("Who worked on each version of the content"), _l("Four eyes: none of them may publish it"),
              _l("While the version is kept"), KEPT),
    DataClass("freshness-marks", "freshness_marks", ("*",), "content",
              _l("How many times published content and each therapist's schedule changed"),
              _l("So every server shows the latest version"), _l("Overwritten at each change"), KEPT),
    DataClass("duty-roster", "duty_shifts", ("*",), "staff", _l("Who is on duty when"),
              _l("To tell the counsellor on duty first"), _l("90 days after the shift"), DELETE_ROW, "ends_at"),
    DataClass("held-staff-forms", "held_staff_forms", ("*",), "staff",
              _l("What a staff member typed when their session ran out, encrypted"),
              _l("To give it back after signing in again"), _l("24 hours, or as soon as it is given back"),
              DELETE_ROW, "created_at"),
    DataClass("report-counts", "daily_counts", ("*",), "content",
              _l("Counts per day for the programme's reports (nothing about a person)"),
              _l("To report to the programme and its funders"), _l("3 years"), AGGREGATE, "day"),
    DataClass("job-locks", "job_locks", ("*",), "content", _l("Which scheduled job ran last, and when"),
              _l("So each job runs once"), _l("Overwritten every run"), KEPT),
) + tuple(
    DataClass(f"content-{table}", table, ("*",), "content", _l("Published content written by staff"),
              _l("What the site shows"), _l("While published; every version kept"), KEPT)
    for table in ("modules", "module_texts", "steps", "step_texts", "exercises", "exercise_texts", "pages",
                  "page_texts", "content_versions", "assessments", "crisis_resources")
)


def covered_columns() -> dict[str, set[str]]:
    covered: dict[str, set[str]] = {}
    for entry in REGISTRY:
        covered.setdefault(entry.table, set()).update(entry.columns)
    return covered


@dataclass(frozen=True)
class Holding:
    entry: DataClass
    count: int
    oldest: dt.datetime | dt.date | None


def _parse_moment(value: str) -> dt.datetime | dt.date | None:
    try:
        return dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
    except ValueError:
        return None


def report(session: Session) -> list[Holding]:
    """What is held per data class, and the oldest item's date."""
    holdings = []
    for entry in REGISTRY:
        conditions = [] if entry.columns == ("*",) else [
            "(" + " OR ".join(f"{column} IS NOT NULL" for column in entry.columns) + ")"]
        if entry.rows:
            conditions.append(f"({entry.rows})")
        # Only the rows that hold this data: the oldest erased row says nothing of what is held.
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        # Names and conditions come from REGISTRY above, never from input.
        count = session.execute(text(f'SELECT count(*) FROM "{entry.table}"{where}')).scalar() or 0  # noqa: S608  # nosec B608
        oldest = None
        if entry.age_column and count:
            oldest = session.execute(text(f'SELECT min({entry.age_column}) FROM "{entry.table}"{where}')).scalar()  # noqa: S608  # nosec B608
            if isinstance(oldest, str):  # SQLite hands back text for a raw query
                oldest = _parse_moment(oldest)
        holdings.append(Holding(entry, count, oldest))
    return holdings
