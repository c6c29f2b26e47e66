"""The on-duty queue of urgent-contact requests: /staff/duty."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from service.auth.access import current_staff, requires_roles
from service.auth.forms import ConfirmForm
from service.crisis import services
from service.crisis.models import UrgentCase
from service.db import db

blueprint = Blueprint("duty", __name__, url_prefix="/staff/duty", template_folder="templates")
DUTY = ("duty", "admin")


def _case_or_404(reference: str, session) -> UrgentCase:
    case = session.scalar(select(UrgentCase).where(UrgentCase.reference == reference))
    if case is None:
        abort(404)
    return case


@blueprint.get("/")
@requires_roles(*DUTY)
def queue():
    return render_template("duty/queue.html", open_cases=services.open_cases(db.session),
                           closed_cases=services.recent_closed_cases(db.session))


@blueprint.get("/<reference>")
@requires_roles(*DUTY)
def case(reference: str):
    from service.conversations.services import for_urgent_case

    found = _case_or_404(reference, db.session)
    return render_template("duty/case.html", case=found, revealed=None, thread=for_urgent_case(db.session, found.id),
                           form=ConfirmForm(), outcomes=services.OUTCOMES, attempts=services.ATTEMPT_RESULTS)


@blueprint.post("/<reference>/reveal")
@requires_roles(*DUTY)
def reveal(reference: str):
    """Shows the way to reach the visitor on this one page; each reveal is audited."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        found = _case_or_404(reference, session)
        revealed = services.reveal_contact(session, current_staff(), found) if found.erased_at is None else None
    response = render_template("duty/case.html", case=found, revealed=revealed, form=ConfirmForm(),
                               outcomes=services.OUTCOMES, attempts=services.ATTEMPT_RESULTS)
    return response


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
            elif action == "attempt":
                services.record_attempt(session, staff, found, request.form.get("result", ""))
            elif action == "reply":
                services.reply(session, staff, found, request.form.get("reply", ""))
            elif action == "close":
                services.close(session, staff, found, request.form.get("outcome", ""))
            else:
                abort(404)
    except ValueError:
        flash(_("Please choose one of the options."), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for(".case", reference=reference))
