"""Staff accounts, their second factor, their server-side sessions, and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base

ROLES = ("admin", "editor", "publisher", "therapist", "duty", "counsellor")


class StaffMember(Base):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # Work address, for notifications only.
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    # The time step of the last accepted code: a code is accepted once only.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Wrong second-factor codes since the last right one, counted across sign-ins (a new
    # password step does not start the count again); at the limit the factor is locked.
    code_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    code_locked_until: Mapped[dt.datetime | None]
    # An admin asked for this account to be reset (new password and authenticator); a
    # second admin must approve before anything changes.
    reset_requested_by: Mapped[int | None] = mapped_column(Integer)
    reset_requested_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    enrolled_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]
    # Times on staff pages are shown in this zone (an IANA name).
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels", server_default="Europe/Brussels")
    roles: Mapped[list[StaffRole]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                  lazy="selectin")

    @property
    def role_names(self) -> set[str]:
        return {role.role for role in self.roles}

    @property
    def is_active(self) -> bool:
        return self.enrolled_at is not None and self.disabled_at is None


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class RecoveryCode(Base):
    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[dt.datetime | None]


class EnrolmentInvite(Base):
    """A one-time link to set a password and a second factor. Only its SHA-256 is kept:
    the token is 256 random bits, so a fast hash is enough."""

    __tablename__ = "staff_enrolment_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class StaffSession(Base):
    """A server-side staff session: the cookie holds a random token, the table its
    SHA-256. Ending a session here ends it everywhere, at once."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    # "password": the password was right, the second factor is still to come.
    # "signed-in": both factors passed.
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """Who did what to which object, and when. Staff actions only: never a visitor's data,
    never an address. Append-only for the application (see service.audit)."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    # No foreign key: the record of what someone did outlives their account.
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
