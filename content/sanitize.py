"""The one gate between what staff write and what a browser renders.

Markdown is turned into HTML, then bleach keeps only an allow-list: headings,
paragraphs, lists, emphasis, links (made rel="noopener noreferrer") and tables.
Everything else — scripts, event handlers, styles, images, iframes, forms — goes, and
links keep only paths on this site, anchors and tel: numbers.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import bleach
import markdown
from bleach.html5lib_shim import Filter

from service.routing import as_a_browser_reads_it, local_path_or

ALLOWED_TAGS = frozenset({
    "h2", "h3", "h4", "h5", "h6", "p", "br",
    "ul", "ol", "li", "strong", "em",
    "a",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "th": ["scope", "colspan", "rowspan"],
                      "td": ["colspan", "rowspan"]}
# bleach accepts a relative path only when http(s) is allowed; LinkRelFilter then drops
# every address that is not on this site.
ALLOWED_PROTOCOLS = frozenset({"http", "https", "tel"})


def is_local_link(href: str) -> bool:
    """A path on this site, an anchor, or a phone number: pages never point at another
    host, so a visitor's browser never talks to anyone but us. Judged as the browser
    will read it: tabs, line breaks and other control characters removed first."""
    return local_link(href) is not None


def local_link(href: str) -> str | None:
    """The address as it may be kept in a page (what the browser will follow), or None."""
    # bleach hands the attribute over with its character references still in: the
    # browser resolves them, and so does this check.
    cleaned = as_a_browser_reads_it(html.unescape(href))
    if any(ord(char) < 32 or ord(char) == 127 for char in cleaned):
        return None
    if cleaned.startswith("#") or cleaned.lower().startswith("tel:"):
        return cleaned
    if cleaned.startswith("/") and local_path_or(cleaned, "") == cleaned:
        return cleaned
    return None


class LinkRelFilter(Filter):
    """Every kept link opens without telling the target where it came from, and a link
    to another host loses its address (its words stay)."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attributes = dict(token.get("data") or {})
                href = attributes.get((None, "href"))
                if href is not None:
                    kept = local_link(href)
                    if kept is None:
                        del attributes[(None, "href")]
                    else:
                        attributes[(None, "href")] = kept
                attributes[(None, "rel")] = "noopener noreferrer"
                token["data"] = attributes
            yield token


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[LinkRelFilter],
)


# Elements whose content is code or hidden text, not prose: removed whole, content and
# all, rather than left on the page as visible text once their tags are stripped.
_WHOLE_ELEMENTS = re.compile(r"<(script|style|template|noscript|iframe|object|textarea|title|xmp|noembed|noframes)"
                             r"\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def without_code_blocks(text: str) -> str:
    previous = None
    while previous != text:  # nested or overlapping blocks
        previous, text = text, _WHOLE_ELEMENTS.sub("", text)
    return text


def sanitize_html(html: str) -> str:
    return _cleaner.clean(without_code_blocks(html))


@lru_cache(maxsize=2048)
def render_markdown(text: str) -> str:
    """Markdown to safe HTML. Cached by text: published content rarely changes, and the
    same text always gives the same result."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return sanitize_html(html)


_UNSAFE_LINK_TARGET = re.compile(r"\]\(\s*<?\s*(?:javascript|vbscript|data|file)\s*:", re.IGNORECASE)


@lru_cache(maxsize=4096)
def clean_source(text: str) -> str:
    """Staff-written Markdown as it may be stored: no HTML tags at all (also none hidden
    behind entities), no links to script or data addresses. Plain characters such as
    "&" and "<" in prose stay as they were, so editing twice changes nothing.
    Cached by text, like render_markdown: a draft saved again, and the shipped content
    seeded into each new database, pass the same texts through bleach again and again."""
    current = (text or "").replace("\r\n", "\n")
    for _ in range(5):
        stripped = html.unescape(bleach.clean(without_code_blocks(current), tags=set(), strip=True,
                                              strip_comments=True))
        stripped = _UNSAFE_LINK_TARGET.sub("](#", stripped)
        if stripped == current:
            break
        current = stripped
    return current
