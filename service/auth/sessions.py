"""Server-side staff sessions: random token in the cookie, its SHA-256 in the table."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.auth.models import StaffMember, StaffSession
from service.clock import clock

IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_LIFETIME = dt.timedelta(hours=12)
# Half-finished sign-ins (password right, code not yet given) expire quickly.
SECOND_FACTOR_WINDOW = dt.timedelta(minutes=5)
# last_seen_at is written at most this often, so reading pages does not mean writing.
TOUCH_INTERVAL = dt.timedelta(seconds=60)

# The name of a sign-in stage, not a password.
PASSWORD_STAGE = "password"  # noqa: S105  # nosec B105
SIGNED_IN = "signed-in"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, staff: StaffMember, stage: str) -> str:
    """A new session and its token. A new token every time: never reuse one across
    sign-in stages (session fixation)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(StaffSession(token_digest=digest(token), staff_id=staff.id, stage=stage, created_at=now,
                             last_seen_at=now))
    return token


def expired(staff_session: StaffSession, now: dt.datetime) -> bool:
    if staff_session.ended_at is not None:
        return True
    if staff_session.stage == PASSWORD_STAGE:
        return now - staff_session.created_at > SECOND_FACTOR_WINDOW
    return now - staff_session.last_seen_at > IDLE_TIMEOUT or now - staff_session.created_at > ABSOLUTE_LIFETIME


def find(session: Session, token: str | None) -> tuple[StaffSession, StaffMember] | None:
    """The live session for a cookie's token, with its staff member; None if it has
    ended, expired, or the account is disabled."""
    if not token:
        return None
    row = session.execute(
        select(StaffSession, StaffMember).join(StaffMember, StaffMember.id == StaffSession.staff_id)
        .where(StaffSession.token_digest == digest(token))
    ).first()
    if row is None:
        return None
    staff_session, staff = row
    if expired(staff_session, clock.now()) or staff.disabled_at is not None:
        return None
    return staff_session, staff


def touch(session: Session, staff_session: StaffSession) -> bool:
    now = clock.now()
    if now - staff_session.last_seen_at < TOUCH_INTERVAL:
        return False
    session.execute(update(StaffSession).where(StaffSession.id == staff_session.id).values(last_seen_at=now))
    return True


def end(session: Session, staff_session_id: int) -> None:
    session.execute(update(StaffSession).where(StaffSession.id == staff_session_id, StaffSession.ended_at.is_(None))
                    .values(ended_at=clock.now()))


def end_all_for(session: Session, staff_id: int) -> int:
    result = session.execute(update(StaffSession).where(StaffSession.staff_id == staff_id,
                                                        StaffSession.ended_at.is_(None))
                             .values(ended_at=clock.now()))
    return result.rowcount or 0


def ends_at(staff_session: StaffSession) -> dt.datetime:
    """When this session will end if nothing more happens."""
    return min(staff_session.last_seen_at + IDLE_TIMEOUT, staff_session.created_at + ABSOLUTE_LIFETIME)
