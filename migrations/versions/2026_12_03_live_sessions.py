"""live text sessions and staffed chat hours

Revision ID: 17f1a2b3c4d5
Revises: 16f1a2b3c4d5
Created: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '17f1a2b3c4d5'
down_revision = '16f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'live_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=True),
        sa.Column('picked_up_at', sa.DateTime(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by', sa.String(length=12), nullable=True),
        sa.Column('last_message_at', sa.DateTime(), nullable=True),
        sa.Column('transcript_erased_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_live_sessions_booking_id_bookings'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_live_sessions_conversation_id_conversations'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'],
                                name=op.f('fk_live_sessions_staff_id_staff_members'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_live_sessions')),
        sa.UniqueConstraint('booking_id', name=op.f('uq_live_sessions_booking_id')),
        sa.UniqueConstraint('conversation_id', name=op.f('uq_live_sessions_conversation_id')),
    )
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_live_sessions_queue', ['kind', 'picked_up_at', 'ended_at', 'queued_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_live_sessions_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_sessions_staff_id'), ['staff_id'], unique=False)
    op.create_table(
        'staffed_hours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('start', sa.Time(), nullable=False),
        sa.Column('end', sa.Time(), nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staffed_hours')),
    )
    with op.batch_alter_table('staffed_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staffed_hours_language'), ['language'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staffed_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staffed_hours_language'))
    op.drop_table('staffed_hours')
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_sessions_staff_id'))
        batch_op.drop_index(batch_op.f('ix_live_sessions_ended_at'))
        batch_op.drop_index('ix_live_sessions_queue')
    op.drop_table('live_sessions')
