"""A self-check (assessment) as a structured form: its texts in every language, its
scales, its questions with their answer options and points, and its result bands. No
JavaScript: adding, removing and moving are buttons that post the whole form, so nothing
typed is lost. The TOML text stays for power users (import and export); both are read
into the same document and checked alike by self_help.scoring.validate."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from content.editing import _text  # one field as typed, bounded, with Unix line ends
from self_help.scoring import MAX_BANDS, MAX_OPTIONS, MAX_QUESTIONS, MAX_SCALES, QUESTION_KINDS

KINDS = QUESTION_KINDS  # the question kinds the form offers, in this order
# The fixed recommendations; "module:<slug>" ones are chosen from the published modules.
FIXED_RECOMMENDATIONS = ("talk", "book", "help-now")


def _count(form: MultiDict, name: str, ceiling: int) -> int:
    try:
        return min(max(int(form.get(name, "0")), 0), ceiling)
    except ValueError:
        return 0


def _number(text: str):
    """A whole number as typed, or the text itself, so that the validator names the
    problem and the form shows back what was typed."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def _texts(form: MultiDict, prefix: str, field: str, locales: tuple[str, ...], strip: bool = True) -> dict:
    return {locale: (_text(form, f"{prefix}-{locale}-{field}").strip() if strip
                     else _text(form, f"{prefix}-{locale}-{field}")) for locale in locales}


def document_from_form(slug: str, form: MultiDict, locales: tuple[str, ...]) -> dict:
    scales = []
    for index in range(_count(form, "scale_count", MAX_SCALES + 1)):
        prefix = f"scales-{index}"
        if form.get(f"{prefix}-remove") == "y":
            continue
        scale: dict = {"id": _text(form, f"{prefix}-id").strip(), "name": _texts(form, prefix, "name", locales)}
        minimum = _text(form, f"{prefix}-crisis_minimum_band").strip()
        if minimum:
            scale["crisis_minimum_band"] = _number(minimum)
        scales.append(scale)
    scale_ids = [scale["id"] for scale in scales]

    questions = []
    for index in range(_count(form, "question_count", MAX_QUESTIONS + 1)):
        prefix = f"questions-{index}"
        if form.get(f"{prefix}-remove") == "y":
            continue
        options = []
        for number in range(_count(form, f"{prefix}-option_count", MAX_OPTIONS + 1)):
            option_prefix = f"{prefix}-options-{number}"
            if form.get(f"{option_prefix}-remove") == "y":
                continue
            scores = {}
            for scale_id in scale_ids:
                typed = _text(form, f"{option_prefix}-score-{scale_id}").strip()
                if typed and typed != "0":
                    scores[scale_id] = _number(typed)
            options.append({"id": _text(form, f"{option_prefix}-id").strip(), "scores": scores,
                            "crisis": form.get(f"{option_prefix}-crisis") == "y",
                            "label": _texts(form, option_prefix, "label", locales)})
        questions.append({"id": _text(form, f"{prefix}-id").strip(), "kind": form.get(f"{prefix}-kind", ""),
                          "text": _texts(form, prefix, "text", locales), "options": options})

    bands = []
    for index in range(_count(form, "band_count", MAX_BANDS * MAX_SCALES + 1)):
        prefix = f"bands-{index}"
        if form.get(f"{prefix}-remove") == "y":
            continue
        band: dict = {"scale": form.get(f"{prefix}-scale", ""), "min": _number(_text(form, f"{prefix}-min")),
                      "max": _number(_text(form, f"{prefix}-max")),
                      "recommendations": _in_kept_order(form, prefix)}
        if form.get(f"{prefix}-reassuring") == "y":
            band["reassuring"] = True
        band["title"] = _texts(form, prefix, "title", locales)
        band["text"] = _texts(form, prefix, "text", locales, strip=False)
        bands.append(band)

    return {"slug": slug, "position": _number(_text(form, "position") or "99"),
            "title": _texts(form, "texts", "title", locales), "intro": _texts(form, "texts", "intro", locales, strip=False),
            "scales": scales, "questions": questions, "bands": bands}


def _in_kept_order(form: MultiDict, prefix: str) -> list[str]:
    """The ticked recommendations, in the order the result shows them: those it had keep
    their place (a hidden field carries it), newly ticked ones come after."""
    ticked = [item for item in form.getlist(f"{prefix}-recommendations") if item]
    before = _text(form, f"{prefix}-recommendation_order").split()
    return [item for item in before if item in ticked] + [item for item in ticked if item not in before]


# The buttons that change the shape of the form ------------------------------------------------


def _empty_texts(locales: tuple[str, ...]) -> dict:
    return dict.fromkeys(locales, "")


def with_empty_scale(document: dict, locales: tuple[str, ...]) -> dict:
    document["scales"].append({"id": f"scale-{len(document['scales']) + 1}", "name": _empty_texts(locales)})
    return document


def _empty_option(number: int, locales: tuple[str, ...]) -> dict:
    return {"id": f"option-{number}", "scores": {}, "crisis": False, "label": _empty_texts(locales)}


def with_empty_question(document: dict, locales: tuple[str, ...]) -> dict:
    document["questions"].append({"id": f"q{len(document['questions']) + 1}", "kind": "single",
                                  "text": _empty_texts(locales),
                                  "options": [_empty_option(1, locales), _empty_option(2, locales)]})
    return document


def with_empty_option(document: dict, question: int, locales: tuple[str, ...]) -> dict:
    if 0 <= question < len(document["questions"]):
        options = document["questions"][question]["options"]
        options.append(_empty_option(len(options) + 1, locales))
    return document


def with_empty_band(document: dict, locales: tuple[str, ...]) -> dict:
    scale = document["scales"][0]["id"] if document["scales"] else ""
    document["bands"].append({"scale": scale, "min": "", "max": "", "recommendations": [],
                              "title": _empty_texts(locales), "text": _empty_texts(locales)})
    return document


def moved_question(document: dict, index: int, offset: int) -> dict:
    questions, target = document["questions"], index + offset
    if 0 <= index < len(questions) and 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    return document


def apply_action(document: dict, action: str, locales: tuple[str, ...]) -> dict | None:
    """The document after a shape-changing button, or None when `action` is not one
    (save, submit, or back from a confirmation)."""
    if action == "add-scale":
        return with_empty_scale(document, locales)
    if action == "add-question":
        return with_empty_question(document, locales)
    if action == "add-band":
        return with_empty_band(document, locales)
    if action.startswith("add-option-"):
        return with_empty_option(document, _index(action), locales)
    if action.startswith(("up-question-", "down-question-")):
        return moved_question(document, _index(action), -1 if action.startswith("up") else 1)
    return None


def _index(action: str) -> int:
    try:
        return int(action.rsplit("-", 1)[1])
    except ValueError:
        return -1

