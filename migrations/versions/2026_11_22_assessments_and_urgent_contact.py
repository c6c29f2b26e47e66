"""assessments crisis resources and urgent contact

Revision ID: 3fdf39b3b7ac
Revises: f8c4db40bca7
Created: 2026-11-22 21:25:50.494650
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '3fdf39b3b7ac'
down_revision = 'f8c4db40bca7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('assessment_slug', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=40), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_counts')),
    sa.UniqueConstraint('day', 'assessment_slug', 'version', 'scale', 'band', name=op.f('uq_assessment_counts_day'))
    )
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('slug', name=op.f('uq_assessments_slug'))
    )
    op.create_table('crisis_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('regions', sa.String(length=120), nullable=False),
    sa.Column('languages', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('web_address', sa.String(length=300), nullable=False),
    sa.Column('source_address', sa.String(length=300), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('texts', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_resources')),
    sa.UniqueConstraint('slug', name=op.f('uq_crisis_resources_slug'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    op.create_table('urgent_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('time_window', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('sealed_contact', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_message', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_reply', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('last_escalated_at', sa.DateTime(), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_urgent_cases')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_urgent_cases_code_digest')),
    sa.UniqueConstraint('reference', name=op.f('uq_urgent_cases_reference'))
    )
    with op.batch_alter_table('urgent_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_urgent_cases_state'), ['state'], unique=False)

    op.create_table('assessment_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('assessment_slug', sa.String(length=80), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('sealed_result', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['anonymous_keys.id'], name=op.f('fk_assessment_results_key_id_anonymous_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_results'))
    )
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_results_key_id'), ['key_id'], unique=False)

    op.create_table('urgent_case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=64), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['urgent_cases.id'], name=op.f('fk_urgent_case_events_case_id_urgent_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_urgent_case_events'))
    )
    with op.batch_alter_table('urgent_case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_urgent_case_events_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('urgent_case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_urgent_case_events_case_id'))

    op.drop_table('urgent_case_events')
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_results_key_id'))

    op.drop_table('assessment_results')
    with op.batch_alter_table('urgent_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_urgent_cases_state'))

    op.drop_table('urgent_cases')
    op.drop_table('outbox_messages')
    op.drop_table('crisis_resources')
    op.drop_table('assessments')
    op.drop_table('assessment_counts')
