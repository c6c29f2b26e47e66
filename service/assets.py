"""Static files under content-hashed names (`css/pause.3f2a9c1b0d4e.css`), so browsers
and nginx can keep each for a year and a changed file is simply a new address.

The names are worked out once, when the app starts, from the files' bytes. nginx serves
them straight from disk in production (deploy/nginx/pause.conf); Flask serves the same
addresses everywhere else. An address whose hash is not the file's current one is not
found, so nothing old is ever cached under a new name or the reverse."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory, url_for

HASH_LENGTH = 12
# A year, and never revalidated: the address changes whenever the content does.
IMMUTABLE = 365 * 24 * 3600
_HASHED_NAME = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$")


def hashed_names(folder: Path) -> dict[str, str]:
    """Every file below `folder`, by its path, with its content-hashed path."""
    names = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            stem, dot, suffix = relative.rpartition(".")
            names[relative] = f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{relative}.{digest}"
    return names


def asset_url(filename: str) -> str:
    """The address of a static file under its content-hashed name."""
    return url_for("static", filename=current_app.extensions["pause_assets"][filename])


def serve_static(filename: str):
    match = _HASHED_NAME.match(filename)
    if match is None:
        abort(404)
    original = match["stem"] + match["suffix"]
    if current_app.extensions["pause_assets"].get(original) != filename:
        abort(404)
    response = send_from_directory(current_app.static_folder, original, max_age=IMMUTABLE)
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


def init_app(app: Flask) -> None:
    app.extensions["pause_assets"] = hashed_names(Path(app.static_folder))
    app.view_functions["static"] = serve_static
    app.add_template_global(asset_url)
