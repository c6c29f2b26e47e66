"""The publishing workflow: draft -> in review -> published, with four eyes.

Rules, each a plain function over a Session (the caller owns the transaction):
- anyone with an editing role opens at most one draft per item, based on what is live;
- the author sends it to review; a publisher or admin who did NOT work on it (opened,
  saved, submitted or restored it: every one is recorded) publishes it, or sends it back;
- publishing makes the version immutable, supersedes the one before, and applies the
  document to the live tables;
- restoring an older version puts a copy of it in review as a new version: a second
  person publishes it, as for any change.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from content import documents
from content.models import ContentContributor, ContentVersion, Page
from content.typography import typeset_document
from self_help.models import Assessment, Module
from service import audit, text_limits
from service.auth.models import StaffMember
from service.clock import clock

DRAFT, REVIEW, PUBLISHED, SUPERSEDED = "draft", "review", "published", "superseded"
OPEN_STATES = (DRAFT, REVIEW)
EDITING_ROLES = {"editor", "publisher", "admin"}
PUBLISHING_ROLES = {"publisher", "admin"}


class WorkflowError(ValueError):
    """A workflow rule was broken; the message is for staff."""


class PublishedVersionIsImmutable(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_versions(session: Session, _context, _instances) -> None:
    for instance in session.dirty:
        if isinstance(instance, ContentVersion):
            attributes = inspect(instance).attrs
            state_before = (attributes.state.history.deleted or [instance.state])[0]
            if state_before in (PUBLISHED, SUPERSEDED) and attributes.document.history.has_changes():
                raise PublishedVersionIsImmutable("a published version cannot be changed")
    for instance in session.deleted:
        if isinstance(instance, ContentVersion) and instance.state in (PUBLISHED, SUPERSEDED):
            raise PublishedVersionIsImmutable("a published version cannot be deleted")


def document_of(version: ContentVersion) -> dict:
    return json.loads(version.document)


def _dump(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1)


def versions_of(session: Session, kind: str, slug: str) -> list[ContentVersion]:
    return list(session.scalars(select(ContentVersion).where(ContentVersion.kind == kind, ContentVersion.slug == slug)
                                .order_by(ContentVersion.number.desc())))


def version(session: Session, kind: str, slug: str, number: int) -> ContentVersion | None:
    return session.scalar(select(ContentVersion).where(ContentVersion.kind == kind, ContentVersion.slug == slug,
                                                       ContentVersion.number == number))


def published_version(session: Session, kind: str, slug: str) -> ContentVersion | None:
    return session.scalar(select(ContentVersion).where(ContentVersion.kind == kind, ContentVersion.slug == slug,
                                                       ContentVersion.state == PUBLISHED))


def open_version(session: Session, kind: str, slug: str) -> ContentVersion | None:
    return session.scalar(select(ContentVersion).where(ContentVersion.kind == kind, ContentVersion.slug == slug,
                                                       ContentVersion.state.in_(OPEN_STATES)))


def _next_number(session: Session, kind: str, slug: str) -> int:
    highest = session.scalar(select(func.max(ContentVersion.number)).where(ContentVersion.kind == kind,
                                                                           ContentVersion.slug == slug))
    return (highest or 0) + 1


def _new_version(session: Session, kind: str, document: dict, state: str, author: StaffMember | None,
                 author_name: str, note: str = "") -> ContentVersion:
    now = clock.now()
    row = ContentVersion(kind=kind, slug=document["slug"], number=_next_number(session, kind, document["slug"]),
                         state=state, document=_dump(document), note=note, author_id=author.id if author else None,
                         author_name=author.username if author else author_name, created_at=now, updated_at=now,
                         published_at=None)
    session.add(row)
    session.flush()
    return row


def worked_on_by(session: Session, version: ContentVersion, staff: StaffMember) -> None:
    """Records that `staff` contributed to this version (once)."""
    if session.get(ContentContributor, (version.id, staff.id)) is None:
        session.add(ContentContributor(version_id=version.id, staff_id=staff.id))
        session.flush()


def contributors_of(session: Session, version: ContentVersion) -> set[int]:
    ids = set(session.scalars(select(ContentContributor.staff_id).where(ContentContributor.version_id == version.id)))
    return ids | ({version.author_id} if version.author_id is not None else set())


def _require(staff: StaffMember, roles: set[str]) -> None:
    if not staff.role_names & roles:
        raise WorkflowError(_l("Your roles do not allow this."))


# The shipped content -------------------------------------------------------------------------


def record_seed_version(session: Session, kind: str, document: dict, note: str = "") -> bool:
    """The shipped content becomes version 1, published, the first time only; after
    that the item belongs to staff and the seed leaves it alone. True if it applied.
    `note` is the version's note, shown to staff only (for example "to be reviewed")."""
    if session.scalar(select(ContentVersion.id).where(ContentVersion.kind == kind,
                                                      ContentVersion.slug == document["slug"]).limit(1)):
        return False
    row = _new_version(session, kind, typeset_document(documents.sanitized(document)), PUBLISHED, None, "seed",
                       note[:500])
    row.published_at, row.publisher_name = clock.now(), "seed"
    documents.apply(session, kind, document_of(row), row.number)
    return True


