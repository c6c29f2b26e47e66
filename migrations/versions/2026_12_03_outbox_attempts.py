"""outbox attempts: urgent messages, failures of a message, messages set aside

Revision ID: 20f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20f1a2b3c4d5'
down_revision = '14f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failure', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('set_aside_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('set_aside_at')
        batch_op.drop_column('failure')
        batch_op.drop_column('failures')
        batch_op.drop_column('urgent')
