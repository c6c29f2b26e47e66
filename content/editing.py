"""The editor's form <-> a document. No JavaScript: adding and removing steps are buttons
that post the whole form, so nothing typed is ever lost."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from content.documents import MODULE
from self_help.models import AUDIENCES, SELF

MAX_STEPS = 30
MAX_FIELD = 50_000


def _text(form: MultiDict, name: str) -> str:
    return (form.get(name) or "")[:MAX_FIELD].replace("\r\n", "\n")


def document_from_form(kind: str, slug: str, form: MultiDict, locales: tuple[str, ...]) -> dict:
    if kind != MODULE:
        return {"slug": slug, "texts": {locale: {"title": _text(form, f"texts-{locale}-title").strip(),
                                                  "body": _text(form, f"texts-{locale}-body")}
                                         for locale in locales}}
    try:
        count = min(int(form.get("step_count", "0")), MAX_STEPS)
    except ValueError:
        count = 0
    try:
        position = int(form.get("position", "99"))
    except ValueError:
        position = 99
    steps = []
    for index in range(count):
        prefix = f"steps-{index}"
        kind_of_exercise = form.get(f"{prefix}-exercise-kind", "none")
        exercise = None
        if kind_of_exercise in ("reflection", "checklist"):
            exercise = {
                "slug": _text(form, f"{prefix}-exercise-slug").strip(),
                "kind": kind_of_exercise,
                "texts": {locale: {
                    "prompt": _text(form, f"{prefix}-exercise-{locale}-prompt").strip(),
                    "items": [line.strip() for line in _text(form, f"{prefix}-exercise-{locale}-items").split("\n")
                              if line.strip()] if kind_of_exercise == "checklist" else [],
                } for locale in locales},
            }
        steps.append({
            "slug": _text(form, f"{prefix}-slug").strip(),
            "texts": {locale: {"title": _text(form, f"{prefix}-{locale}-title").strip(),
                               "body": _text(form, f"{prefix}-{locale}-body")} for locale in locales},
            "exercise": exercise,
        })
    audience = form.get("audience", SELF)
    return {
        "slug": slug,
        "position": position,
        "audience": audience if audience in AUDIENCES else SELF,
        "texts": {locale: {"title": _text(form, f"texts-{locale}-title").strip(),
                           "summary": _text(form, f"texts-{locale}-summary").strip()} for locale in locales},
        "steps": steps,
    }


def with_empty_step(document: dict, locales: tuple[str, ...]) -> dict:
    document["steps"].append({"slug": f"step-{len(document['steps']) + 1}",
                              "texts": {locale: {"title": "", "body": ""} for locale in locales}, "exercise": None})
    return document


def without_step(document: dict, index: int) -> dict:
    if 0 <= index < len(document["steps"]):
        del document["steps"][index]
    return document


def moved_step(document: dict, index: int, offset: int) -> dict:
    target = index + offset
    steps = document["steps"]
    if 0 <= index < len(steps) and 0 <= target < len(steps):
        steps[index], steps[target] = steps[target], steps[index]
    return document
