"""The on-duty queue of urgent-contact requests: /staff/duty, and the duty roster."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from service.auth.access import current_staff, current_staff_session, requires_roles
from service.auth.forms import ConfirmForm
from service.auth.models import StaffMember, StaffRole
from service.clock import clock
from service.crisis import services
from service.crisis.models import DutyShift, UrgentCase
from service.db import db
from service.visitor.services import MalformedKey
from service.words import from_local

blueprint = Blueprint("duty", __name__, url_prefix="/staff/duty", template_folder="templates")
DUTY = ("duty", "admin")


def _case_or_404(reference: str, session) -> UrgentCase:
    case = session.scalar(select(UrgentCase).where(UrgentCase.reference == reference))
    if case is None:
        abort(404)
    return case


def _visit_started() -> dt.datetime | None:
    visit = current_staff_session()
    return visit.created_at if visit is not None else None


@blueprint.get("/")
@requires_roles(*DUTY)
def queue():
    now = clock.now()
    return render_template("duty/queue.html", open_cases=services.open_cases(db.session),
                           closed_cases=services.recent_closed_cases(db.session),
                           on_duty=services.on_duty_now(db.session, now), form=ConfirmForm(), lookup_error=None)


@blueprint.post("/lookup")
@requires_roles(*DUTY)
def lookup():
    """A visitor on the programme's line reads out their case code: find the case."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    error = None
    try:
        found = services.find_case(db.session, request.form.get("code", "")[:64])
    except MalformedKey:
        found, error = None, _("That is not a case code: it has 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX.")
    if found is None and error is None:
        error = _("No request has that code. Ask the visitor to read it again, character by character.")
    if found is not None:
        return redirect(url_for(".case", reference=found.reference))
    return render_template("duty/queue.html", open_cases=services.open_cases(db.session),
                           closed_cases=services.recent_closed_cases(db.session),
                           on_duty=services.on_duty_now(db.session, clock.now()), form=ConfirmForm(),
                           lookup_error=error), 422


def _render_case(found: UrgentCase, revealed: dict | None, status: int = 200):
    from service.conversations.services import for_urgent_case

    return render_template("duty/case.html", case=found, revealed=revealed, form=ConfirmForm(),
                           thread=for_urgent_case(db.session, found.id),
                           outcomes=services.OUTCOMES, attempts=services.ATTEMPT_RESULTS,
                           me=current_staff().username), status


@blueprint.get("/<reference>")
@requires_roles(*DUTY)
def case(reference: str):
    found = _case_or_404(reference, db.session)
    revealed = None
    visit = _visit_started()
    if visit is not None and services.shown_in_this_visit(db.session, current_staff(), found, visit):
        with db.transaction() as session:
            revealed = services.reveal_contact(session, current_staff(), session.merge(found), visit)
    return _render_case(found, revealed)


@blueprint.post("/<reference>/reveal")
@requires_roles(*DUTY)
def reveal(reference: str):
    """Shows the way to reach the visitor; it stays shown on this case for the rest of
    the visit. The first showing in a visit is audited."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        found = _case_or_404(reference, session)
        if found.erased_at is None:
            services.reveal_contact(session, current_staff(), found, _visit_started())
    return redirect(url_for(".case", reference=reference))


def _callback_time(form) -> dt.datetime | None:
    if form.get("clear"):
        return None
    day = dt.date.fromisoformat(form.get("day", "")[:10])
    time = dt.time.fromisoformat(form.get("time", "")[:5])
    return from_local(dt.datetime.combine(day, time))


@blueprint.post("/<reference>/<action>")
@requires_roles(*DUTY)
def act(reference: str, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    staff = current_staff()
    try:
        with db.transaction() as session:
            found = _case_or_404(reference, session)
            if action == "acknowledge":
                services.acknowledge(session, staff, found)
            elif action == "take-over":
                services.take_over(session, staff, found)
            elif action == "attempt":
                services.record_attempt(session, staff, found, request.form.get("result", ""))
            elif action == "reply":
                services.reply(session, staff, found, request.form.get("reply", ""))
            elif action == "notes":
                services.add_note(session, staff, found, request.form.get("note", ""))
            elif action == "risk":
                services.set_risk(session, staff, found, request.form.get("risk") == "on")
            elif action == "callback":
                services.set_callback(session, staff, found, _callback_time(request.form))
            elif action == "close":
                services.close(session, staff, found, request.form.get("outcome", ""))
            else:
                abort(404)
    except services.HeldByAnother as held:
        flash(_("%(name)s holds this request. Take it over first if you are sure.", name=held.holder), "error")
    except services.CaseError as error:
        flash(str(error), "error")
    except ValueError:
        flash(_("That could not be saved. Please check what you chose or typed."), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for(".case", reference=reference))


# The roster -------------------------------------------------------------------------------


def _duty_people(session) -> list[StaffMember]:
    return [person for person in session.scalars(select(StaffMember).join(StaffRole).where(
        StaffRole.role == "duty").order_by(StaffMember.display_name)) if person.is_active]


def _render_roster(problem: str | None = None, status: int = 200):
    now = clock.now()
    return render_template("duty/roster.html", shifts=services.upcoming_shifts(db.session, now),
                           on_duty=services.on_duty_now(db.session, now), people=_duty_people(db.session),
                           form=ConfirmForm(), problem=problem, values=request.form), status


@blueprint.get("/roster")
@requires_roles(*DUTY)
def roster():
    return _render_roster()


@blueprint.post("/roster")
@requires_roles(*DUTY)
def add_shift():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    form = request.form
    try:
        day = dt.date.fromisoformat(form.get("day", "")[:10])
        starts = from_local(dt.datetime.combine(day, dt.time.fromisoformat(form.get("start", "")[:5])))
        ends = from_local(dt.datetime.combine(day, dt.time.fromisoformat(form.get("end", "")[:5])))
        if ends <= starts:
            ends += dt.timedelta(days=1)  # a night shift ends the next morning
        with db.transaction() as session:
            person = session.get(StaffMember, int(form.get("person", "")[:12]))
            if person is None:
                raise ValueError("person")
            services.add_shift(session, session.merge(current_staff()), person, starts, ends)
    except (ValueError, OverflowError):
        return _render_roster(_("Choose a counsellor, a day, and a start and end time such as 08:00 and 16:00."), 422)
    flash(_("The shift is on the roster."), "success")
    return redirect(url_for(".roster"))


@blueprint.post("/roster/<int:shift_id>/remove")
@requires_roles(*DUTY)
def remove_shift(shift_id: int):
    from service.confirm import confirmation_page, confirmed

    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return confirmation_page(_("Remove this shift from the roster?"),
                                 _("New requests will then no longer be mailed to this counsellor first."),
                                 _("Yes, remove the shift"), url_for(".roster"))
    with db.transaction() as session:
        shift = session.get(DutyShift, shift_id)
        if shift is not None:
            services.remove_shift(session, session.merge(current_staff()), shift)
    flash(_("The shift is removed."), "success")
    return redirect(url_for(".roster"))
