"""staff workspace

Each staff member's time zone; duty cases with sealed notes, a risk flag, a call-back
time and the notifications that told the team; the duty roster; aggregate daily
counters for the programme's reports; what staff typed when their session ran out.

Revision ID: 18f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '18f1a2b3c4d5'
down_revision = '17f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='Europe/Brussels',
                                      nullable=False))
    with op.batch_alter_table('urgent_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_notes', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('risk_flag', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('callback_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('notice_ids', sa.String(length=200), server_default='', nullable=False))
    with op.batch_alter_table('content_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('scheduled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scheduled_by_name', sa.String(length=64), server_default='', nullable=False))
    op.create_table(
        'duty_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_duty_shifts_staff_id'), 'duty_shifts', ['staff_id'], unique=False)
    op.create_index(op.f('ix_duty_shifts_starts_at'), 'duty_shifts', ['starts_at'], unique=False)
    op.create_table(
        'held_staff_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('sealed_form', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_held_staff_forms_staff_id'), 'held_staff_forms', ['staff_id'], unique=False)
    op.create_table(
        'daily_counts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'name', 'key'),
    )


def downgrade() -> None:
    op.drop_table('daily_counts')
    op.drop_index(op.f('ix_held_staff_forms_staff_id'), table_name='held_staff_forms')
    op.drop_table('held_staff_forms')
    op.drop_index(op.f('ix_duty_shifts_starts_at'), table_name='duty_shifts')
    op.drop_index(op.f('ix_duty_shifts_staff_id'), table_name='duty_shifts')
    op.drop_table('duty_shifts')
    with op.batch_alter_table('content_versions', schema=None) as batch_op:
        batch_op.drop_column('scheduled_by_name')
        batch_op.drop_column('scheduled_by_id')
        batch_op.drop_column('publish_at')
    with op.batch_alter_table('urgent_cases', schema=None) as batch_op:
        batch_op.drop_column('notice_ids')
        batch_op.drop_column('callback_at')
        batch_op.drop_column('risk_flag')
        batch_op.drop_column('sealed_notes')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
