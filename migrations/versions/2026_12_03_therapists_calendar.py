"""therapists' calendar: messages to the visitor as a list, days off as date ranges

Messages from the therapist join a list (booking_messages, sealed) instead of one
message overwriting the last; a day off can run to a last day.

Revision ID: 21f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '21f1a2b3c4d5'
down_revision = '15f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'booking_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('sealed_body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('booking_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_messages_booking_id'), ['booking_id'], unique=False)
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_day', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.drop_column('last_day')
    with op.batch_alter_table('booking_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_messages_booking_id'))
    op.drop_table('booking_messages')
