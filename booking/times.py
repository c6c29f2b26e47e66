"""Which time zone a staff member reads times in."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

FALLBACK_ZONE = "Europe/Brussels"


def _valid(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def staff_zone(staff=None, profile=None) -> str:
    """The staff member's own zone when they chose one (a staff setting, where it exists),
    else the zone the therapist's hours are written in, else the programme's zone."""
    programme = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if current_app else None
    return (_valid(getattr(staff, "time_zone", None)) or _valid(getattr(profile, "time_zone", None))
            or _valid(programme) or FALLBACK_ZONE)
