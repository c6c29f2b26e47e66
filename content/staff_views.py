"""Staff pages for writing and publishing content: /staff/content/..."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from content import documents, editing, publishing
from content.forms import NewPageForm, ReviewForm
from content.sanitize import render_markdown
from self_help import services as self_help_services
from self_help.forms import AnswerForm, StepDoneForm
from service.auth.access import current_staff, keeps_typing, requires_roles
from service.auth.forms import ConfirmForm
from service.clock import clock
from service.confirm import confirmation_page, confirmed
from service.db import db
from service.i18n import current_locale
from service.routing import number_in_query

blueprint = Blueprint("staff_content", __name__, url_prefix="/staff/content", template_folder="templates")

EDITORS = ("editor", "publisher", "admin")
PUBLISHERS = ("publisher", "admin")


def _locales() -> tuple[str, ...]:
    return current_app.config["PAUSE"].locales


def _default_locale() -> str:
    return current_app.config["PAUSE"].default_locale


def _kind_or_404(kind: str) -> str:
    if kind not in documents.KINDS:
        abort(404)
    return kind


def _version_or_404(kind: str, slug: str, number: int):
    found = publishing.version(db.session, _kind_or_404(kind), slug, number)
    if found is None:
        abort(404)
    return found


@blueprint.get("/")
@requires_roles(*EDITORS)
def overview():
    from service.crisis.services import stale_resources

    return render_template("staff_content/overview.html", items=publishing.items(db.session, _locales()),
                           new_page_form=NewPageForm(), unverified=len(stale_resources(db.session)))


@blueprint.post("/pages")
@requires_roles(*EDITORS)
def create_page():
    form = NewPageForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                draft = publishing.new_page(session, current_staff(), form.slug.data.strip(), form.title.data.strip(),
                                            _default_locale())
        except publishing.WorkflowError as error:
            form.slug.errors.append(str(error))
        else:
            return redirect(url_for(".edit", kind=draft.kind, slug=draft.slug, number=draft.number))
    return render_template("staff_content/overview.html", items=publishing.items(db.session, _locales()),
                           new_page_form=form), 422


@blueprint.get("/<kind>/<slug:slug>")
@requires_roles(*EDITORS)
def item(kind: str, slug: str):
    versions = publishing.versions_of(db.session, _kind_or_404(kind), slug)
    if not versions:
        abort(404)
    return render_template("staff_content/item.html", kind=kind, slug=slug, versions=versions,
                           open_version=publishing.open_version(db.session, kind, slug), confirm_form=ConfirmForm(),
                           review_form=ReviewForm(), staff=current_staff(),
                           sent_back=publishing.send_back_reasons(db.session, kind, slug),
                           can_unpublish=publishing.can_unpublish(kind, slug) and any(
                               version.state == publishing.PUBLISHED for version in versions))


@blueprint.post("/<kind>/<slug:slug>/draft")
@requires_roles(*EDITORS)
def start_draft(kind: str, slug: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction() as session:
            draft = publishing.start_draft(session, current_staff(), _kind_or_404(kind), slug)
    except publishing.WorkflowError as error:
        flash(str(error), "error")
        return redirect(url_for(".overview"))
    return redirect(url_for(".edit", kind=kind, slug=slug, number=draft.number))


@blueprint.route("/<kind>/<slug:slug>/versions/<int:number>/edit", methods=["GET", "POST"])
@requires_roles(*EDITORS)
@keeps_typing
def edit(kind: str, slug: str, number: int):
    draft = _version_or_404(kind, slug, number)
    if draft.state != publishing.DRAFT:
        flash(_("Only a draft can be edited."), "error")
        return redirect(url_for(".item", kind=kind, slug=slug))
    if kind == documents.RESOURCES and request.args.get("as") != "toml" and (
            request.method == "GET" or "resource_count" in request.form):
        return _edit_resources(draft)
    if kind == documents.ASSESSMENT and request.args.get("as") != "toml" and (
            request.method == "GET" or "assessment_form" in request.form):
        return _edit_assessment(draft)
    if kind in documents.TEXT_KINDS:
        return _edit_as_text(draft)
    document, problems, status = publishing.document_of(draft), [], 200
    note = draft.note
    restored = _restored_typing()
    if restored is not None:
        document, note = editing.document_from_form(kind, slug, restored, _locales()), restored.get("note", "")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        document = editing.document_from_form(kind, slug, request.form, _locales())
        note = request.form.get("note", "")
        action = request.form.get("action", "save")
        if action == "add-step":
            document = editing.with_empty_step(document, _locales())
        elif action.startswith("remove-step-") and not confirmed():
            return confirmation_page(_("Remove this step?"),
                                     _("The step and its exercise leave this draft. "
                                       "Nothing is saved until you save the draft."),
                                     _("Yes, remove the step"), url_for(".edit", kind=kind, slug=slug, number=number),
                                     keep_fields=True, action=action)
        elif action.startswith("remove-step-"):
            document = editing.without_step(document, int(action.rsplit("-", 1)[1]))
        elif action == "back":
            pass  # back from the confirmation page: the form as it was
        elif action.startswith(("up-step-", "down-step-")):
            document = editing.moved_step(document, int(action.rsplit("-", 1)[1]),
                                          -1 if action.startswith("up") else 1)
        else:
            problems = _save_or_submit(draft, document, note, action)
            if not problems:
                return _after_saving(draft, action)
            status = 422
    return render_template("staff_content/edit.html", kind=kind, slug=slug, draft=draft, document=document,
                           note=note, problems=problems, locales=_locales(), confirm_form=ConfirmForm(),
                           missing=documents.missing_translations(kind, document, _locales())), status


def _after_saving(draft, action: str):
    """Sent for review: back to the item's versions; saved: on with the same draft."""
    return redirect(url_for(".item", kind=draft.kind, slug=draft.slug) if action == "submit"
                    else url_for(".edit", kind=draft.kind, slug=draft.slug, number=draft.number))


