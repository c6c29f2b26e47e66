"""URL converters shared by every package."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    """Lowercase letters, digits and hyphens only: anything else (dots, slashes, encoded
    traversal) is simply not a route, so it answers 404 before any code runs."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def init_app(app: Flask) -> None:
    app.url_map.converters["slug"] = SlugConverter
