"""Public pages written by staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from content.services import page_by_slug
from service.db import db
from service.i18n import current_locale

blueprint = Blueprint("content", __name__, template_folder="templates")


def _render_page(slug: str, **extra):
    page = page_by_slug(db.session, slug, current_locale(), current_app.config["PAUSE"].default_locale)
    if page is None:
        abort(404)
    return render_template("content/page.html", page=page, **extra)


@blueprint.get("/about")
def about():
    return _render_page("about")


@blueprint.get("/privacy")
def privacy():
    """Staff write the introduction; the table of what is kept comes from the retention
    registry, the same list the erasing jobs follow."""
    from service.retention import REGISTRY

    return _render_page("privacy", retention=[entry for entry in REGISTRY if entry.about == "visitor"])


@blueprint.get("/confidentiality")
def confidentiality():
    return _render_page("confidentiality")


@blueprint.get("/pages/<slug:slug>")
def page(slug: str):
    """Pages staff add later; the three above keep their own short addresses."""
    return _render_page(slug)
