"""/talk: a visitor writes to a counsellor, reads the answers, answers back, downloads
and deletes. Every thread belongs to the visitor's anonymous key (or, for an urgent
"message" request, to the case whose code they typed in this session), and every
thread id in an address is checked against it."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from service.conversations import services
from service.conversations.forms import AnswerForm, ConfirmForm, FeedbackForm, FirstMessageForm, NoticeForm
from service.conversations.models import VISITOR
from service.db import db
from service.i18n import current_locale
from service.privacy import client_fingerprint
from service.security import shared_rate_limit
from service.visitor import services as keys
from service.visitor.current import current_key_id, key_opened, remember_open_key

blueprint = Blueprint("conversations", __name__, url_prefix="/talk", template_folder="templates")
# The urgent case whose code the visitor typed in this browser session (its row id).
CASE_SESSION_FIELD = "talk_case_id"


def _message_limit() -> str:
    return current_app.config["PAUSE"].conversation_message_rate_limit


def _per_key() -> str:
    """Throttles by the open key, so one key cannot flood from many addresses; a keyed
    hash of its row id, so the limiter's store holds nothing that names it."""
    key_id = session.get("key_id") or session.get(CASE_SESSION_FIELD)
    if key_id is None:
        return "talk-nokey:" + client_fingerprint()
    secret = current_app.config["SECRET_KEY"].encode()
    return "talk-key:" + hmac.new(secret, f"talk:{key_id}".encode(), hashlib.sha256).hexdigest()[:24]


def throttled(view):
    """Every message a visitor sends (a first one, an answer, a self-help answer) counts
    against one allowance per client and one per key, checked before any work. Shared
    limits, so writing through several pages does not multiply the allowance."""
    for scope, key_func in (("talk-client", client_fingerprint), ("talk-key", _per_key)):
        view = shared_rate_limit(_message_limit, scope, key_func=key_func, methods=["POST"])(view)
    return view


def _case_id() -> int | None:
    return session.get(CASE_SESSION_FIELD)


def _promise() -> int:
    return current_app.config["PAUSE"].conversation_reply_promise_days


def _thread_or_404(public_id: str, session_=None):
    conversation = services.find_for_visitor(session_ or db.session, public_id, current_key_id(), _case_id())
    if conversation is None:
        abort(404)
    return conversation


def _index(form: FirstMessageForm, problems: dict | None = None, status: int = 200):
    key_id = current_key_id()
    threads = []
    if key_id is not None:
        threads = [(thread, services.unread_count(db.session, thread, VISITOR))
                   for thread in services.conversations_for_key(db.session, key_id)]
    return render_template("conversations/talk.html", form=form, problems=problems or {}, key_open=key_id is not None,
                           threads=threads, promise_days=_promise(),
                           max_length=services.MAX_MESSAGE), status


@blueprint.get("/")
def index():
    return _index(FirstMessageForm())


@blueprint.post("/")
@throttled
def start():
    form = FirstMessageForm()
    if not form.validate_on_submit():
        return _index(form, {"body": _("Your form had expired. Your text is kept below: please send it again.")}, 400)
    try:
        services.clean_body(form.body.data)
        services.clean_notice_address(form.notice_address.data)
    except services.InvalidMessage as invalid:
        return _index(form, invalid.problems, 422)
    key_id, plain_key = current_key_id(), None
    with db.transaction() as session_:
        if key_id is None:
            # One key for everything: someone without one gets it now, shown once below.
            key, plain_key = keys.create_key(session_)
            key_id = key.id
        thread = services.open_conversation(session_, key_id=key_id, body=form.body.data, language=current_locale(),
                                            from_relative=form.from_relative.data,
                                            notice_address=form.notice_address.data, reply_promise_days=_promise())
        public_id = thread.public_id
    if plain_key is not None:
        remember_open_key(key_id)
        key_opened.send(current_app._get_current_object(), key_id=key_id)
        # Shown in this answer only: not stored, not put in an address or the session.
        return render_template("conversations/started.html", plain_key=plain_key, public_id=public_id,
                               promise_days=_promise())
    flash(_("Your message is sent. A counsellor will answer %(promise)s.", promise=promise_words(_promise())),
          "success")
    return redirect(url_for(".thread", public_id=public_id))


def promise_words(days: int) -> str:
    from flask_babel import ngettext

    return ngettext("within %(num)d working day", "within %(num)d working days", days)


