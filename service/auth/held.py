"""What a staff member typed when their session ran out: the post is held (sealed),
and given back on the same page once they have signed in again, so a long draft is
never lost to the idle timeout."""

from __future__ import annotations

import datetime as dt
import json

from flask import Request
from sqlalchemy import ForeignKey, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.datastructures import MultiDict

from service import crypto
from service.clock import clock
from service.db import Base

KEPT_FOR = dt.timedelta(hours=24)


class HeldForm(Base):
    __tablename__ = "held_staff_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    sealed_form: Mapped[bytes] = mapped_column(LargeBinary, info={"sealed": True})
    created_at: Mapped[dt.datetime]


def staff_id_of_lapsed_session(session: Session, token: str | None) -> int | None:
    """Whose session this cookie belonged to, if it ran out by time (not signed out)."""
    from service.auth import sessions
    from service.auth.models import StaffMember, StaffSession

    if not token:
        return None
    row = session.execute(select(StaffSession, StaffMember).join(StaffMember, StaffMember.id == StaffSession.staff_id)
                          .where(StaffSession.token_digest == sessions.digest(token))).first()
    if row is None or row[0].ended_at is not None or row[0].stage != sessions.SIGNED_IN or row[1].disabled_at:
        return None
    return row[1].id


def hold(session: Session, staff_id: int, request: Request) -> None:
    fields = [(name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"]
    session.execute(delete(HeldForm).where(HeldForm.staff_id == staff_id, HeldForm.path == request.path[:300]))
    session.add(HeldForm(staff_id=staff_id, path=request.path[:300],
                         sealed_form=crypto.seal(json.dumps(fields, ensure_ascii=False)), created_at=clock.now()))


def waiting_path(session: Session, staff_id: int) -> str | None:
    """The page with held text to go back to after signing in, if any."""
    row = session.scalar(select(HeldForm).where(HeldForm.staff_id == staff_id,
                                                HeldForm.created_at > clock.now() - KEPT_FOR)
                         .order_by(HeldForm.created_at.desc()).limit(1))
    return row.path if row is not None else None


def take(session: Session, staff_id: int, path: str) -> MultiDict | None:
    """The held post for this page (then forgotten), or None."""
    row = session.scalar(select(HeldForm).where(HeldForm.staff_id == staff_id, HeldForm.path == path,
                                                HeldForm.created_at > clock.now() - KEPT_FOR)
                         .order_by(HeldForm.created_at.desc()).limit(1))
    if row is None:
        return None
    fields = json.loads(crypto.unseal(row.sealed_form))
    session.execute(delete(HeldForm).where(HeldForm.staff_id == staff_id, HeldForm.path == path))
    return MultiDict([(name, value) for name, value in fields])


def erase_old(session: Session) -> int:
    return session.execute(delete(HeldForm).where(HeldForm.created_at < clock.now() - KEPT_FOR)).rowcount or 0
