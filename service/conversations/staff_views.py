"""/staff/messages: counsellors (and duty staff) read, claim, answer, hand over and close
message threads, keep internal notes, and turn a thread into an urgent case."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from service.auth.access import current_staff, current_staff_session, requires_roles
from service.auth.models import AuditEntry, StaffMember
from service.clock import clock
from service.conversations import services
from service.conversations.forms import ConfirmForm, HandOverForm, NoteForm, ReplyForm
from service.conversations.models import STAFF, Conversation
from service.db import db

blueprint = Blueprint("staff_messages", __name__, url_prefix="/staff/messages", template_folder="templates")
ANSWERING = services.ANSWERING_ROLES
DEFAULT_ZONE = "Europe/Brussels"


def staff_zone(staff: StaffMember) -> ZoneInfo:
    """The staff member's zone: their own when the account has one (a therapist's
    profile), else the programme's."""
    from booking.models import TherapistProfile

    zone = getattr(staff, "time_zone", None)
    if not zone:
        profile = db.session.scalar(select(TherapistProfile).where(TherapistProfile.staff_id == staff.id))
        zone = profile.time_zone if profile else DEFAULT_ZONE
    try:
        return ZoneInfo(zone)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def _thread_or_404(public_id: str, session=None) -> Conversation:
    conversation = (session or db.session).scalar(select(Conversation).where(Conversation.public_id == public_id))
    if conversation is None or conversation.kind != "thread":
        abort(404)
    return conversation


@blueprint.get("/")
@requires_roles(*ANSWERING)
def inbox():
    tab = request.args.get("tab", "unassigned")
    if tab not in services.TABS:
        abort(404)
    staff = current_staff()
    threads = services.conversations_in_tab(db.session, staff, tab)
    holders = {member.id: member for member in services.answering_staff(db.session)}
    return render_template("staff_messages/inbox.html", tab=tab, tabs=services.TABS, threads=threads,
                           counts=services.tab_counts(db.session, staff), holders=holders, now=clock.now(),
                           unread={thread.id: services.unread_count(db.session, thread, STAFF) for thread in threads})


def _already_read_this_visit(staff: StaffMember, conversation: Conversation) -> bool:
    """A visit is the staff member's signed-in session: their reading of a thread is
    audited the first time in it, not at every reload. Derived from the audit log itself,
    so it holds across processes and instances."""
    visit = current_staff_session()
    return db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.actor_id == staff.id, AuditEntry.action == "conversation.read",
        AuditEntry.object_id == conversation.public_id, AuditEntry.at >= visit.created_at).limit(1)) is not None


def _thread_page(conversation: Conversation, reply_form: ReplyForm | None = None, note_form: NoteForm | None = None,
                 problems: dict | None = None, held_by: StaffMember | None = None, status: int = 200):
    staff = current_staff()
    shown = services.shown_messages(conversation, STAFF)
    with db.transaction() as session:
        merged = session.merge(conversation)
        if not _already_read_this_visit(staff, merged):
            services.record_reading(session, staff, merged)
        if status == 200:
            services.mark_read(session, merged, STAFF)
        notes = services.shown_notes(merged)
    holder = services.holder(db.session, conversation)
    hand_over = HandOverForm()
    hand_over.to.choices = [("", _("Nobody (back to unassigned)"))] + [
        (str(member.id), member.display_name) for member in services.answering_staff(db.session)
        if member.id != staff.id]
    case = None
    if conversation.urgent_case_id:
        from service.crisis.models import UrgentCase

        case = db.session.get(UrgentCase, conversation.urgent_case_id)
    return render_template("staff_messages/thread.html", conversation=conversation, messages=shown, notes=notes,
                           holder=holder, held_by_other=holder is not None and holder.id != staff.id,
                           reply_form=reply_form or ReplyForm(), note_form=note_form or NoteForm(),
                           hand_over_form=hand_over, confirm_form=ConfirmForm(), problems=problems or {},
                           held_by=held_by, case=case, now=clock.now(), max_length=services.MAX_MESSAGE), status


@blueprint.get("/<public_id>")
@requires_roles(*ANSWERING)
def thread(public_id: str):
    return _thread_page(_thread_or_404(public_id))


