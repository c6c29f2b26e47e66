"""a module can be taken off the public site

Unpublishing a module keeps its rows (readers' progress and saved answers point at its
steps) and marks it withdrawn; publishing any version of it again clears the mark.

Revision ID: 2af1a2b3c4d5
Revises: 19f1a2b3c4d5
Created: 2026-12-03 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '2af1a2b3c4d5'
down_revision = '19f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_column('withdrawn')
