"""sealed outbox recipient

Revision ID: f1901ec04ca2
Revises: 244ea3e36578
Created: 2026-11-22 22:07:13.121226
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'f1901ec04ca2'
down_revision = '244ea3e36578'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Messages still waiting lose their plain recipient here (it cannot be sealed without
    # the data key); run `flask --app service jobs run` before upgrading to send them.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_recipient', sa.LargeBinary(), nullable=True))
        batch_op.drop_column('to_address')



def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_address', sa.VARCHAR(length=254), nullable=False, server_default=''))
        batch_op.drop_column('sealed_recipient')

