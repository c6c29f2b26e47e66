"""therapist schedule versions

A counter per therapist that goes up with every change to their free times, so the
booking page can be cached until it does.

Revision ID: 7151b9ceb0a5
Revises: f1901ec04ca2
Created: 2026-11-23 00:54:36.769228
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '7151b9ceb0a5'
down_revision = 'f1901ec04ca2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_column('schedule_version')
