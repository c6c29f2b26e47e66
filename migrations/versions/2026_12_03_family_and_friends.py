"""family and friends

A module has an audience: the people worried about their own thoughts ("self", the
catalogue) or their family and friends ("family-and-friends", /family). A booking can
say it comes from a relative or friend, so the therapist knows who they are talking to.

Revision ID: 19f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '19f1a2b3c4d5'
down_revision = '18f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=40), server_default='self', nullable=False))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_relative', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('from_relative')
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_column('audience')
