"""Self-help pages: catalogue, module, step; progress and exercise answers."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from self_help import services
from self_help.forms import AnswerForm, StepDoneForm
from service.db import db
from service.i18n import current_locale
from service.visitor.current import current_key_id, key_opened

blueprint = Blueprint("self_help", __name__, url_prefix="/self-help", template_folder="templates")

# Without a key, progress lives in the (browser-session) cookie only: a list of step ids.
SESSION_PROGRESS = "progress"


def _languages() -> tuple[str, str]:
    return current_locale(), current_app.config["PAUSE"].default_locale


def _done_step_ids() -> set[int]:
    key_id = current_key_id()
    if key_id is not None:
        return services.completed_step_ids(db.session, key_id)
    return set(session.get(SESSION_PROGRESS, []))


@key_opened.connect
def _move_session_progress_onto_key(_app, key_id: int) -> None:
    step_ids = session.pop(SESSION_PROGRESS, [])
    if step_ids:
        with db.transaction() as session_:
            services.mark_steps_done(session_, key_id, step_ids)


@blueprint.context_processor
def step_links() -> dict:
    module_slug = (request.view_args or {}).get("module_slug")
    return {
        "step_link": lambda step_slug: url_for(".step", module_slug=module_slug, step_slug=step_slug),
        "module_link": lambda: url_for(".module", module_slug=module_slug),
    }


@blueprint.get("/")
def catalogue():
    modules = services.catalogue(db.session, *_languages())
    done = _done_step_ids()
    return render_template(
        "self_help/catalogue.html",
        modules=[(module, services.progress_of(module, done)) for module in modules],
    )


@blueprint.get("/<slug:module_slug>")
def module(module_slug: str):
    module_view = services.module_by_slug(db.session, module_slug, *_languages())
    if module_view is None or not module_view.steps:
        abort(404)
    done = _done_step_ids()
    next_step = next((step for step in module_view.steps if step.id not in done), module_view.steps[0])
    return render_template(
        "self_help/module.html",
        module=module_view,
        done=done,
        progress=services.progress_of(module_view, done),
        next_step=next_step,
    )


def _step_or_404(module_slug: str, step_slug: str) -> services.StepView:
    step = services.step_by_slug(db.session, module_slug, step_slug, *_languages())
    if step is None:
        abort(404)
    return step


def _render_step(step: services.StepView, answer_form: AnswerForm | None = None, status: int = 200):
    key_id = current_key_id()
    saved = None
    if step.exercise is not None and key_id is not None:
        saved = services.answer_for(db.session, key_id, step.exercise.id)
    if answer_form is None:
        answer_form = AnswerForm()
        if saved:
            answer_form.text.data = saved.get("text", "")
    ticked = {str(i) for i in (saved or {}).get("ticked", [])}
    if request.method == "POST":
        ticked = set(request.form.getlist("ticked"))
    done = _done_step_ids()
    return render_template(
        "self_help/step.html",
        step=step,
        key_open=key_id is not None,
        answer_form=answer_form,
        ticked=ticked,
        saved=saved is not None,
        done_form=StepDoneForm(),
        is_done=step.id in done,
        progress=services.progress_of(step.module, done),
    ), status


@blueprint.get("/<slug:module_slug>/one-page")
def one_page(module_slug: str):
    """The whole module on one page, to read straight through or print (print stylesheet:
    no navigation, no forms; the same neutral title as every page)."""
    steps = services.whole_module(db.session, module_slug, *_languages())
    if not steps:
        abort(404)
    return render_template("self_help/one_page.html", module=steps[0].module, steps=steps,
                           fallback=any(step.fallback for step in steps))


@blueprint.get("/<slug:module_slug>/<slug:step_slug>")
def step(module_slug: str, step_slug: str):
    return _render_step(_step_or_404(module_slug, step_slug))


@blueprint.post("/<slug:module_slug>/<slug:step_slug>/done")
def mark_done(module_slug: str, step_slug: str):
    step = _step_or_404(module_slug, step_slug)
    if StepDoneForm().validate_on_submit():
        key_id = current_key_id()
        if key_id is not None:
            with db.transaction() as session_:
                services.mark_steps_done(session_, key_id, [step.id])
        else:
            session[SESSION_PROGRESS] = sorted(set(session.get(SESSION_PROGRESS, [])) | {step.id})
    if step.next is not None:
        return redirect(url_for(".step", module_slug=module_slug, step_slug=step.next.slug))
    flash(_("You have reached the end of this module. Well done for taking the time."), "success")
    return redirect(url_for(".module", module_slug=module_slug))


@blueprint.post("/<slug:module_slug>/<slug:step_slug>/answer")
def save_answer(module_slug: str, step_slug: str):
    step = _step_or_404(module_slug, step_slug)
    if step.exercise is None:
        abort(404)
    key_id = current_key_id()
    form = AnswerForm()
    if key_id is None:
        form.text.errors = [_("Answers are kept only with a key. Create or open a key first; "
                              "your text is still in the box below.")]
        return _render_step(step, form, 422)
    if not form.validate_on_submit():
        return _render_step(step, form, 422)
    try:
        answer = services.validate_answer(step.exercise, form.text.data, request.form.getlist("ticked"))
    except services.InvalidAnswer as problem:
        form.text.errors = [str(problem)]
        return _render_step(step, form, 422)
    with db.transaction() as session_:
        services.save_answer(session_, key_id, step.exercise.id, answer)
    flash(_("Your answer is saved, encrypted, with your key."), "success")
    return redirect(url_for(".step", module_slug=module_slug, step_slug=step_slug) + "#exercise")


@blueprint.get("/my-answers.txt")
def download_answers():
    key_id = current_key_id()
    if key_id is None:
        flash(_("Open your key to download your answers."), "info")
        return redirect(url_for("visitor.overview"))
    text = services.answers_as_text(db.session, key_id, *_languages(), heading=_("My answers (Pause)"))
    response = current_app.response_class(text, mimetype="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="my-answers.txt"'
    return response
