"""Family and friends: a track of its own for people worried about someone close to them,
reached from the home page. Its modules are ordinary modules (audience
"family-and-friends"); booking is open to them, with a box that tells the therapist the
visitor is a relative or friend."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from self_help import services
from self_help.models import FAMILY_AND_FRIENDS
from service.db import db
from service.i18n import current_locale

blueprint = Blueprint("family", __name__, template_folder="templates")

# Message threads (/talk) come with their own feature; the family page links to them
# once the route exists, so this page never shows a link that leads nowhere.
TALK_ROUTE = "/talk"


def talk_is_open() -> bool:
    return any(rule.rule == TALK_ROUTE for rule in current_app.url_map.iter_rules())


@blueprint.get("/family")
def family():
    modules = services.catalogue(db.session, current_locale(), current_app.config["PAUSE"].default_locale,
                                 FAMILY_AND_FRIENDS)
    return render_template("self_help/family.html", modules=modules, talk_open=talk_is_open(),
                           talk_route=TALK_ROUTE)
