"""The publishing workflow: draft -> in review -> published, with four eyes.

Rules, each a plain function over a Session (the caller owns the transaction):
- anyone with an editing role opens at most one draft per item, based on what is live;
- the author sends it to review; a publisher or admin who is NOT the author publishes it,
  or sends it back to draft;
- publishing makes the version immutable, supersedes the one before, and applies the
  document to the live tables;
- rolling back publishes a copy of an older version as a new version.
"""

from __future__ import annotations

import difflib
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from content import documents
from content.models import ContentVersion, Page
from content.typography import typeset_document
from self_help.models import Assessment, Module
from service import audit
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
    problems = documents.validate(draft.kind, document, default_locale, locales)
    if problems:
        return problems
    draft.document, draft.note, draft.updated_at = _dump(document), note.strip()[:500], clock.now()
    audit.record(session, staff, "content.draft_saved", draft.kind, f"{draft.slug} v{draft.number}")
    return []


def submit_for_review(session: Session, staff: StaffMember, draft: ContentVersion) -> None:
    _require(staff, EDITING_ROLES)
    if draft.state != DRAFT:
        raise WorkflowError(_l("Only a draft can be sent for review."))
    draft.state, draft.updated_at = REVIEW, clock.now()
    audit.record(session, staff, "content.submitted", draft.kind, f"{draft.slug} v{draft.number}")


def send_back(session: Session, staff: StaffMember, candidate: ContentVersion, reason: str) -> None:
    _require(staff, PUBLISHING_ROLES)
    if candidate.state != REVIEW:
        raise WorkflowError(_l("Only a version in review can be sent back."))
    candidate.state, candidate.updated_at = DRAFT, clock.now()
    audit.record(session, staff, "content.sent_back", candidate.kind, f"{candidate.slug} v{candidate.number}",
                 reason=reason.strip()[:500])


def publish(session: Session, staff: StaffMember, candidate: ContentVersion) -> None:
    _require(staff, PUBLISHING_ROLES)
    if candidate.state != REVIEW:
        raise WorkflowError(_l("Only a version in review can be published."))
    if candidate.author_id == staff.id:
        raise WorkflowError(_l("Someone other than the author must publish a change (four eyes)."))
    _make_live(session, staff, candidate)
    audit.record(session, staff, "content.published", candidate.kind, f"{candidate.slug} v{candidate.number}",
                 author=candidate.author_name)


def roll_back(session: Session, staff: StaffMember, old: ContentVersion) -> ContentVersion:
    """Publishes the text of an older version again, as a new version."""
    _require(staff, PUBLISHING_ROLES)
    if old.state not in (PUBLISHED, SUPERSEDED):
        raise WorkflowError(_l("Only a version that was published can be restored."))
    if open_version(session, old.kind, old.slug) is not None:
        raise WorkflowError(_l("Finish or send back the open draft first."))
    restored = _new_version(session, old.kind, document_of(old), REVIEW, staff, "",
                            note=f"Rollback to version {old.number}")
    _make_live(session, staff, restored)
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
