"""bookings

Revision ID: f99f044c2140
Revises: 3fdf39b3b7ac
Created: 2026-11-22 21:52:27.201983
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Copied, not imported: a migration must keep meaning what it meant when it was written.
SQLITE_NO_OVERLAP = [
    "CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_insert BEFORE INSERT ON bookings\n    WHEN NEW.status = 'booked'\n    BEGIN\n      SELECT RAISE(ABORT, 'booking overlaps a live booking') WHERE EXISTS (\n        SELECT 1 FROM bookings WHERE therapist_id = NEW.therapist_id AND status = 'booked'\n        AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at);\n    END",
    "CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_update BEFORE UPDATE OF starts_at, ends_at, status ON bookings\n    WHEN NEW.status = 'booked'\n    BEGIN\n      SELECT RAISE(ABORT, 'booking overlaps a live booking') WHERE EXISTS (\n        SELECT 1 FROM bookings WHERE therapist_id = NEW.therapist_id AND status = 'booked' AND id != NEW.id\n        AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at);\n    END",
]
POSTGRESQL_NO_OVERLAP = [
    'CREATE EXTENSION IF NOT EXISTS btree_gist',
    "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_live_overlap EXCLUDE USING gist\n    (therapist_id WITH =, tsrange(starts_at, ends_at) WITH &&) WHERE (status = 'booked')",
]


revision = 'f99f044c2140'
down_revision = '3fdf39b3b7ac'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('therapist_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('languages', sa.String(length=40), nullable=False),
    sa.Column('modalities', sa.String(length=60), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('introduction', sa.Text(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('session_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('notice_hours', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('calendar_token_digest', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_therapist_profiles_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_therapist_profiles')),
    sa.UniqueConstraint('calendar_token_digest', name=op.f('uq_therapist_profiles_calendar_token_digest')),
    sa.UniqueConstraint('staff_id', name=op.f('uq_therapist_profiles_staff_id'))
    )
    op.create_table('availability_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('start', sa.Time(), nullable=True),
    sa.Column('end', sa.Time(), nullable=True),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_availability_exceptions_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_exceptions'))
    )
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_exceptions_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('availability_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_availability_windows_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_windows'))
    )
    with op.batch_alter_table('availability_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_windows_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('key_digest', sa.LargeBinary(length=32), nullable=True),
    sa.Column('anonymous_key_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('modality', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('session_day', sa.Date(), nullable=False),
    sa.Column('sealed_note', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_contact', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_reminder_email', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_therapist_message', sa.LargeBinary(), nullable=True),
    sa.Column('calendar_title', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reminded_day_before_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_hour_before_at', sa.DateTime(), nullable=True),
    sa.Column('details_erased_at', sa.DateTime(), nullable=True),
    sa.Column('reduced_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['anonymous_key_id'], ['anonymous_keys.id'], name=op.f('fk_bookings_anonymous_key_id_anonymous_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_bookings_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('key_digest', name=op.f('uq_bookings_key_digest')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_therapist_id'), ['therapist_id'], unique=False)
        batch_op.create_index('uq_bookings_live_start', ['therapist_id', 'starts_at'], unique=True, sqlite_where=sa.text("status = 'booked'"), postgresql_where=sa.text("status = 'booked'"))

    # The overlap guards (see booking.models): a trigger on SQLite, an exclusion
    # constraint on PostgreSQL.
    statements = POSTGRESQL_NO_OVERLAP if op.get_bind().dialect.name == "postgresql" else SQLITE_NO_OVERLAP
    for statement in statements:
        op.execute(statement)



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_live_start', sqlite_where=sa.text("status = 'booked'"), postgresql_where=sa.text("status = 'booked'"))
        batch_op.drop_index(batch_op.f('ix_bookings_therapist_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_status'))

    op.drop_table('bookings')
    with op.batch_alter_table('availability_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_windows_therapist_id'))

    op.drop_table('availability_windows')
    with op.batch_alter_table('availability_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_exceptions_therapist_id'))

    op.drop_table('availability_exceptions')
    op.drop_table('therapist_profiles')
