"""Who may see which staff route. Every staff route declares its roles with
`@requires_roles(...)` (or `@open_to_anyone` for sign-in itself); the app refuses to
start if a /staff/ route declares nothing, so no route is forgotten."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, url_for

from service.auth import sessions
from service.auth.models import StaffMember
from service.db import db

STAFF_COOKIE = "pause_staff"
STAFF_COOKIE_PRODUCTION = "__Host-pause-staff"

# endpoint name -> frozenset of roles (any of them suffices); None = open to anyone.
ROUTE_ROLES: dict[str, frozenset[str] | None] = {}
_DECLARED = "_pause_roles"


class UndeclaredStaffRoute(RuntimeError):
    pass


def cookie_name() -> str:
    return STAFF_COOKIE_PRODUCTION if current_app.config["PAUSE"].is_production else STAFF_COOKIE


def requires_roles(*roles: str) -> Callable:
    """The view answers only to a signed-in staff member holding one of these roles:
    anyone else signed in gets 403, anyone not signed in goes to the sign-in page."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                if request.method == "POST" and getattr(view, _KEEPS_TYPING, False):
                    _hold_what_was_typed()
                return redirect(url_for("staff.login"))
            if not staff.role_names & set(roles):
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, _DECLARED, frozenset(roles))
        return guarded

    return decorate


_KEEPS_TYPING = "_pause_keeps_typing"


def keeps_typing(view: Callable) -> Callable:
    """Put under @requires_roles: a post that arrives after the session ran out is held
    and given back on the same page after signing in again (service.auth.held)."""
    setattr(view, _KEEPS_TYPING, True)
    return view


def _hold_what_was_typed() -> None:
    from flask import flash
    from flask_babel import gettext as _

    from service.auth import held

    staff_id = held.staff_id_of_lapsed_session(db.session, request.cookies.get(cookie_name()))
    if staff_id is None:
        return
    with db.transaction() as session:
        held.hold(session, staff_id, request)
    flash(_("Your session ended, but what you typed is kept. Sign in again to go on where you were."), "info")


def open_to_anyone(view: Callable) -> Callable:
    """Sign-in, enrolment and sign-out: reachable without a session, by design."""
    setattr(view, _DECLARED, None)
    return view


def any_staff(view: Callable) -> Callable:
    from service.auth.models import ROLES

    return requires_roles(*ROLES)(view)


def current_staff() -> StaffMember | None:
    """The staff member signed in on this request (both factors passed), or None."""
    if "pause_staff" not in g:
        g.pause_staff, g.pause_staff_session = None, None
        found = sessions.find(db.session, request.cookies.get(cookie_name()))
        if found is not None and found[0].stage == sessions.SIGNED_IN:
            g.pause_staff_session, g.pause_staff = found
            with db.transaction() as session:
                sessions.touch(session, found[0])
    return g.pause_staff


def current_staff_session():
    current_staff()
    return g.pause_staff_session


def check_every_staff_route_is_declared(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, _DECLARED):
            raise UndeclaredStaffRoute(f"{rule.endpoint} ({rule.rule}) declares no roles")
        ROUTE_ROLES[rule.endpoint] = getattr(view, _DECLARED)
