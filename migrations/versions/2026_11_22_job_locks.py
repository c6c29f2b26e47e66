"""job locks

Revision ID: 244ea3e36578
Revises: f99f044c2140
Created: 2026-11-22 22:04:04.417831
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '244ea3e36578'
down_revision = 'f99f044c2140'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('run_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )


def downgrade() -> None:
    op.drop_table('job_locks')