@blueprint.post("/<public_id>/claim")
@requires_roles(*ANSWERING)
def claim(public_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    take_over = request.form.get("take_over") == "1"
    try:
        with db.transaction() as session:
            services.claim(session, current_staff(), _thread_or_404(public_id, session), take_over=take_over)
    except services.HeldByAnother as held:
        flash(_("%(name)s holds this thread. Ask them to hand it over, or take it over yourself.",
                name=held.holder.display_name if held.holder else "?"), "error")
    else:
        flash(_("You took this thread over.") if take_over else _("This thread is yours to answer."), "success")
    return redirect(url_for(".thread", public_id=public_id))


@blueprint.post("/<public_id>/reply")
@requires_roles(*ANSWERING)
def reply(public_id: str):
    form = ReplyForm()
    conversation = _thread_or_404(public_id)
    if not form.validate_on_submit():
        return _thread_page(conversation, form, problems={"reply": _("The form had expired. Your text is kept "
                                                                       "below: please send it again.")}, status=400)
    try:
        with db.transaction() as session:
            services.post_message(session, session.merge(conversation), STAFF, form.body.data, staff=current_staff(),
                                  take_over=bool(form.take_over.data))
    except services.InvalidMessage as invalid:
        return _thread_page(conversation, form, problems={"reply": invalid.problems["body"]}, status=422)
    except services.HeldByAnother as held:
        # Refused, and the text kept: the counsellor now knows who holds it and may take it over.
        return _thread_page(conversation, form, held_by=held.holder, problems={"reply": _(
            "%(name)s holds this thread, so your reply was not sent. Your text is kept below. To send it anyway, "
            "tick “Take this thread over and answer”.", name=held.holder.display_name if held.holder else "?")},
            status=409)
    except services.ConversationClosed:
        flash(_("This thread is closed; the visitor can open it again by writing."), "error")
        return redirect(url_for(".thread", public_id=public_id))
    flash(_("Your reply is sent. The visitor sees it next time they open their key."), "success")
    return redirect(url_for(".thread", public_id=public_id))


@blueprint.post("/<public_id>/note")
@requires_roles(*ANSWERING)
def note(public_id: str):
    form = NoteForm()
    conversation = _thread_or_404(public_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.transaction() as session:
            services.add_note(session, current_staff(), session.merge(conversation), form.body.data)
    except services.InvalidMessage as invalid:
        return _thread_page(conversation, note_form=form, problems={"note": invalid.problems["note"]}, status=422)
    flash(_("Note kept. Only staff see it."), "success")
    return redirect(url_for(".thread", public_id=public_id) + "#notes")


@blueprint.post("/<public_id>/hand-over")
@requires_roles(*ANSWERING)
def hand_over(public_id: str):
    form = HandOverForm()
    if not form.validate_on_submit():
        abort(400)
    # Only someone who may answer can be chosen; anything else is refused below.
    candidates = {str(member.id): member.id for member in services.answering_staff(db.session)}
    chosen = form.to.data or ""
    try:
        with db.transaction() as session:
            if chosen and chosen not in candidates:
                raise ValueError(chosen)
            to = session.get(StaffMember, candidates[chosen]) if chosen else None
            services.hand_over(session, current_staff(), _thread_or_404(public_id, session), to)
            name = to.display_name if to else None
    except services.HeldByAnother as held:
        flash(_("Only %(name)s, who holds this thread, can hand it over.",
                name=held.holder.display_name if held.holder else "?"), "error")
    except ValueError:
        flash(_("That person cannot answer messages."), "error")
    else:
        flash(_("Handed over to %(name)s.", name=name) if name else _("The thread is back in “Unassigned”."),
              "success")
    return redirect(url_for(".thread", public_id=public_id))


@blueprint.post("/<public_id>/close")
@requires_roles(*ANSWERING)
def close(public_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction() as session:
            services.close(session, current_staff(), _thread_or_404(public_id, session))
    except services.HeldByAnother as held:
        flash(_("Only %(name)s, who holds this thread, can close it.",
                name=held.holder.display_name if held.holder else "?"), "error")
    else:
        flash(_("The thread is closed. It is erased %(days)d days after closing unless the visitor writes again.",
                days=current_app.config["PAUSE"].conversation_retention_days), "success")
    return redirect(url_for(".thread", public_id=public_id))


@blueprint.post("/<public_id>/urgent")
@requires_roles(*ANSWERING)
def make_urgent(public_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        case = services.open_urgent_case(session, current_staff(), _thread_or_404(public_id, session),
                                         current_app.config["PAUSE"].base_url + url_for("duty.queue"))
        reference = case.reference
    flash(_("Urgent case %(reference)s is open on the duty queue, linked to this thread.", reference=reference),
          "success")
    return redirect(url_for(".thread", public_id=public_id))