def _save_or_submit(draft, document: dict, note: str, action: str) -> list[str]:
    """Saves the draft (and sends it for review on "submit"); the problems, if refused."""
    with db.transaction() as session:
        problems = publishing.save_draft(session, current_staff(), session.merge(draft), document, note,
                                         _default_locale(), _locales())
        if not problems and action == "submit":
            publishing.submit_for_review(session, current_staff(), draft)
    if not problems:
        flash(_("Sent for review.") if action == "submit" else _("Draft saved."), "success")
    return problems


def _restored_typing():
    """What was typed here when the session last ran out, given back once (not saved
    yet: the editor checks it and saves)."""
    from service.auth import held

    if request.method != "GET":
        return None
    with db.transaction() as session:
        restored = held.take(session, current_staff().id, request.path)
    if restored is not None:
        flash(_("Your session had ended: here is what you typed. Check it, then save."), "info")
    return restored


def _edit_resources(draft):
    """Crisis resources in a form of their own (TOML stays one click away)."""
    from content import resource_form
    from service.crisis.models import CONTACT_WAYS, REGIONS, RESOURCE_KINDS
    from service.crisis.services import unverified_in

    document, note, problems, status = publishing.document_of(draft), draft.note, [], 200
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        document = resource_form.document_from_form(draft.slug, request.form, _locales())
        note = request.form.get("note", "")
        action = request.form.get("action", "save")
        if action == "add-resource":
            document = resource_form.with_empty_resource(document, _locales())
        elif action in ("save", "submit"):
            problems = _save_or_submit(draft, document, note, action)
            if not problems:
                return _after_saving(draft, action)
            status = 422
    return render_template("staff_content/edit_resources.html", kind=draft.kind, slug=draft.slug, draft=draft,
                           document=document, note=note, problems=problems, locales=_locales(),
                           confirm_form=ConfirmForm(), kinds=RESOURCE_KINDS, regions=REGIONS, ways=CONTACT_WAYS,
                           stale=unverified_in(publishing.document_of(draft), clock.today())), status


