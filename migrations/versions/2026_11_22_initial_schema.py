"""initial schema

Revision ID: 6a36e1f92d7b
Revises: 
Created: 2026-11-22 20:53:56.016880
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '6a36e1f92d7b'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('anonymous_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anonymous_keys')),
    sa.UniqueConstraint('digest', name=op.f('uq_anonymous_keys_digest'))
    )
    op.create_table('modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modules')),
    sa.UniqueConstraint('slug', name=op.f('uq_modules_slug'))
    )
    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('slug', name=op.f('uq_pages_slug'))
    )
    op.create_table('module_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_texts_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_texts')),
    sa.UniqueConstraint('module_id', 'locale', name=op.f('uq_module_texts_module_id'))
    )
    op.create_table('page_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_page_texts_page_id_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_texts')),
    sa.UniqueConstraint('page_id', 'locale', name=op.f('uq_page_texts_page_id'))
    )
    op.create_table('steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_steps_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steps')),
    sa.UniqueConstraint('module_id', 'slug', name=op.f('uq_steps_module_id'))
    )
    op.create_table('exercises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['step_id'], ['steps.id'], name=op.f('fk_exercises_step_id_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercises')),
    sa.UniqueConstraint('step_id', name=op.f('uq_exercises_step_id'))
    )
    op.create_table('step_progress',
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['anonymous_keys.id'], name=op.f('fk_step_progress_key_id_anonymous_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['steps.id'], name=op.f('fk_step_progress_step_id_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'step_id', name=op.f('pk_step_progress'))
    )
    op.create_table('step_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['step_id'], ['steps.id'], name=op.f('fk_step_texts_step_id_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_texts')),
    sa.UniqueConstraint('step_id', 'locale', name=op.f('uq_step_texts_step_id'))
    )
    op.create_table('exercise_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('exercise_id', sa.Integer(), nullable=False),
    sa.Column('sealed_answer', sa.LargeBinary(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_exercise_answers_exercise_id_exercises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['anonymous_keys.id'], name=op.f('fk_exercise_answers_key_id_anonymous_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_answers')),
    sa.UniqueConstraint('key_id', 'exercise_id', name=op.f('uq_exercise_answers_key_id'))
    )
    with op.batch_alter_table('exercise_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_answers_key_id'), ['key_id'], unique=False)

    op.create_table('exercise_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exercise_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_exercise_texts_exercise_id_exercises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_texts')),
    sa.UniqueConstraint('exercise_id', 'locale', name=op.f('uq_exercise_texts_exercise_id'))
    )


def downgrade() -> None:
    op.drop_table('exercise_texts')
    with op.batch_alter_table('exercise_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_answers_key_id'))

    op.drop_table('exercise_answers')
    op.drop_table('step_texts')
    op.drop_table('step_progress')
    op.drop_table('exercises')
    op.drop_table('steps')
    op.drop_table('page_texts')
    op.drop_table('module_texts')
    op.drop_table('pages')
    op.drop_table('modules')
    op.drop_table('anonymous_keys')
