"""Content as documents: one JSON-able dict per module or page, holding every language.

A document is what a version stores, what the editor edits, and what publishing applies
to the live tables the public pages read. Applying is exact: after it, the live rows say
what the document says and nothing else (steps it no longer has are removed).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.models import Page, PageText
from content.sanitize import clean_source
from self_help.models import SELF, Exercise, ExerciseText, Module, ModuleText, Step, StepText

MODULE = "module"
PAGE = "page"
ASSESSMENT = "assessment"
RESOURCES = "resources"
KINDS = (MODULE, PAGE, ASSESSMENT, RESOURCES)
# Kinds edited as a validated text (TOML) rather than with a form.
TEXT_KINDS = (ASSESSMENT, RESOURCES)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class InvalidDocument(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# From the shipped seed files ---------------------------------------------------------------


def module_document_from_seed(versions: dict[str, dict]) -> dict:
    """{locale: parsed TOML} -> one module document."""
    any_version = next(iter(versions.values()))
    steps = []
    for index, step in enumerate(any_version["steps"]):
        exercise = step.get("exercise")
        steps.append({
            "slug": step["slug"],
            "texts": {locale: {"title": data["steps"][index]["title"].strip(),
                               "body": data["steps"][index]["body"].strip() + "\n"}
                      for locale, data in versions.items()},
            "exercise": None if not exercise else {
                "slug": exercise["slug"],
                "kind": exercise["kind"],
                "texts": {locale: {"prompt": data["steps"][index]["exercise"]["prompt"].strip(),
                                   "items": [item.strip() for item in data["steps"][index]["exercise"].get("items", [])]}
                          for locale, data in versions.items()},
            },
        })
    return {
        "slug": any_version["slug"],
        "position": any_version["position"],
        "audience": any_version.get("audience", SELF),
        "texts": {locale: {"title": data["title"].strip(), "summary": data["summary"].strip()}
                  for locale, data in versions.items()},
        "steps": steps,
    }


def page_document_from_seed(versions: dict[str, dict]) -> dict:
    any_version = next(iter(versions.values()))
    return {
        "slug": any_version["slug"],
        "texts": {locale: {"title": data["title"].strip(), "body": data["body"].strip() + "\n"}
                  for locale, data in versions.items()},
    }


# Checking --------------------------------------------------------------------------------


def validate(kind: str, document: dict, default_locale: str, locales: tuple[str, ...] | None = None) -> list[str]:
    """Problems that stop a document from being saved; empty when it is fine."""
    if locales is None:
        from service.config import shipped_locales

        locales = shipped_locales()
    if kind == ASSESSMENT:
        from self_help.scoring import validate as validate_assessment

        return validate_assessment(document, locales)
    if kind == RESOURCES:
        from service.crisis.services import validate_resources

        return validate_resources(document, locales)
    problems = []
    if not SLUG.match(document.get("slug", "")):
        problems.append(_("The address (slug) may hold only lowercase letters, digits and single hyphens."))
    texts = document.get("texts", {})
    if not (texts.get(default_locale) or {}).get("title", "").strip():
        problems.append(_("The title in the default language (%(language)s) is required.", language=default_locale))
    if kind == PAGE:
        if not (texts.get(default_locale) or {}).get("body", "").strip():
            problems.append(_("The text in the default language (%(language)s) is required.", language=default_locale))
        return problems
    steps = document.get("steps", [])
    if not steps:
        problems.append(_("A module needs at least one step."))
    seen = set()
    for number, step in enumerate(steps, start=1):
        if not SLUG.match(step.get("slug", "")):
            problems.append(_("Step %(number)s: the address (slug) may hold only lowercase letters, digits and hyphens.",
                              number=number))
        elif step["slug"] in seen:
            problems.append(_("Step %(number)s: another step already uses the address %(slug)s.", number=number,
                              slug=step["slug"]))
        seen.add(step.get("slug"))
        step_text = step.get("texts", {}).get(default_locale) or {}
        if not step_text.get("title", "").strip() or not step_text.get("body", "").strip():
            problems.append(_("Step %(number)s: title and text in the default language (%(language)s) are required.",
                              number=number, language=default_locale))
        exercise = step.get("exercise")
        if exercise:
            if exercise.get("kind") not in ("reflection", "checklist"):
                problems.append(_("Step %(number)s: an exercise is a reflection or a checklist.", number=number))
            if not SLUG.match(exercise.get("slug", "")):
                problems.append(_("Step %(number)s: the exercise needs an address (slug).", number=number))
            exercise_text = exercise.get("texts", {}).get(default_locale) or {}
            if not exercise_text.get("prompt", "").strip():
                problems.append(_("Step %(number)s: the exercise needs a question in the default language.", number=number))
            if exercise.get("kind") == "checklist":
                counts = {len(text.get("items", [])) for text in exercise.get("texts", {}).values()
                          if text.get("prompt")}
                if not exercise_text.get("items"):
                    problems.append(_("Step %(number)s: a checklist needs items.", number=number))
                elif len(counts) > 1:
                    problems.append(_("Step %(number)s: every language needs the same number of checklist items.",
                                      number=number))
    return problems


def missing_translations(kind: str, document: dict, locales: tuple[str, ...]) -> list[str]:
    """Languages in which some text is still empty, to flag to staff."""
    if kind in TEXT_KINDS:
        from flask_babel import force_locale

        with force_locale("en"):  # the problems are read here, not shown: read them in English
            problems = " ".join(validate(kind, document, locales[0], locales))
        return [locale for locale in locales if f"missing in {locale}" in problems or
                re.search(rf"missing in [^.]*\b{locale}\b", problems) or f"in {locale} is missing" in problems]
    missing = []
    for locale in locales:
        texts = [document.get("texts", {}).get(locale) or {}]
        for step in document.get("steps", []):
            texts.append(step.get("texts", {}).get(locale) or {})
            if step.get("exercise"):
                texts.append({"prompt": (step["exercise"].get("texts", {}).get(locale) or {}).get("prompt", "")})
        if any(not str(value).strip() for text in texts for value in (text.values() if text else [""])) or \
                any(not text for text in texts):
            missing.append(locale)
    return missing


def sanitized(document: dict) -> dict:
    """The same document with every text passed through the sanitiser's source cleaner,
    so what is stored can hold no markup at all."""

    def clean(value):
        if isinstance(value, str):
            return clean_source(value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: (item if key in ("slug", "kind") else clean(item)) for key, item in value.items()}
        return value

    return clean(document)


# Reading the live tables -------------------------------------------------------------------


def live_module_document(session: Session, slug: str) -> dict | None:
    module = session.scalar(select(Module).options(
        selectinload(Module.texts), selectinload(Module.steps).selectinload(Step.texts),
        selectinload(Module.steps).selectinload(Step.exercise).selectinload(Exercise.texts),
    ).where(Module.slug == slug))
    if module is None:
        return None
    return {
        "slug": module.slug,
        "position": module.position,
        "audience": module.audience,
        "texts": {text.locale: {"title": text.title, "summary": text.summary} for text in module.texts},
        "steps": [{
            "slug": step.slug,
            "texts": {text.locale: {"title": text.title, "body": text.body_markdown} for text in step.texts},
            "exercise": None if step.exercise is None else {
                "slug": step.exercise.slug,
                "kind": step.exercise.kind,
                "texts": {text.locale: {"prompt": text.prompt,
                                        "items": [line for line in text.items.splitlines() if line.strip()]}
                          for text in step.exercise.texts},
            },
        } for step in module.steps],
    }


def transient_module(document: dict) -> Module:
    """The document as unsaved model objects, so a draft can be shown with the public
    templates before it is published."""
    return Module(
        slug=document["slug"], position=document.get("position", 99), audience=document.get("audience", SELF),
        texts=[ModuleText(locale=locale, title=text.get("title", ""), summary=text.get("summary", ""))
               for locale, text in document["texts"].items() if text.get("title")],
        steps=[Step(slug=step["slug"], position=index,
                    texts=[StepText(locale=locale, title=text.get("title", ""), body_markdown=text.get("body", ""))
                           for locale, text in step["texts"].items() if text.get("title")],
                    exercise=None if not step.get("exercise") else Exercise(
                        slug=step["exercise"]["slug"], kind=step["exercise"]["kind"],
                        texts=[ExerciseText(locale=locale, prompt=text.get("prompt", ""),
                                            items="\n".join(text.get("items", [])))
                               for locale, text in step["exercise"]["texts"].items() if text.get("prompt")]))
               for index, step in enumerate(document["steps"])],
    )


# Applying to the live tables ---------------------------------------------------------------


def _sync_texts(rows: list, texts: dict[str, dict], factory, fields, required: str = "title") -> None:
    """Make `rows` (one per locale) say exactly what `texts` says. A language whose
    required field is empty gets no row, so visitors see the default language with a
    note instead of a blank page."""
    texts = {locale: values for locale, values in texts.items() if str(values.get(required, "")).strip()}
    for row in [row for row in rows if row.locale not in texts]:
        rows.remove(row)
    for locale, values in texts.items():
        row = next((row for row in rows if row.locale == locale), None)
        if row is None:
            row = factory(locale=locale)
            rows.append(row)
        for attribute, value in fields(values).items():
            if getattr(row, attribute, None) != value:
                setattr(row, attribute, value)


def apply_module(session: Session, document: dict) -> Module:
    module = session.scalar(select(Module).options(
        selectinload(Module.texts), selectinload(Module.steps).selectinload(Step.texts),
        selectinload(Module.steps).selectinload(Step.exercise).selectinload(Exercise.texts),
    ).where(Module.slug == document["slug"]))
    if module is None:
        module = Module(slug=document["slug"], position=document.get("position", 99))
        session.add(module)
    if module.position != document.get("position", module.position):
        module.position = document["position"]
    if module.audience != document.get("audience", SELF):
        module.audience = document.get("audience", SELF)
    if module.withdrawn:
        module.withdrawn = False  # publishing a version of it puts it back
    _sync_texts(module.texts, document["texts"], lambda locale: ModuleText(locale=locale, title="", summary=""),
                lambda values: {"title": values.get("title", ""), "summary": values.get("summary", "")})
    wanted = [step["slug"] for step in document["steps"]]
    for step in [step for step in module.steps if step.slug not in wanted]:
        module.steps.remove(step)
    session.flush()
    for position, step_document in enumerate(document["steps"]):
        step = next((step for step in module.steps if step.slug == step_document["slug"]), None)
        if step is None:
            step = Step(slug=step_document["slug"], position=position)
            module.steps.append(step)
        if step.position != position:
            step.position = position
        _sync_texts(step.texts, step_document["texts"],
                    lambda locale: StepText(locale=locale, title="", body_markdown=""),
                    lambda values: {"title": values.get("title", ""), "body_markdown": values.get("body", "")})
        _apply_exercise(step, step_document.get("exercise"))
    session.flush()
    return module


def _apply_exercise(step: Step, document: dict | None) -> None:
    if document is None:
        step.exercise = None
        return
    if step.exercise is None:
        step.exercise = Exercise(slug=document["slug"], kind=document["kind"])
    for attribute in ("slug", "kind"):
        if getattr(step.exercise, attribute) != document[attribute]:
            setattr(step.exercise, attribute, document[attribute])
    _sync_texts(step.exercise.texts, document["texts"], lambda locale: ExerciseText(locale=locale, prompt="", items=""),
                lambda values: {"prompt": values.get("prompt", ""), "items": "\n".join(values.get("items", []))},
                required="prompt")


def apply_page(session: Session, document: dict) -> Page:
    page = session.scalar(select(Page).options(selectinload(Page.texts)).where(Page.slug == document["slug"]))
    if page is None:
        page = Page(slug=document["slug"])
        session.add(page)
    _sync_texts(page.texts, document["texts"], lambda locale: PageText(locale=locale, title="", body_markdown=""),
                lambda values: {"title": values.get("title", ""), "body_markdown": values.get("body", "")})
    session.flush()
    return page


def apply(session: Session, kind: str, document: dict, version: int) -> None:
    from service import freshness

    freshness.bump(session, "published-content")
    if kind == MODULE:
        apply_module(session, document)
    elif kind == PAGE:
        apply_page(session, document)
    elif kind == ASSESSMENT:
        from self_help.assessments import apply_definition

        apply_definition(session, document, version)
    else:
        from service.crisis.services import apply_resources

        apply_resources(session, document)


# Text-edited kinds --------------------------------------------------------------------------


def json_ready(value):
    """TOML dates and times become ISO strings, so the document is plain JSON."""
    import datetime as dt

    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def as_toml(document: dict) -> str:
    import tomli_w

    return tomli_w.dumps({key: value for key, value in document.items() if value is not None}, multiline_strings=True)


# What staff may send as one assessment or resource list; refused, not cut, above it
# (the request itself is bounded at 64 KB by MAX_CONTENT_LENGTH).
MAX_TOML_CHARS = 50_000


def from_toml(text: str) -> tuple[dict | None, list[str]]:
    """The document written as TOML, or the syntax error with its line."""
    import tomllib

    if len(text) > MAX_TOML_CHARS:
        return None, [_("The text is too long (%(size)s characters; at most %(most)s).", size=len(text),
                        most=MAX_TOML_CHARS)]
    try:
        return json_ready(tomllib.loads(text)), []
    except tomllib.TOMLDecodeError as error:
        return None, [_("The text is not valid TOML: %(error)s", error=error)]
