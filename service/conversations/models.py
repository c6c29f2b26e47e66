"""Conversations between a visitor, known only by their anonymous key, and counsellors.

A conversation is a "thread" (asynchronous: write, read the answer later) or a "live"
session; both hold messages the same way, so a live session can fall back to a thread.
What a visitor or a counsellor writes is sealed at rest (service.crypto); the row keeps
only who wrote (a side, never a person on the visitor's side), when, and read markers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base

KINDS = ("thread", "live")
# Where the conversation began: /talk, an urgent-contact "message" request, or an exercise
# answer sent for feedback.
ORIGINS = ("talk", "urgent", "self-help", "live")
WAITING_FOR_COUNSELLOR = "waiting-for-counsellor"
WAITING_FOR_VISITOR = "waiting-for-visitor"
CLOSED = "closed"
STATUSES = (WAITING_FOR_COUNSELLOR, WAITING_FOR_VISITOR, CLOSED)
VISITOR = "visitor"
STAFF = "staff"
SIDES = (VISITOR, STAFF)
# Every sealed column says so here (for the keyring's rotation and the canary).
SEALED = {"sealed": True}


class Conversation(Base):
    """One thread or live session. `public_id` is the only id a visitor ever sees: 128
    random bits, and checked against the visitor's key (or case) on every request."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # The anonymous key that owns it; the thread goes when the key does.
    key_id: Mapped[int | None] = mapped_column(ForeignKey("anonymous_keys.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="thread")
    origin: Mapped[str] = mapped_column(String(16), default="talk")
    # The visitor writes about someone close to them (family and friends): staff see it.
    from_relative: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"),
                                                       index=True)
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    # The last message on either side.
    updated_at: Mapped[dt.datetime]
    # When the visitor's oldest unanswered message must be answered by (the promise), and
    # whether counsellors were reminded and admins told for that message.
    reply_due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[dt.datetime | None]
    overdue_alerted_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # The urgent case it came from, or that a counsellor opened from it: one link, read both ways.
    urgent_case_id: Mapped[int | None] = mapped_column(ForeignKey("urgent_cases.id", ondelete="SET NULL"),
                                                       index=True)
    # An optional address for a neutral notice ("you have a new message"); sealed, and
    # erased with the thread's details or at once when the visitor removes it.
    sealed_notice_address: Mapped[bytes | None] = mapped_column(LargeBinary, info=SEALED)
    # The highest message id each side has read: what is above it is "new".
    visitor_read_up_to: Mapped[int] = mapped_column(Integer, default=0)
    staff_read_up_to: Mapped[int] = mapped_column(Integer, default=0)

    messages: Mapped[list[Message]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                   order_by="Message.id", back_populates="conversation")
    notes: Mapped[list[Note]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                             order_by="Note.id")

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED


class Message(Base):
    """One message. Ids only grow, so `messages_since(conversation, after_id)` lets a
    live session resume without losing or repeating one."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(8))  # visitor or staff
    # The counsellor who wrote it (staff side only); the visitor's side names nobody.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    # "text", or "exercise" for a self-help answer sent for feedback.
    kind: Mapped[str] = mapped_column(String(16), default="text")
    sealed_body: Mapped[bytes | None] = mapped_column(LargeBinary, info=SEALED)
    created_at: Mapped[dt.datetime]
    # When the other side first read it.
    read_at: Mapped[dt.datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Note(Base):
    """A counsellors' internal note on a conversation: never shown to the visitor, sealed."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(64), default="")
    sealed_body: Mapped[bytes | None] = mapped_column(LargeBinary, info=SEALED)
    created_at: Mapped[dt.datetime]
