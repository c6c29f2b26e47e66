"""Pages written by staff: about, privacy, confidentiality and any new page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base


class Page(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    texts: Mapped[list[PageText]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class PageText(Base):
    __tablename__ = "page_texts"
    __table_args__ = (UniqueConstraint("page_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)


class ContentVersion(Base):
    """One version of a module or page, holding every language as one JSON document.

    A draft is edited in place; once published it never changes again (see
    content.publishing). Numbers count up per item: 1 is the shipped seed content.
    """

    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("kind", "slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(80))
    number: Mapped[int]
    # draft -> review -> published -> superseded; review -> draft when sent back.
    state: Mapped[str] = mapped_column(String(16), index=True)
    document: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None]
    author_name: Mapped[str] = mapped_column(String(64))
    publisher_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]
    # Publishing at a chosen time: the publisher who chose it, and when (UTC). The
    # scheduled job makes it live then; sending it back clears it.
    publish_at: Mapped[dt.datetime | None]
    scheduled_by_id: Mapped[int | None]
    scheduled_by_name: Mapped[str] = mapped_column(String(64), default="", server_default="")


class ContentContributor(Base):
    """Everyone who opened, saved, submitted or restored a version: none of them may
    publish it (four eyes)."""

    __tablename__ = "content_contributors"

    version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key, as for the author: the record outlives the account.
    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