# Workflow -------------------------------------------------------------------------------------


def start_draft(session: Session, staff: StaffMember, kind: str, slug: str) -> ContentVersion:
    """The open draft of an item, made from what is live if there is none."""
    _require(staff, EDITING_ROLES)
    existing = open_version(session, kind, slug)
    if existing is not None:
        return existing
    live = published_version(session, kind, slug)
    if live is None:
        raise WorkflowError(_l("There is no such item."))
    draft = _new_version(session, kind, document_of(live), DRAFT, staff, "")
    worked_on_by(session, draft, staff)
    audit.record(session, staff, "content.draft_started", kind, f"{slug} v{draft.number}")
    return draft


def new_page(session: Session, staff: StaffMember, slug: str, title: str, default_locale: str) -> ContentVersion:
    _require(staff, EDITING_ROLES)
    document = {"slug": slug, "texts": {default_locale: {"title": title, "body": ""}}}
    if not documents.SLUG.match(slug):
        raise WorkflowError(_l("The address (slug) may hold only lowercase letters, digits and single hyphens."))
    if versions_of(session, documents.PAGE, slug) or session.scalar(select(Page.id).where(Page.slug == slug)):
        raise WorkflowError(_l("A page with this address exists already."))
    draft = _new_version(session, documents.PAGE, document, DRAFT, staff, "")
    worked_on_by(session, draft, staff)
    audit.record(session, staff, "content.page_created", documents.PAGE, f"{slug} v{draft.number}")
    return draft


def save_draft(session: Session, staff: StaffMember, draft: ContentVersion, document: dict, note: str,
               default_locale: str, locales: tuple[str, ...] | None = None) -> list[str]:
    """Saves the draft if the document is valid; returns the problems otherwise (and
    saves nothing, so the editor can show the form again as it was sent)."""
    _require(staff, EDITING_ROLES)
    if draft.state != DRAFT:
        raise WorkflowError(_l("Only a draft can be edited."))
    document = typeset_document(documents.sanitized(document))
    document["slug"] = draft.slug  # the address of an item never changes: people share it
    if draft.kind == documents.RESOURCES:
        from service.crisis.services import stamp_verifications

        document = stamp_verifications(document, clock.today())
    stored = _dump(document)
    problems = text_limits.document_problems(document, len(stored))
    note_problem = text_limits.too_long(str(_l("The note")), note.strip(), text_limits.MAX_STAFF_NOTE)
    problems += [note_problem] if note_problem else []
    problems = problems or documents.validate(draft.kind, document, default_locale, locales)
    if not problems and draft.kind == documents.ASSESSMENT:
        problems = recommendations_to_missing_modules(session, document)
    if problems:
        return problems
    draft.document, draft.note, draft.updated_at = stored, note.strip(), clock.now()
    worked_on_by(session, draft, staff)
    audit.record(session, staff, "content.draft_saved", draft.kind, f"{draft.slug} v{draft.number}")
    return []


