"""/staff/mail: the messages the outbox set aside, for admins to put back or discard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from service import audit, outbox
from service.auth.access import current_staff, requires_roles
from service.auth.forms import ConfirmForm
from service.db import db

blueprint = Blueprint("mail", __name__, url_prefix="/staff/mail")

# Why a message was set aside, in words.
REASON_WORDS = {
    outbox.UNUSABLE_ADDRESS: _l("The recipient's address is not a valid e-mail address."),
    outbox.REFUSED: _l("The mail server refused this message."),
    outbox.UNREADABLE: _l("The recipient's address could not be read (the data key may have changed)."),
    outbox.KEPT_FAILING: _l("The mail server did not accept it after several tries."),
}


@blueprint.get("/")
@requires_roles("admin")
def set_aside():
    messages = outbox.set_aside(db.session)
    return render_template("mail/set_aside.html", messages=messages, reasons=REASON_WORDS,
                           confirm_form=ConfirmForm())


def _message_or_404(session, message_id: int) -> outbox.OutboxMessage:
    """A message not sent yet (the page lists those set aside; one put back in the queue
    may still be discarded by an admin who changed their mind)."""
    message = session.get(outbox.OutboxMessage, message_id)
    if message is None or message.sent_at is not None:
        abort(404)
    return message


@blueprint.post("/<int:message_id>/retry")
@requires_roles("admin")
def retry(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        message = _message_or_404(session, message_id)
        audit.record(session, session.merge(current_staff()), "mail.retried", "mail", message.id,
                     reason=message.failure or "")
        outbox.try_again(session, message)
    flash(_("The message is back in the queue and will be tried within a minute."), "success")
    return redirect(url_for(".set_aside"))


@blueprint.post("/<int:message_id>/discard")
@requires_roles("admin")
def discard(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        message = _message_or_404(session, message_id)
        audit.record(session, session.merge(current_staff()), "mail.discarded", "mail", message.id,
                     reason=message.failure or "")
        outbox.discard(session, message)
    flash(_("The message is discarded."), "success")
    return redirect(url_for(".set_aside"))
