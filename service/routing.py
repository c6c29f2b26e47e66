"""URL converters, and numbers read from queries, shared by every package."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import BaseConverter, IntegerConverter

# The largest number a column of ours holds (PostgreSQL `integer`). A number beyond it in
# an address is made up: it must be "not found", never a database error.
LARGEST_NUMBER = 2**31 - 1


class SlugConverter(BaseConverter):
    """Lowercase letters, digits and hyphens only: anything else (dots, slashes, encoded
    traversal) is simply not a route, so it answers 404 before any code runs."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class NumberConverter(IntegerConverter):
    """`<int:...>` as Werkzeug's, but no larger than LARGEST_NUMBER."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = LARGEST_NUMBER,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def number_or_none(text: str | None) -> int | None:
    """`text` as an integer within range, or None."""
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if -LARGEST_NUMBER <= value <= LARGEST_NUMBER else None


def number_in_query(name: str, default: int = 0) -> int:
    """An integer query value, or `default` when it is missing, not a number or out of range."""
    value = number_or_none(request.args.get(name))
    return default if value is None else value


def init_app(app: Flask) -> None:
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["int"] = NumberConverter