def _edit_assessment(draft):
    """A self-check in a form of its own (TOML stays one click away)."""
    from content import assessment_form
    from self_help.models import AUDIENCES

    document, note, problems, status = publishing.document_of(draft), draft.note, [], 200
    restored = _restored_typing()
    if restored is not None and "assessment_form" in restored:
        document = assessment_form.document_from_form(draft.slug, restored, _locales())
        note = restored.get("note", "")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        document = assessment_form.document_from_form(draft.slug, request.form, _locales())
        note = request.form.get("note", "")
        action = request.form.get("action", "save")
        changed = assessment_form.apply_action(document, action, _locales())
        if changed is not None:
            document = changed
        elif action in ("save", "submit"):
            problems = _save_or_submit(draft, document, note, action)
            if not problems:
                return _after_saving(draft, action)
            status = 422
    modules = [(module.slug, module.title) for audience in AUDIENCES
               for module in self_help_services.catalogue(db.session, current_locale(), _default_locale(), audience)]
    for key in ("scales", "questions", "bands"):
        document.setdefault(key, [])
    return render_template("staff_content/edit_assessment.html", kind=draft.kind, slug=draft.slug, draft=draft,
                           document=document, note=note, problems=problems, locales=_locales(),
                           confirm_form=ConfirmForm(), question_kinds=assessment_form.KINDS,
                           fixed_recommendations=assessment_form.FIXED_RECOMMENDATIONS, modules=modules,
                           module_slugs=[slug for slug, _title in modules]), status


def _edit_as_text(draft):
    """Assessments and crisis resources are edited as TOML, checked on every save; the
    text is shown back as it was sent when something is wrong."""
    text, note, problems, status = documents.as_toml(publishing.document_of(draft)), draft.note, [], 200
    restored = _restored_typing()
    if restored is not None:
        text, note = restored.get("definition", text), restored.get("note", note)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        text, note = request.form.get("definition", ""), request.form.get("note", "")
        document, problems = documents.from_toml(text)
        if document is not None:
            with db.transaction() as session:
                problems = publishing.save_draft(session, current_staff(), draft, document, note, _default_locale(),
                                                 _locales())
                if not problems and request.form.get("action") == "submit":
                    publishing.submit_for_review(session, current_staff(), draft)
        if not problems:
            flash(_("Draft saved."), "success")
            return _after_saving(draft, request.form.get("action", "save"))
        status = 422
    stale = []
    if draft.kind == documents.RESOURCES:
        from service.crisis.services import unverified_in

        stale = unverified_in(publishing.document_of(draft), clock.today())
    return render_template("staff_content/edit_text.html", kind=draft.kind, slug=draft.slug, draft=draft, text=text,
                           note=note, problems=problems, confirm_form=ConfirmForm(), stale=stale), status


def _transition(kind: str, slug: str, number: int, action) -> object:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    version = _version_or_404(kind, slug, number)
    try:
        with db.transaction() as session:
            action(session, version)
    except publishing.WorkflowError as error:
        flash(str(error), "error")
    return redirect(url_for(".item", kind=kind, slug=slug))


@blueprint.post("/<kind>/<slug:slug>/versions/<int:number>/submit")
@requires_roles(*EDITORS)
def submit(kind: str, slug: str, number: int):
    return _transition(kind, slug, number,
                       lambda session, version: publishing.submit_for_review(session, current_staff(), version))


@blueprint.post("/<kind>/<slug:slug>/versions/<int:number>/publish")
@requires_roles(*PUBLISHERS)
def publish(kind: str, slug: str, number: int):
    day, time = request.form.get("day", "").strip()[:10], request.form.get("time", "").strip()[:5]

    def act(session, version):
        if day or time:
            from service.words import from_local, staff_time

            try:
                at = from_local(dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time)))
            except ValueError:
                flash(_("Give a day and a time such as 2026-12-24 and 08:00, or leave both empty to publish now."),
                      "error")
                return
            publishing.schedule(session, current_staff(), version, at)
            flash(_("It will be published on %(time)s.", time=staff_time(at)), "success")
            return
        publishing.publish(session, current_staff(), version)
        flash(_("Published. The public pages show it now."), "success")

    return _transition(kind, slug, number, act)


@blueprint.post("/<kind>/<slug:slug>/versions/<int:number>/send-back")
@requires_roles(*PUBLISHERS)
def send_back(kind: str, slug: str, number: int):
    reason = ReviewForm().reason.data or ""
    return _transition(kind, slug, number,
                       lambda session, version: publishing.send_back(session, current_staff(), version, reason))