def _thread_page(conversation, answer_form: AnswerForm | None = None, problems: dict | None = None,
                 status: int = 200, notice_form: NoticeForm | None = None):
    shown = services.shown_messages(conversation, VISITOR)
    if status == 200 and any(message.new for message in shown):
        with db.transaction() as session_:
            services.mark_read(session_, session_.merge(conversation), VISITOR)
    return render_template("conversations/thread.html", conversation=conversation, messages=shown,
                           form=answer_form or AnswerForm(), problems=problems or {}, confirm_form=ConfirmForm(),
                           notice_form=notice_form or NoticeForm(), promise_days=_promise(),
                           has_notice=conversation.sealed_notice_address is not None,
                           max_length=services.MAX_MESSAGE), status


@blueprint.get("/<public_id>")
def thread(public_id: str):
    return _thread_page(_thread_or_404(public_id))


@blueprint.post("/<public_id>/answer")
@throttled
def answer(public_id: str):
    conversation = _thread_or_404(public_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _thread_page(conversation, form, {"body": _("Your form had expired. Your text is kept below: "
                                                           "please send it again.")}, 400)
    try:
        with db.transaction() as session_:
            services.post_message(session_, session_.merge(conversation), VISITOR, form.body.data,
                                  reply_promise_days=_promise())
    except services.InvalidMessage as invalid:
        return _thread_page(conversation, form, invalid.problems, 422)
    flash(_("Your answer is sent."), "success")
    return redirect(url_for(".thread", public_id=public_id) + "#messages")


@blueprint.post("/<public_id>/notice")
def notice(public_id: str):
    conversation = _thread_or_404(public_id)
    form = NoticeForm()
    if not form.validate_on_submit():
        abort(400)
    address = "" if request.form.get("remove") else form.notice_address.data
    try:
        with db.transaction() as session_:
            services.set_notice_address(session_, session_.merge(conversation), address)
    except services.InvalidMessage as invalid:
        form.notice_address.errors = [invalid.problems["notice_address"]]
        return _thread_page(conversation, status=422, notice_form=form)
    flash(_("We will send a short notice to that address when you have a new message.") if address else
          _("The notice address is erased."), "success")
    return redirect(url_for(".thread", public_id=public_id))


@blueprint.get("/<public_id>/download")
def download(public_id: str):
    conversation = _thread_or_404(public_id)
    text = render_template("conversations/transcript.txt", conversation=conversation,
                           messages=services.shown_messages(conversation, VISITOR))
    response = current_app.response_class(text, mimetype="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="pause-conversation.txt"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/<public_id>/delete")
def confirm_delete(public_id: str):
    return render_template("conversations/delete.html", conversation=_thread_or_404(public_id),
                           confirm_form=ConfirmForm())


@blueprint.post("/<public_id>/delete")
def delete(public_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session_:
        services.delete_conversation(session_, _thread_or_404(public_id, session_))
    flash(_("The conversation is deleted: every message in it is gone, on our side too."), "success")
    return redirect(url_for(".index"))


@blueprint.post("/feedback/<slug:module_slug>/<slug:step_slug>")
@throttled
def ask_feedback(module_slug: str, step_slug: str):
    """Guided self-help: the answer to an exercise goes into a new thread, asking a
    counsellor for feedback."""
    from self_help import services as self_help

    key_id = current_key_id()
    form = FeedbackForm()
    if key_id is None or not form.validate_on_submit():
        flash(_("Open your key to ask for feedback on your answer."), "info")
        return redirect(url_for("visitor.overview"))
    settings = current_app.config["PAUSE"]
    step = self_help.step_by_slug(db.session, module_slug, step_slug, current_locale(), settings.default_locale)
    if step is None or step.exercise is None:
        abort(404)
    saved = self_help.answer_for(db.session, key_id, step.exercise.id)
    if not saved:
        flash(_("Save your answer first, then ask for feedback."), "info")
        return redirect(url_for("self_help.step", module_slug=module_slug, step_slug=step_slug) + "#exercise")
    body = services.exercise_message(
        _("I would like feedback on my answer to this exercise."), f"{step.module.title} / {step.title}",
        step.exercise.prompt, saved, step.exercise.items, form.body.data)
    try:
        with db.transaction() as session_:
            thread_ = services.open_conversation(session_, key_id=key_id, body=body, language=current_locale(),
                                                 origin="self-help", message_kind="exercise",
                                                 reply_promise_days=_promise())
            public_id = thread_.public_id
    except services.InvalidMessage as invalid:
        flash(invalid.problems["body"], "error")
        return redirect(url_for("self_help.step", module_slug=module_slug, step_slug=step_slug) + "#exercise")
    flash(_("Your answer is sent to a counsellor, who will give you feedback %(promise)s.",
            promise=promise_words(_promise())), "success")
    return redirect(url_for(".thread", public_id=public_id))