def submit_for_review(session: Session, staff: StaffMember, draft: ContentVersion) -> None:
    _require(staff, EDITING_ROLES)
    if draft.state != DRAFT:
        raise WorkflowError(_l("Only a draft can be sent for review."))
    draft.state, draft.updated_at = REVIEW, clock.now()
    worked_on_by(session, draft, staff)
    audit.record(session, staff, "content.submitted", draft.kind, f"{draft.slug} v{draft.number}")


def send_back(session: Session, staff: StaffMember, candidate: ContentVersion, reason: str) -> None:
    _require(staff, PUBLISHING_ROLES)
    if candidate.state != REVIEW:
        raise WorkflowError(_l("Only a version in review can be sent back."))
    problem = text_limits.too_long(str(_l("The reason")), reason.strip(), text_limits.MAX_STAFF_NOTE)
    if problem:
        raise WorkflowError(problem)
    candidate.state, candidate.updated_at = DRAFT, clock.now()
    candidate.publish_at, candidate.scheduled_by_id, candidate.scheduled_by_name = None, None, ""
    audit.record(session, staff, "content.sent_back", candidate.kind, f"{candidate.slug} v{candidate.number}",
                 reason=reason.strip())


def publish(session: Session, staff: StaffMember, candidate: ContentVersion) -> None:
    _require(staff, PUBLISHING_ROLES)
    if candidate.state != REVIEW:
        raise WorkflowError(_l("Only a version in review can be published."))
    if staff.id in contributors_of(session, candidate):
        raise WorkflowError(_l("Someone other than the author must publish a change (four eyes)."))
    _make_live(session, staff, candidate)
    audit.record(session, staff, "content.published", candidate.kind, f"{candidate.slug} v{candidate.number}",
                 author=candidate.author_name)


def roll_back(session: Session, staff: StaffMember, old: ContentVersion) -> ContentVersion:
    """Puts the text of an older version in review again, as a new version: a second
    person publishes it (restoring old text is a change like any other)."""
    _require(staff, PUBLISHING_ROLES)
    if old.state not in (PUBLISHED, SUPERSEDED):
        raise WorkflowError(_l("Only a version that was published can be restored."))
    if open_version(session, old.kind, old.slug) is not None:
        raise WorkflowError(_l("Finish or send back the open draft first."))
    restored = _new_version(session, old.kind, document_of(old), REVIEW, staff, "",
                            note=f"Rollback to version {old.number}")
    worked_on_by(session, restored, staff)
    audit.record(session, staff, "content.rolled_back", old.kind, f"{old.slug} v{restored.number}",
                 restored_from=old.number)
    return restored


def _make_live(session: Session, staff: StaffMember, candidate: ContentVersion) -> None:
    previous = published_version(session, candidate.kind, candidate.slug)
    if previous is not None:
        previous.state = SUPERSEDED
        session.flush()
    candidate.state, candidate.published_at, candidate.publisher_name = PUBLISHED, clock.now(), staff.username
    candidate.updated_at = clock.now()
    documents.apply(session, candidate.kind, document_of(candidate), candidate.number)


# Looking at content --------------------------------------------------------------------------


def items(session: Session, locales: tuple[str, ...]) -> list[dict]:
    """Every module and page with its live version, open draft and missing languages."""
    listing = []
    for kind, slugs in ((documents.MODULE, session.scalars(select(Module.slug).order_by(Module.position))),
                        (documents.PAGE, session.scalars(select(Page.slug).order_by(Page.slug))),
                        (documents.ASSESSMENT, session.scalars(select(Assessment.slug).order_by(Assessment.position))),
                        (documents.RESOURCES, session.scalars(select(ContentVersion.slug).where(
                            ContentVersion.kind == documents.RESOURCES).distinct()))):
        for slug in list(slugs):
            live, draft = published_version(session, kind, slug), open_version(session, kind, slug)
            shown = draft or live
            listing.append({"kind": kind, "slug": slug, "live": live, "open": draft,
                            "missing": documents.missing_translations(kind, document_of(shown), locales)
                            if shown else []})
    for draft in session.scalars(select(ContentVersion).where(ContentVersion.state.in_(OPEN_STATES))):
        if not any(item["kind"] == draft.kind and item["slug"] == draft.slug for item in listing):
            listing.append({"kind": draft.kind, "slug": draft.slug, "live": None, "open": draft,
                            "missing": documents.missing_translations(draft.kind, document_of(draft), locales)})
    return listing


