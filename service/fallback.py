"""What the portal shows while the database is away: help comes first, so the crisis
lines are never missing from /help-now or the error page.

The lines a process last read from the database are kept in memory, per region and
language; before any were read (a worker started during an outage), the lines shipped
with the code (content/seed/crisis-resources.toml) stand in. Both are what the public
saw or would see: no visitor data."""

from __future__ import annotations

import functools
import threading
import tomllib
from pathlib import Path

from service.crisis.services import ResourceView

SHIPPED_RESOURCES = Path(__file__).resolve().parent.parent / "content" / "seed" / "crisis-resources.toml"

_last_read: dict[tuple[str, str], list[ResourceView]] = {}
_lock = threading.Lock()


def remember(region: str, locale: str, resources: list[ResourceView]) -> None:
    with _lock:
        _last_read[(region, locale)] = list(resources)


def resources_without_database(region: str, locale: str, default_locale: str) -> list[ResourceView]:
    """The lines for a region as last read from the database, else as shipped."""
    with _lock:
        known = _last_read.get((region, locale))
    if known is not None:
        return list(known)
    return [view for regions, view in _shipped(locale, default_locale) if region in regions or "all" in regions]


@functools.cache
def _shipped(locale: str, default_locale: str) -> tuple[tuple[frozenset[str], ResourceView], ...]:
    document = tomllib.loads(SHIPPED_RESOURCES.read_text(encoding="utf-8"))
    shipped = []
    for resource in document.get("resources", []):
        texts = resource.get("texts", {})
        text = texts.get(locale) or texts.get(default_locale) or {}
        shipped.append((frozenset(resource.get("regions", [])), ResourceView(
            resource["slug"], resource["kind"], text.get("name", ""), resource.get("phone", ""),
            text.get("hours", ""), text.get("description", ""), " ".join(resource.get("languages", [])),
            resource.get("contact_way", "call"), resource.get("web_address", ""))))
    return tuple(shipped)


def phone_lines(regions: tuple[str, ...], locale: str, default_locale: str) -> list[ResourceView]:
    """Lines to call or text for the error pages: every one with a number, each once."""
    seen: dict[str, ResourceView] = {}
    for region in regions:
        for resource in resources_without_database(region, locale, default_locale):
            if resource.phone and resource.kind != "reporting":
                seen.setdefault(resource.slug, resource)
    return list(seen.values())


def answers_without_database(view):
    """For pages that need nothing from the database (the home page): while the database
    is known to be away, or if asking it fails, the page is rendered as it is, without
    the cache in front of it that checks the content's generation."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import db

    plain = getattr(view, "__wrapped__", view)

    @functools.wraps(view)
    def serve(**view_args):
        if db.breaker.is_open:
            return plain(**view_args)
        try:
            return view(**view_args)
        except SQLAlchemyError:
            try:
                db.session.rollback()
            except SQLAlchemyError:
                pass  # the connection is gone; the session is closed at teardown
            return plain(**view_args)

    return serve
