"""The self-assessment at /check/: one question per page, working without JavaScript.

Answers live in the session only while the visitor answers; once the result is worked
out they are dropped, and only the bands and totals remain (in the session, for the
result page, and sealed in the database if a key holder chooses to keep them).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from self_help import assessments, scoring
from self_help import services as module_services
from service.crisis.views import CRISIS_KINDS, current_region, visitor_resources
from service.db import db
from service.i18n import current_locale
from service.visitor.current import current_key_id
from service.visitor.forms import ConfirmForm

blueprint = Blueprint("check", __name__, url_prefix="/check", template_folder="templates")

IN_PROGRESS = "check"
OUTCOME = "check_outcome"


def _languages() -> tuple[str, str]:
    return current_locale(), current_app.config["PAUSE"].default_locale


def _assessment_or_404(slug: str):
    found = assessments.by_slug(db.session, slug)
    if found is None:
        abort(404)
    return found


def _progress(row, definition) -> dict:
    """This visitor's answers so far for this assessment and version; a new version or
    another assessment starts afresh."""
    state = session.get(IN_PROGRESS)
    if not state or state.get("slug") != row.slug or state.get("version") != row.version:
        state = {"slug": row.slug, "version": row.version, "answers": {}, "crisis": False}
    return state


@blueprint.app_template_global()
def text_in(texts) -> str:
    return assessments.text_in(texts, *_languages())


@blueprint.get("/")
def index():
    return render_template("check/index.html", items=assessments.published(db.session),
                           key_open=current_key_id() is not None)


@blueprint.get("/<slug:slug>/")
def start(slug: str):
    row, definition = _assessment_or_404(slug)
    return render_template("check/start.html", row=row, definition=definition)


@blueprint.route("/<slug:slug>/<int:number>", methods=["GET", "POST"])
def question(slug: str, number: int):
    row, definition = _assessment_or_404(slug)
    questions = definition["questions"]
    if not 1 <= number <= len(questions):
        abort(404)
    current = questions[number - 1]
    state = _progress(row, definition)
    error = None
    if request.method == "POST":
        # CSRFProtect has checked this post's token already (service.security); the form
        # holds nothing else, so it is not built and checked a second time.
        chosen = request.form.get("answer", "")
        option = scoring.option_of(definition, current["id"], chosen)
        if option is not None:
            state["answers"][current["id"]] = chosen
            state["crisis"] = state["crisis"] or bool(option.get("crisis"))
            session[IN_PROGRESS] = state
        if request.form.get("go") == "back":
            return redirect(url_for(".question", slug=slug, number=number - 1) if number > 1
                            else url_for(".start", slug=slug))
        if option is None:
            error = _("Please choose one of the answers.")
        elif option.get("crisis"):
            # Help comes first, before any score: the visitor may continue afterwards.
            return redirect(url_for(".help_first", slug=slug, after=number))
        elif number < len(questions):
            return redirect(url_for(".question", slug=slug, number=number + 1))
        else:
            return _finish(row, definition, state)
    return render_template("check/question.html", row=row, definition=definition, question=current, number=number,
                           total=len(questions), chosen=state["answers"].get(current["id"]), error=error,
                           form=ConfirmForm()), (422 if error else 200)


def _finish(row, definition, state):
    missing = [index for index, question_id in enumerate(scoring.question_ids(definition), start=1)
               if question_id not in state["answers"]]
    if missing:
        flash(_("Please answer this question too."), "info")
        return redirect(url_for(".question", slug=row.slug, number=missing[0]))
    outcome = assessments.outcome_of(definition, row.version, state["answers"], bool(state.get("crisis")))
    with db.transaction() as session_:
        assessments.count_outcome(session_, outcome)
    # The answers go now; only the bands and totals stay, for the result page.
    session.pop(IN_PROGRESS, None)
    session[OUTCOME] = outcome.as_dict()
    return redirect(url_for(".result", slug=row.slug))


@blueprint.get("/<slug:slug>/help")
def help_first(slug: str):
    row, definition = _assessment_or_404(slug)
    after = request.args.get("after", 0, type=int)
    next_number = after + 1 if after < len(definition["questions"]) else None
    return render_template("check/help_first.html", row=row, definition=definition, next_number=next_number,
                           region=current_region(), resources=visitor_resources(CRISIS_KINDS), form=ConfirmForm())


@blueprint.post("/<slug:slug>/finish")
def finish(slug: str):
    """After crisis help on the last question: work out the result from the answers."""
    row, definition = _assessment_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _finish(row, definition, _progress(row, definition))


@blueprint.get("/<slug:slug>/result")
def result(slug: str):
    row, definition = _assessment_or_404(slug)
    outcome = session.get(OUTCOME)
    if not outcome or outcome.get("slug") != slug:
        return redirect(url_for(".start", slug=slug))
    modules = {module.slug: module for module in module_services.catalogue(db.session, *_languages())}
    bands = []
    for scale in definition["scales"]:
        total = outcome["totals"][scale["id"]]
        band = scoring.band_for(definition, scale["id"], total, bool(outcome.get("crisis")))
        recommendations = []
        for recommendation in band.recommendations:
            if recommendation.startswith("module:") and recommendation[7:] in modules:
                recommendations.append(("module", modules[recommendation[7:]]))
            elif not recommendation.startswith("module:"):
                recommendations.append((recommendation, None))
        bands.append({"scale": scale, "total": total, "band": band, "recommendations": recommendations,
                      "range": scoring.score_range(definition, scale["id"])})
    return render_template("check/result.html", row=row, definition=definition, outcome=outcome, bands=bands,
                           key_open=current_key_id() is not None, form=ConfirmForm(),
                           resources=visitor_resources(CRISIS_KINDS) if outcome["crisis"] else [])


@blueprint.post("/<slug:slug>/result/keep")
def keep(slug: str):
    outcome = session.get(OUTCOME)
    key_id = current_key_id()
    if not ConfirmForm().validate_on_submit() or not outcome or outcome.get("slug") != slug:
        return redirect(url_for(".start", slug=slug))
    if key_id is None:
        flash(_("Open your key first to keep a result."), "info")
        return redirect(url_for("visitor.overview"))
    with db.transaction() as session_:
        assessments.keep_result(session_, key_id, assessments.Outcome(**outcome))
    session.pop(OUTCOME, None)
    flash(_("Your result is kept, encrypted, with your key."), "success")
    return redirect(url_for(".my_results"))


@blueprint.get("/my-results")
def my_results():
    key_id = current_key_id()
    if key_id is None:
        flash(_("Open your key to see the results you kept."), "info")
        return redirect(url_for("visitor.overview"))
    results = assessments.kept_results(db.session, key_id)
    charts = []
    for row, definition in assessments.published(db.session):
        for scale in definition["scales"]:
            points = [(kept.taken_on, kept.totals[scale["id"]]) for kept in results
                      if kept.slug == row.slug and scale["id"] in kept.totals]
            if points:
                title = f"{text_in(definition['title'])}: {text_in(scale['name'])}"
                description = _("Your totals over time, from %(first)s to %(last)s.",
                                first=points[0][0].isoformat(), last=points[-1][0].isoformat())
                charts.append({"title": title, "svg": assessments.chart_svg(
                    points, scoring.score_range(definition, scale["id"])[1], title, description),
                    "points": points})
    return render_template("check/my_results.html", charts=charts, results=results, form=ConfirmForm())


@blueprint.post("/my-results/delete")
def delete_results():
    key_id = current_key_id()
    if key_id is not None and ConfirmForm().validate_on_submit():
        with db.transaction() as session_:
            assessments.delete_results(session_, key_id)
        flash(_("Your kept results are deleted."), "success")
    return redirect(url_for(".index"))
