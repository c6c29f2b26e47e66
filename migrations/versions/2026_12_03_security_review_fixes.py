"""security review fixes

- bookings: the visitor's calendar title is sealed (sealed_calendar_title); the plain
  column goes (titles written before are dropped: they were optional, and the file
  falls back to the neutral title).
- booking_reminder_mails: which queued message is a reminder of which booking, so
  reminders not yet sent are erased with the booking's details.
- staff_members: wrong second-factor codes counted per account (code_failures,
  code_locked_until); an account reset asked for by one admin, waiting for a second
  (reset_requested_by, reset_requested_at).
- content_contributors: everyone who worked on a version, barred from publishing it.

Revision ID: 14f1a2b3c4d5
Revises: 3c1e5d2a9b47
Created: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '14f1a2b3c4d5'
down_revision = '3c1e5d2a9b47'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_calendar_title', sa.LargeBinary(), nullable=True))
        batch_op.drop_column('calendar_title')
    op.create_table(
        'booking_reminder_mails',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_reminder_mails_booking_id_bookings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'],
                                name=op.f('fk_booking_reminder_mails_message_id_outbox_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('booking_id', 'message_id', name=op.f('pk_booking_reminder_mails')),
    )
    with op.batch_alter_table('booking_reminder_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_reminder_mails_message_id'), ['message_id'], unique=False)
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('code_locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reset_requested_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reset_requested_at', sa.DateTime(), nullable=True))
    op.create_table(
        'content_contributors',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['content_versions.id'],
                                name=op.f('fk_content_contributors_version_id_content_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'staff_id', name=op.f('pk_content_contributors')),
    )
    # Versions made before: their author is their one known contributor.
    op.execute("INSERT INTO content_contributors (version_id, staff_id) "
               "SELECT id, author_id FROM content_versions WHERE author_id IS NOT NULL")


def downgrade() -> None:
    op.drop_table('content_contributors')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('reset_requested_at')
        batch_op.drop_column('reset_requested_by')
        batch_op.drop_column('code_locked_until')
        batch_op.drop_column('code_failures')
    with op.batch_alter_table('booking_reminder_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_reminder_mails_message_id'))
    op.drop_table('booking_reminder_mails')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_title', sa.String(length=80), server_default='', nullable=False))
        batch_op.drop_column('sealed_calendar_title')