def flatten(document: dict) -> list[str]:
    """A document as lines of text, field by field, for comparing two versions."""
    lines = []

    def add(label: str, text: str) -> None:
        lines.append(f"## {label}")
        lines.extend((text or "").splitlines() or [""])

    for locale, text in sorted(document.get("texts", {}).items()):
        for field, value in text.items():
            add(f"{field} [{locale}]", value)
    for number, step in enumerate(document.get("steps", []), start=1):
        add(f"step {number} address", step.get("slug", ""))
        for locale, text in sorted(step.get("texts", {}).items()):
            for field, value in text.items():
                add(f"step {number} {field} [{locale}]", value)
        exercise = step.get("exercise")
        if exercise:
            add(f"step {number} exercise", f"{exercise.get('kind')} {exercise.get('slug')}")
            for locale, text in sorted(exercise.get("texts", {}).items()):
                add(f"step {number} exercise question [{locale}]", text.get("prompt", ""))
                add(f"step {number} exercise items [{locale}]", "\n".join(text.get("items", [])))
    return lines


def diff(older: ContentVersion, newer: ContentVersion) -> list[tuple[str, str]]:
    """(kind, line) pairs: kind is "added", "removed", "context" or "section"."""
    result = []
    for line in difflib.unified_diff(flatten(document_of(older)), flatten(document_of(newer)), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(("section", line))
        elif line.startswith("+"):
            result.append(("added", line[1:]))
        elif line.startswith("-"):
            result.append(("removed", line[1:]))
        else:
            result.append(("context", line[1:]))
    return result


@dataclass(frozen=True)
class Decision:
    kind: str
    slug: str
    number: int
    title: str
    at: dt.datetime
    sent_back: bool
    reason: str
    by: str


def decisions_for_author(session: Session, author: StaffMember, since: dt.datetime) -> list[Decision]:
    """Publishers' decisions on this author's versions since a time, newest first: the
    reason for sending one back reaches its author through here (from the audit log,
    where it is kept with the decision)."""
    from service.auth.models import AuditEntry
    from service.words import word

    mine = {(row.kind, f"{row.slug} v{row.number}"): row for row in session.scalars(
        select(ContentVersion).where(ContentVersion.author_id == author.id))}
    if not mine:
        return []
    found = []
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("content.sent_back", "content.published")), AuditEntry.at >= since)
            .order_by(AuditEntry.at.desc())):
        row = mine.get((entry.object_type, entry.object_id))
        if row is None:
            continue
        sent_back = entry.action == "content.sent_back"
        reason = json.loads(entry.detail).get("reason", "") if sent_back and entry.detail else ""
        kind = word(row.kind, "content-kind")
        title = (str(_l("%(kind)s “%(slug)s”, version %(number)d, was sent back by %(name)s", kind=kind,
                        slug=row.slug, number=row.number, name=entry.actor_name)) if sent_back else
                 str(_l("%(kind)s “%(slug)s”, version %(number)d, was published by %(name)s", kind=kind,
                        slug=row.slug, number=row.number, name=entry.actor_name)))
        found.append(Decision(row.kind, row.slug, row.number, title, entry.at, sent_back, reason, entry.actor_name))
    return found


def send_back_reasons(session: Session, kind: str, slug: str) -> dict[int, list[dict]]:
    """{version number: [{"reason", "by", "at"}, ...]} for one item, oldest first: the
    author reads why a version came back beside it."""
    from service.auth.models import AuditEntry

    found: dict[int, list[dict]] = {}
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "content.sent_back", AuditEntry.object_type == kind,
            AuditEntry.object_id.like(f"{slug} v%")).order_by(AuditEntry.at)):
        number = entry.object_id.rsplit(" v", 1)[-1]
        if entry.object_id.rsplit(" v", 1)[0] != slug or not number.isdigit():
            continue
        reason = json.loads(entry.detail).get("reason", "") if entry.detail else ""
        found.setdefault(int(number), []).append({"reason": reason, "by": entry.actor_name, "at": entry.at})
    return found


