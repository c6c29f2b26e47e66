"""Reading pages in the visitor's language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.models import Page
from content.sanitize import render_markdown


@dataclass(frozen=True)
class PageView:
    slug: str
    title: str
    body_html: str
    fallback: bool


def page_by_slug(session: Session, slug: str, locale: str, default_locale: str) -> PageView | None:
    page = session.scalar(select(Page).options(selectinload(Page.texts)).where(Page.slug == slug))
    if page is None or not page.texts:
        return None
    by_locale = {text.locale: text for text in page.texts}
    text = by_locale.get(locale) or by_locale.get(default_locale) or page.texts[0]
    return PageView(page.slug, text.title, render_markdown(text.body_markdown), text.locale != locale)
