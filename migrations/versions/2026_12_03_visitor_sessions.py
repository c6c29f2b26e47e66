"""visitor sessions on the server, and freshness by name

Visitors' sessions move from a signed cookie to the server (sealed, filed under a hash
of the cookie's random id); what changed (published content, a therapist's schedule)
is counted by name.

Revision ID: 15f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '15f1a2b3c4d5'
down_revision = '20f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visitor_sessions',
        sa.Column('id_digest', sa.String(length=64), nullable=False),
        sa.Column('sealed_data', sa.LargeBinary(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_visitor_sessions')),
    )
    with op.batch_alter_table('visitor_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitor_sessions_expires_at'), ['expires_at'], unique=False)
    op.create_table(
        'freshness_marks',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'scope', name=op.f('pk_freshness_marks')),
    )


def downgrade() -> None:
    op.drop_table('freshness_marks')
    with op.batch_alter_table('visitor_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitor_sessions_expires_at'))
    op.drop_table('visitor_sessions')