def recommendations_to_missing_modules(session: Session, document: dict) -> list[str]:
    """A band may only recommend a self-help module that exists: a visitor must never be
    sent to a page that is not there."""
    known = set(session.scalars(select(Module.slug).where(~Module.withdrawn)))
    problems = []
    for band in document.get("bands") or []:
        if not isinstance(band, dict):
            continue
        for recommendation in band.get("recommendations") or []:
            text = str(recommendation)
            if text.startswith("module:") and text.split(":", 1)[1] not in known:
                problems.append(str(_l("Band %(min)s–%(max)s recommends the module “%(slug)s”, which does not exist. "
                                       "Choose a published module.", min=band.get("min"), max=band.get("max"),
                                       slug=text.split(":", 1)[1])))
    return problems


# Publishing at a chosen time, and unpublishing ------------------------------------------------

# Pages every visitor must be able to read: they can be changed, never taken down.
REQUIRED_PAGES = ("about", "privacy", "confidentiality")


def schedule(session: Session, staff: StaffMember, candidate: ContentVersion, at: dt.datetime) -> None:
    """Publishes the version in review at `at` (UTC), with the same four-eyes rule as now."""
    _require(staff, PUBLISHING_ROLES)
    if candidate.state != REVIEW:
        raise WorkflowError(_l("Only a version in review can be published."))
    if candidate.author_id == staff.id:
        raise WorkflowError(_l("Someone other than the author must publish a change (four eyes)."))
    if at <= clock.now():
        raise WorkflowError(_l("Choose a time in the future, or publish now."))
    candidate.publish_at, candidate.scheduled_by_id, candidate.scheduled_by_name = at, staff.id, staff.username
    audit.record(session, staff, "content.scheduled", candidate.kind, f"{candidate.slug} v{candidate.number}",
                 at=at.isoformat(timespec="minutes"))


def publish_due(session: Session) -> int:
    """The scheduled job: every version in review whose time has come goes live, in the
    name of the publisher who chose the time."""
    published = 0
    for candidate in list(session.scalars(select(ContentVersion).where(
            ContentVersion.state == REVIEW, ContentVersion.publish_at.is_not(None),
            ContentVersion.publish_at <= clock.now()).order_by(ContentVersion.publish_at))):
        publisher = session.get(StaffMember, candidate.scheduled_by_id) if candidate.scheduled_by_id else None
        if publisher is None or not publisher.is_active or not publisher.role_names & PUBLISHING_ROLES:
            candidate.publish_at = None  # the choice lapses with its publisher's right to publish
            continue
        candidate.publish_at = None
        _make_live(session, publisher, candidate)
        audit.record(session, publisher, "content.published", candidate.kind, f"{candidate.slug} v{candidate.number}",
                     author=candidate.author_name)
        published += 1
    return published


UNPUBLISHABLE_KINDS = (documents.PAGE, documents.MODULE)


def can_unpublish(kind: str, slug: str) -> bool:
    """Whether a publisher may take this item off the public site at all: a page of our
    own or a self-help module. Assessments and the crisis directory must stay."""
    return kind in UNPUBLISHABLE_KINDS and not (kind == documents.PAGE and slug in REQUIRED_PAGES)


def assessments_recommending(session: Session, module_slug: str) -> list[str]:
    """The titles (in the reader's language) of the live assessments whose results send
    visitors to this module."""
    from flask_babel import get_locale

    locale, wanted, found = str(get_locale() or "en"), f"module:{module_slug}", []
    for slug in session.scalars(select(Assessment.slug).order_by(Assessment.position)):
        live = published_version(session, documents.ASSESSMENT, slug)
        document = document_of(live) if live is not None else {}
        if any(wanted in [str(item) for item in (band.get("recommendations") or [])]
               for band in document.get("bands") or [] if isinstance(band, dict)):
            titles = document.get("title") if isinstance(document.get("title"), dict) else {}
            found.append(str(titles.get(locale) or titles.get("en") or slug))
    return found


