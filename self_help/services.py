"""Rules of the self-help modules: what a visitor reads in their language, what counts
as progress, and how a key holder's answers are kept. Plain functions, no request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from content.sanitize import render_markdown
from self_help.models import AUDIENCES, SELF, Exercise, ExerciseAnswer, Module, Step, StepProgress
from service import counters, crypto
from service.cache import cached
from service.clock import clock

REFLECTION = "reflection"
CHECKLIST = "checklist"
MAX_ANSWER_LENGTH = 5000


class InvalidAnswer(ValueError):
    """The answer cannot be kept as given; the message says why, for the visitor."""


@dataclass(frozen=True)
class StepSummary:
    id: int
    slug: str
    title: str
    position: int


@dataclass(frozen=True)
class ModuleView:
    id: int
    slug: str
    title: str
    summary: str
    steps: list[StepSummary]
    # True when the visitor's language has no text and the default language is shown.
    fallback: bool = False
    audience: str = SELF


@dataclass(frozen=True)
class ExerciseView:
    id: int
    slug: str
    kind: str
    prompt: str
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StepView:
    module: ModuleView
    id: int
    slug: str
    title: str
    body_html: str
    number: int  # 1-based position among the module's steps
    previous: StepSummary | None
    next: StepSummary | None
    exercise: ExerciseView | None
    fallback: bool = False

    @property
    def total(self) -> int:
        return len(self.module.steps)


def _text_for(texts, locale: str, default_locale: str):
    """The text in the visitor's language, else the default language's, and whether it
    fell back."""
    by_locale = {text.locale: text for text in texts}
    if locale in by_locale:
        return by_locale[locale], False
    if default_locale in by_locale:
        return by_locale[default_locale], True
    return (next(iter(by_locale.values())), True) if by_locale else (None, True)


def _module_query():
    """Modules on the public site: a withdrawn one reads as if it were not there."""
    return select(Module).where(~Module.withdrawn).options(
        selectinload(Module.texts),
        selectinload(Module.steps).selectinload(Step.texts),
        selectinload(Module.steps).selectinload(Step.exercise).selectinload(Exercise.texts),
    )


def _module_view(module: Module, locale: str, default_locale: str) -> ModuleView | None:
    text, fallback = _text_for(module.texts, locale, default_locale)
    if text is None:
        return None
    steps = []
    for step in module.steps:
        step_text, step_fallback = _text_for(step.texts, locale, default_locale)
        if step_text is None:
            continue
        fallback = fallback or step_fallback
        steps.append(StepSummary(step.id, step.slug, step_text.title, step.position))
    return ModuleView(module.id, module.slug, text.title, text.summary, steps, fallback, module.audience or SELF)


def catalogue(session: Session, locale: str, default_locale: str, audience: str = SELF) -> list[ModuleView]:
    """The modules written for one audience: people worried about their own thoughts (the
    catalogue) or their family and friends (/family)."""
    def build() -> list[ModuleView]:
        modules = session.scalars(_module_query().where(Module.audience == audience)
                                  .order_by(Module.position, Module.id)).all()
        views = [_module_view(module, locale, default_locale) for module in modules]
        return [view for view in views if view is not None and view.steps]

    return cached(session, ("catalogue", audience, locale, default_locale), build)


def whole_module(session: Session, slug: str, locale: str, default_locale: str) -> list[StepView] | None:
    """Every step of a module, in order, for reading or printing it on one page."""
    def build() -> list[StepView] | None:
        module = session.scalar(_module_query().where(Module.slug == slug))
        if module is None:
            return None
        module_view = _module_view(module, locale, default_locale)
        if module_view is None:
            return None
        return [step_of(module, summary.slug, locale, default_locale) for summary in module_view.steps]

    return cached(session, ("whole-module", slug, locale, default_locale), build)


def module_by_slug(session: Session, slug: str, locale: str, default_locale: str) -> ModuleView | None:
    def build() -> ModuleView | None:
        module = session.scalar(_module_query().where(Module.slug == slug))
        return _module_view(module, locale, default_locale) if module else None

    return cached(session, ("module", slug, locale, default_locale), build)


def step_by_slug(
    session: Session, module_slug: str, step_slug: str, locale: str, default_locale: str
) -> StepView | None:
    def build() -> StepView | None:
        module = session.scalar(_module_query().where(Module.slug == module_slug))
        return step_of(module, step_slug, locale, default_locale) if module else None

    return cached(session, ("step", module_slug, step_slug, locale, default_locale), build)


def module_view_of(module: Module, locale: str, default_locale: str) -> ModuleView | None:
    """For a module that need not be stored: staff previews build one from a draft."""
    return _module_view(module, locale, default_locale)


def step_of(module: Module, step_slug: str, locale: str, default_locale: str) -> StepView | None:
    module_view = _module_view(module, locale, default_locale)
    step = next((candidate for candidate in module.steps if candidate.slug == step_slug), None)
    if module_view is None or step is None:
        return None
    step_text, fallback = _text_for(step.texts, locale, default_locale)
    index = next(i for i, summary in enumerate(module_view.steps) if summary.slug == step.slug)
    return StepView(
        module=module_view,
        id=step.id,
        slug=step.slug,
        title=step_text.title,
        body_html=render_markdown(step_text.body_markdown),
        number=index + 1,
        previous=module_view.steps[index - 1] if index > 0 else None,
        next=module_view.steps[index + 1] if index + 1 < len(module_view.steps) else None,
        exercise=_exercise_view(step.exercise, locale, default_locale),
        fallback=fallback or module_view.fallback,
    )


def _exercise_view(exercise: Exercise | None, locale: str, default_locale: str) -> ExerciseView | None:
    if exercise is None:
        return None
    text, _fallback = _text_for(exercise.texts, locale, default_locale)
    if text is None:
        return None
    items = [line for line in text.items.splitlines() if line.strip()] if exercise.kind == CHECKLIST else []
    return ExerciseView(exercise.id, exercise.slug, exercise.kind, text.prompt, items)


# Progress -----------------------------------------------------------------------------


def completed_step_ids(session: Session, key_id: int) -> set[int]:
    return set(session.scalars(select(StepProgress.step_id).where(StepProgress.key_id == key_id)))


def mark_steps_done(session: Session, key_id: int, step_ids: set[int] | list[int]) -> None:
    """Records steps as done for a key; steps already done, or no longer existing, are
    passed over, so this is safe to repeat."""
    wanted = set(step_ids) - completed_step_ids(session, key_id)
    existing = set(session.scalars(select(Step.id).where(Step.id.in_(wanted)))) if wanted else set()
    today = clock.today()
    for step_id in sorted(existing):
        session.add(StepProgress(key_id=key_id, step_id=step_id, completed_on=today))
    if existing:
        counters.count(session, "steps-completed", today, by=len(existing))


def progress_of(module: ModuleView, done_step_ids: set[int]) -> tuple[int, int]:
    """(steps done, steps in all) for one module."""
    return sum(step.id in done_step_ids for step in module.steps), len(module.steps)


# Answers ------------------------------------------------------------------------------


def validate_answer(exercise: ExerciseView, text: str | None, ticked: list[str]) -> dict:
    """The answer as it will be kept, or InvalidAnswer with a message for the visitor."""
    from flask_babel import gettext as _

    if exercise.kind == REFLECTION:
        text = (text or "").replace("\r\n", "\n")
        if len(text) > MAX_ANSWER_LENGTH:
            raise InvalidAnswer(
                _("Your answer is %(length)d characters long; the most we can keep is %(limit)d. "
                  "Please shorten it: nothing you wrote has been lost.", length=len(text), limit=MAX_ANSWER_LENGTH)
            )
        if any(ord(char) < 32 and char not in "\n\t" for char in text):
            raise InvalidAnswer(_("Your answer contains characters we cannot keep. Please remove them."))
        return {"text": text}
    try:
        indices = sorted({int(value) for value in ticked})
    except ValueError:
        raise InvalidAnswer(_("Please choose items from the list.")) from None
    if any(index < 0 or index >= len(exercise.items) for index in indices):
        raise InvalidAnswer(_("Please choose items from the list."))
    return {"ticked": indices}


def save_answer(session: Session, key_id: int, exercise_id: int, answer: dict) -> None:
    sealed = crypto.seal(json.dumps(answer, ensure_ascii=False))
    existing = session.scalar(
        select(ExerciseAnswer).where(ExerciseAnswer.key_id == key_id, ExerciseAnswer.exercise_id == exercise_id)
    )
    if existing is None:
        session.add(ExerciseAnswer(key_id=key_id, exercise_id=exercise_id, sealed_answer=sealed,
                                   updated_on=clock.today()))
    else:
        existing.sealed_answer, existing.updated_on = sealed, clock.today()


def answer_for(session: Session, key_id: int, exercise_id: int) -> dict | None:
    row = session.scalar(
        select(ExerciseAnswer).where(ExerciseAnswer.key_id == key_id, ExerciseAnswer.exercise_id == exercise_id)
    )
    return json.loads(crypto.unseal(row.sealed_answer)) if row else None


def delete_answer(session: Session, key_id: int, exercise_id: int) -> None:
    session.execute(
        delete(ExerciseAnswer).where(ExerciseAnswer.key_id == key_id, ExerciseAnswer.exercise_id == exercise_id)
    )


def answers_as_text(session: Session, key_id: int, locale: str, default_locale: str, heading: str) -> str:
    """Every answer a key holder kept, as plain text to download, in catalogue order."""
    lines = [heading, "=" * len(heading), ""]
    rows = session.scalars(select(ExerciseAnswer).where(ExerciseAnswer.key_id == key_id)).all()
    answers = {row.exercise_id: json.loads(crypto.unseal(row.sealed_answer)) for row in rows}
    modules = [module for audience in AUDIENCES for module in catalogue(session, locale, default_locale, audience)]
    for module in modules:
        for summary in module.steps:
            step = step_by_slug(session, module.slug, summary.slug, locale, default_locale)
            if step is None or step.exercise is None or step.exercise.id not in answers:
                continue
            answer = answers[step.exercise.id]
            lines += [f"{module.title} / {step.title}", "", step.exercise.prompt, ""]
            if step.exercise.kind == REFLECTION:
                lines.append(answer.get("text", ""))
            else:
                lines += [f"[x] {step.exercise.items[i]}" for i in answer.get("ticked", [])
                          if i < len(step.exercise.items)]
            lines += ["", "-" * 40, ""]
    return "\n".join(lines).rstrip() + "\n"