@blueprint.post("/<kind>/<slug:slug>/unpublish")
@requires_roles(*PUBLISHERS)
def unpublish(kind: str, slug: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _kind_or_404(kind)
    module = kind == "module"
    if not confirmed():
        return confirmation_page(
            _("Take this module off the public site?") if module else _("Take this page off the public site?"),
            _("Visitors can no longer open it, and it leaves the list of modules. What readers did in it is kept. "
              "Every version is kept: restoring one puts it back.") if module else
            _("Visitors can no longer read it. Every version is kept: restoring one puts it back."),
            _("Yes, unpublish"), url_for(".item", kind=kind, slug=slug))
    try:
        with db.transaction() as session:
            publishing.unpublish(session, current_staff(), kind, slug)
    except publishing.WorkflowError as error:
        flash(str(error), "error")
    else:
        flash(_("The module is no longer public.") if module else _("The page is no longer public."), "success")
    return redirect(url_for(".item", kind=kind, slug=slug))


@blueprint.post("/<kind>/<slug:slug>/versions/<int:number>/restore")
@requires_roles(*PUBLISHERS)
def restore(kind: str, slug: str, number: int):
    if ConfirmForm().validate_on_submit() and not confirmed():
        return confirmation_page(_("Restore version %(number)d?", number=number),
                                 _("It becomes the live version at once; the version live now is kept as an earlier one."),
                                 _("Yes, restore version %(number)d", number=number), url_for(".item", kind=kind, slug=slug))

    def act(session, version):
        restored = publishing.roll_back(session, current_staff(), version)
        flash(_("Version %(old)d is in review again, as version %(new)d: a second person publishes it.", old=number,
                new=restored.number), "success")

    return _transition(kind, slug, number, act)


@blueprint.get("/<kind>/<slug:slug>/diff")
@requires_roles(*EDITORS)
def compare(kind: str, slug: str):
    older = _version_or_404(kind, slug, number_in_query("from"))
    newer = _version_or_404(kind, slug, number_in_query("to"))
    changes, same = publishing.field_changes(older, newer) if kind in (documents.MODULE, documents.PAGE) else ([], 0)
    return render_template("staff_content/diff.html", kind=kind, slug=slug, older=older, newer=newer,
                           lines=publishing.diff(older, newer), changes=changes, same=same)


@blueprint.get("/<kind>/<slug:slug>/versions/<int:number>/preview")
@blueprint.get("/<kind>/<slug:slug>/versions/<int:number>/preview/<slug:step_slug>")
@requires_roles(*EDITORS)
def preview(kind: str, slug: str, number: int, step_slug: str | None = None):
    """The version exactly as the public will see it, in the language chosen."""
    version = _version_or_404(kind, slug, number)
    document = publishing.document_of(version)
    locale, default = current_locale(), _default_locale()
    base = url_for(".preview", kind=kind, slug=slug, number=number)
    preview_of = {"version": version, "base": base}
    links = {"step_link": lambda step_slug: f"{base}/{step_slug}", "module_link": lambda: base}
    if kind in documents.TEXT_KINDS:
        return render_template("staff_content/preview_definition.html", kind=kind, document=document,
                               version=version, locale=locale, default=default)
    if kind == documents.PAGE:
        texts = document["texts"]
        text = texts.get(locale) if (texts.get(locale) or {}).get("title") else texts.get(default)
        page = type("PagePreview", (), {"title": text["title"], "body_html": render_markdown(text["body"]),
                                        "fallback": not (texts.get(locale) or {}).get("title")})
        return render_template("content/page.html", page=page, preview_of=preview_of)
    module = documents.transient_module(document)
    if step_slug is None:
        module_view = self_help_services.module_view_of(module, locale, default)
        if module_view is None or not module_view.steps:
            abort(404)
        return render_template("self_help/module.html", module=module_view, done=set(), progress=(0, len(module_view.steps)),
                               next_step=module_view.steps[0], preview_of=preview_of, **links)
    step = self_help_services.step_of(module, step_slug, locale, default)
    if step is None:
        abort(404)
    return render_template("self_help/step.html", step=step, key_open=False, answer_form=AnswerForm(), ticked=set(),
                           saved=False, done_form=StepDoneForm(), is_done=False, progress=(0, step.total),
                           preview_of=preview_of, **links)