def unpublish(session: Session, staff: StaffMember, kind: str, slug: str) -> None:
    """Takes a page or a module off the public site; every version is kept, and
    restoring one puts it back. A module keeps its rows (withdrawn), so that what readers
    did in it survives."""
    _require(staff, PUBLISHING_ROLES)
    if not can_unpublish(kind, slug):
        raise WorkflowError(_l("Only a page of your own or a self-help module can be unpublished; "
                               "this one must stay readable."))
    live = published_version(session, kind, slug)
    if live is None:
        raise WorkflowError(_l("This is not published."))
    if kind == documents.MODULE:
        recommending = assessments_recommending(session, slug)
        if recommending:
            raise WorkflowError(_l("The self-check “%(assessment)s” recommends this module: change its results "
                                   "first, so that no visitor is sent to a page that is gone.",
                                   assessment=", ".join(recommending)))
    live.state, live.updated_at = SUPERSEDED, clock.now()
    if kind == documents.MODULE:
        module = session.scalar(select(Module).where(Module.slug == slug))
        if module is not None:
            module.withdrawn = True
    else:
        page = session.scalar(select(Page).where(Page.slug == slug))
        if page is not None:
            session.delete(page)
    session.flush()
    from service import freshness

    freshness.bump(session, "published-content")  # every process forgets the cached page at once
    audit.record(session, staff, "content.unpublished", kind, f"{slug} v{live.number}")


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str
    markdown: bool  # shown rendered, as the public reads it


FIELD_WORDS = {"title": _l("Title"), "summary": _l("Summary"), "body": _l("Text"), "prompt": _l("Exercise question"),
               "items": _l("Checklist items"), "name": _l("Name"), "hours": _l("Hours"),
               "description": _l("Description")}
MARKDOWN_FIELDS = ("body", "summary", "description")


def _fields(document: dict) -> dict[str, tuple[str, str, bool]]:
    """{key: (label, text, markdown)} for every text field of a module or page."""
    from service.words import word

    found: dict[str, tuple[str, str, bool]] = {}

    def add(key: str, label: str, text, markdown: bool) -> None:
        found[key] = (label, "\n".join(text) if isinstance(text, list) else str(text or ""), markdown)

    def field(name: str) -> str:
        return str(FIELD_WORDS.get(name, name))

    for locale, text in sorted((document.get("texts") or {}).items()):
        for name, value in (text or {}).items():
            add(f"{name}-{locale}", f"{field(name)} ({word(locale, 'language')})", value, name in MARKDOWN_FIELDS)
    for number, step in enumerate(document.get("steps") or [], start=1):
        step_label = str(_l("Step %(number)d", number=number))
        add(f"step-{number}-slug", f"{step_label}: {_l('Address (slug)')}", step.get("slug", ""), False)
        for locale, text in sorted((step.get("texts") or {}).items()):
            for name, value in (text or {}).items():
                add(f"step-{number}-{name}-{locale}", f"{step_label}: {field(name)} ({word(locale, 'language')})",
                    value, name in MARKDOWN_FIELDS)
        for locale, text in sorted(((step.get("exercise") or {}).get("texts") or {}).items()):
            for name in ("prompt", "items"):
                add(f"step-{number}-exercise-{name}-{locale}",
                    f"{step_label}: {field(name)} ({word(locale, 'language')})", (text or {}).get(name, ""), False)
    return found


def field_changes(older: ContentVersion, newer: ContentVersion) -> tuple[list[FieldChange], int]:
    """The fields that differ between two versions, with labels, in the newer one's order;
    and how many are the same."""
    before, after = _fields(document_of(older)), _fields(document_of(newer))
    changes, same = [], 0
    for key in list(after) + [key for key in before if key not in after]:
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old[1] == new[1]:
            same += 1
            continue
        label, markdown = (new or old)[0], (new or old)[2]
        changes.append(FieldChange(label, old[1] if old else "", new[1] if new else "", markdown))
    return changes, same
