"""Self-help modules, their steps and exercises (language-neutral skeleton plus one text
row per language), and what a key holder keeps: progress and sealed answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base


class Module(Base):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    # Who the module is written for: SELF (the catalogue) or FAMILY_AND_FRIENDS (/family).
    audience: Mapped[str] = mapped_column(String(40), default="self", server_default=text("'self'"))
    # Taken off the public site by a publisher: its rows stay, so that readers' progress and
    # saved answers survive, and publishing any version of it again puts it back.
    withdrawn: Mapped[bool] = mapped_column(default=False, server_default=false())
    texts: Mapped[list[ModuleText]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    steps: Mapped[list[Step]] = relationship(
        back_populates="module", order_by="Step.position", cascade="all, delete-orphan", passive_deletes=True
    )


SELF = "self"
FAMILY_AND_FRIENDS = "family-and-friends"
AUDIENCES = (SELF, FAMILY_AND_FRIENDS)


class ModuleText(Base):
    __tablename__ = "module_texts"
    __table_args__ = (UniqueConstraint("module_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)


class Step(Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    module: Mapped[Module] = relationship(back_populates="steps")
    texts: Mapped[list[StepText]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    exercise: Mapped[Exercise | None] = relationship(
        back_populates="step", cascade="all, delete-orphan", passive_deletes=True
    )


class StepText(Base):
    __tablename__ = "step_texts"
    __table_args__ = (UniqueConstraint("step_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)


class Exercise(Base):
    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), unique=True)
    slug: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # "reflection" or "checklist"
    step: Mapped[Step] = relationship(back_populates="exercise")
    texts: Mapped[list[ExerciseText]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class ExerciseText(Base):
    __tablename__ = "exercise_texts"
    __table_args__ = (UniqueConstraint("exercise_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    prompt: Mapped[str] = mapped_column(Text)
    # Checklist items, one per line; empty for a reflection.
    items: Mapped[str] = mapped_column(Text, default="")


class StepProgress(Base):
    """A step a key holder has marked done. Day precision only."""

    __tablename__ = "step_progress"

    key_id: Mapped[int] = mapped_column(ForeignKey("anonymous_keys.id", ondelete="CASCADE"), primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True)
    completed_on: Mapped[dt.date]


class ExerciseAnswer(Base):
    """A key holder's answer, sealed with the data key (service.crypto)."""

    __tablename__ = "exercise_answers"
    __table_args__ = (UniqueConstraint("key_id", "exercise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("anonymous_keys.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    sealed_answer: Mapped[bytes] = mapped_column(LargeBinary, info={"sealed": True})
    updated_on: Mapped[dt.date]


class Assessment(Base):
    """The published definition of a self-assessment (see self_help.scoring). Versions
    and their workflow live in content_versions; this row is what visitors answer."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    version: Mapped[int]
    definition: Mapped[str] = mapped_column(Text)


class AssessmentResult(Base):
    """A result a key holder chose to keep: bands and totals, never the answers."""

    __tablename__ = "assessment_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("anonymous_keys.id", ondelete="CASCADE"), index=True)
    assessment_slug: Mapped[str] = mapped_column(String(80))
    taken_on: Mapped[dt.date]
    sealed_result: Mapped[bytes] = mapped_column(LargeBinary, info={"sealed": True})


class AssessmentCount(Base):
    """Programme statistics, aggregate only: how many results fell in each band, per
    day, assessment and version. No answers, no time finer than a day."""

    __tablename__ = "assessment_counts"
    __table_args__ = (UniqueConstraint("day", "assessment_slug", "version", "scale", "band"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date]
    assessment_slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    scale: Mapped[str] = mapped_column(String(40))
    band: Mapped[int]
    count: Mapped[int]
