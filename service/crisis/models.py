"""Crisis resources (published content) and urgent-contact cases with their history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base

REGIONS = ("be-fr", "be-nl", "fr", "uk", "elsewhere")
# "programme": the programme's own line, configured by staff (number and hours); "reporting":
# where to report sexual images of children someone came across.
RESOURCE_KINDS = ("emergency", "suicide-prevention", "programme", "prevention", "child-protection", "reporting")
# How the number is reached: a call, or a text message (for example Shout, 85258).
CONTACT_WAYS = ("call", "text")


class CrisisResource(Base):
    """A helpline or service shown on /help-now. Edited by staff as versioned content."""

    __tablename__ = "crisis_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    # Space-separated region codes (REGIONS); "elsewhere" shows outside the named ones.
    regions: Mapped[str] = mapped_column(String(120))
    # Space-separated languages the service answers in.
    languages: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(40), default="")
    contact_way: Mapped[str] = mapped_column(String(8), default="call", server_default="call")
    web_address: Mapped[str] = mapped_column(String(300), default="")
    source_address: Mapped[str] = mapped_column(String(300))
    # None until a person has checked the entry against its source in the editor.
    verified_on: Mapped[dt.date | None]
    # JSON: {locale: {"name": ..., "hours": ..., "description": ...}}
    texts: Mapped[str] = mapped_column(Text)


class UrgentCase(Base):
    """A visitor's request to be contacted. The way to reach them and their message are
    sealed, and erased a set time after the case closes; the case then keeps only its
    outcome, times and escalation history."""

    __tablename__ = "urgent_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    # argon2id of the case code, found the same way as an anonymous key.
    code_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # phone, call-line, message
    time_window: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    sealed_contact: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    sealed_message: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    sealed_reply: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    state: Mapped[str] = mapped_column(String(16), index=True)  # open, acknowledged, closed
    created_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), default="")
    escalation_level: Mapped[int] = mapped_column(default=0)
    last_escalated_at: Mapped[dt.datetime | None]
    erased_at: Mapped[dt.datetime | None]
    # The counsellor's own notes on the case, sealed, erased with the contact detail.
    sealed_notes: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sealed": True})
    risk_flag: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # When the counsellor agreed to call back (UTC); shown in each colleague's zone.
    callback_at: Mapped[dt.datetime | None]
    # The outbox rows that told the team, so the status page can say truthfully whether
    # anyone was notified ("" when no one could be: nobody had an address).
    notice_ids: Mapped[str] = mapped_column(String(200), default="", server_default="")
    events: Mapped[list[CaseEvent]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                   order_by="CaseEvent.at")


class CaseEvent(Base):
    """What happened to a case, in staff words and codes only: never the visitor's."""

    __tablename__ = "urgent_case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("urgent_cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32))  # created, acknowledged, attempt, escalated, replied, closed
    detail: Mapped[str] = mapped_column(String(64), default="")
    by: Mapped[str] = mapped_column(String(64), default="")


class DutyShift(Base):
    """Who is on duty when: new requests and first escalations are mailed to them first."""

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    ends_at: Mapped[dt.datetime]
