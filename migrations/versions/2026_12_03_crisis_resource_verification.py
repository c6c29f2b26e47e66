"""crisis resource verification

A crisis resource is "not yet verified" (verified_on is empty) until a person checks it
against its source in the editor; a number can be one to text rather than call.

Revision ID: 3c1e5d2a9b47
Revises: 7151b9ceb0a5
Created: 2026-12-03 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '3c1e5d2a9b47'
down_revision = '7151b9ceb0a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crisis_resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_way', sa.String(length=8), server_default='call', nullable=False))
        batch_op.alter_column('verified_on', existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE crisis_resources SET verified_on = '1970-01-01' WHERE verified_on IS NULL")
    with op.batch_alter_table('crisis_resources', schema=None) as batch_op:
        batch_op.alter_column('verified_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('contact_way')
