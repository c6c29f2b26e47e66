"""The audit log of staff actions. Append-only for the application: the ORM refuses to
change or delete an entry; only the retention purge (plain SQL, by age) removes them."""

from __future__ import annotations

import json

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.auth.models import AuditEntry, StaffMember
from service.clock import clock


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_audit_entries(session: Session, _context, _instances) -> None:
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")


def record(session: Session, actor: StaffMember | None, action: str, object_type: str = "",
           object_id: object = "", actor_name: str | None = None, **detail) -> AuditEntry:
    """Adds one entry to the caller's unit of work. `detail` holds staff-side facts only
    (role names, version numbers), never what a visitor wrote."""
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else (actor_name or "-"),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        detail=json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else "",
    )
    session.add(entry)
    return entry


def entries(session: Session, *, actor: str = "", action: str = "", object_type: str = "",
            since=None, until=None, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return list(session.scalars(query.limit(limit).offset(offset)))


def action_names(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def recorded_since(session: Session, actor: StaffMember, action: str, object_type: str, object_id: object,
                   since) -> bool:
    """Whether this person already has this entry since a time (the start of their visit)."""
    query = select(AuditEntry.id).where(AuditEntry.actor_id == actor.id, AuditEntry.action == action,
                                        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return session.scalar(query.limit(1)) is not None


def record_once(session: Session, actor: StaffMember, action: str, object_type: str, object_id: object,
                since, **detail) -> AuditEntry | None:
    """Like `record`, but viewing the same thing again within a visit (since `since`, the
    start of the staff session) is one entry, not one per reload."""
    if since is not None and recorded_since(session, actor, action, object_type, object_id, since):
        return None
    return record(session, actor, action, object_type, object_id, **detail)


def object_types(session: Session) -> list[str]:
    return [name for name in session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type))
            if name]
