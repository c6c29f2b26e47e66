"""URL converters, numbers read from queries, and the one check of a "go back to" path,
shared by every package."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

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


def as_a_browser_reads_it(address: str) -> str:
    """An address with what browsers remove or rewrite before following it (the WHATWG
    URL parser): leading and trailing spaces and control characters go, tabs and line
    breaks anywhere go, and a backslash counts as a slash."""
    address = (address or "").strip("".join(chr(code) for code in range(33)))
    return address.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")


def _is_a_path_here(candidate: str) -> bool:
    if not candidate.startswith("/") or candidate.startswith("//"):
        return False
    if any(ord(char) < 32 or ord(char) == 127 for char in candidate):
        return False
    parts = urlsplit(candidate)
    return not parts.scheme and not parts.netloc


def local_path_or(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, as a browser would follow it; `default`
    otherwise. The one check for every "go back to" address (a `next` value, a link in
    staff-written text), so none can send a visitor to another host."""
    if not isinstance(target, str):
        return default
    cleaned = as_a_browser_reads_it(target)
    candidate = cleaned
    # Encoded slashes and backslashes (%2F, %5C, and the same encoded twice) are checked
    # decoded too: a server or a later redirect may decode them.
    for _ in range(3):
        if not _is_a_path_here(as_a_browser_reads_it(candidate)):
            return default
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    else:
        return default
    return cleaned


def init_app(app: Flask) -> None:
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["int"] = NumberConverter
