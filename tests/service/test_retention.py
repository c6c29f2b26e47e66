"""One retention registry covers every column; the purges keep its promises."""

from __future__ import annotations

import datetime as dt

from content.seeding import SEED_FOLDER, read_seed_files
from service.clock import clock
from service.db import db
from service.jobs import run_all
from service.models import metadata
from service.retention import REGISTRY, covered_columns, report
from tests.conftest import sign_in


def test_every_column_of_every_table_is_covered_by_the_registry():
    covered = covered_columns()
    uncovered = [f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns
                 if "*" not in covered.get(table.name, set()) and column.name not in covered.get(table.name, set())]
    assert uncovered == []


def test_every_registry_entry_names_a_real_table_and_columns():
    tables = {table.name: {column.name for column in table.columns} for table in metadata.sorted_tables}
    for entry in REGISTRY:
        assert entry.table in tables, entry.name
        assert set(entry.columns) - {"*"} <= tables[entry.table], entry.name
        assert entry.about in ("visitor", "staff", "content")


def test_the_report_counts_what_is_held(seeded):
    with seeded.app_context():
        holdings = {holding.entry.name: holding for holding in report(db.session)}
    assert holdings["content-modules"].count == len(read_seed_files(SEED_FOLDER / "modules"))
    assert holdings["anonymous-keys"].count == 0


def test_thread_messages_and_live_transcripts_are_counted_once_each_under_their_own_period(seeded):
    # Both live in conversation_messages; the report must not count one under the other.
    from service.conversations.services import open_conversation, post_message

    with seeded.app_context(), db.transaction() as session:
        thread = open_conversation(session, key_id=None, body="A first message in a thread", language="en")
        post_message(session, thread, "visitor", "And a second one")
        live = open_conversation(session, key_id=None, body="Said in a live session", language="en", kind="live",
                                 origin="live")
        assert live.kind == "live"
    with seeded.app_context():
        holdings = {holding.entry.name: holding for holding in report(db.session)}
    assert holdings["conversation-messages"].count == 2
    assert holdings["live-transcripts"].count == 1
    assert holdings["conversations"].count == 2


def test_the_public_privacy_page_is_made_from_the_registry_in_both_languages(seeded):
    for language, word in (("en", "24 hours after the session"), ("fr", "24 heures après la séance")):
        page = seeded.test_client().get("/privacy", headers={"Accept-Language": language}).get_data(as_text=True)
        assert 'id="retention-table"' in page
        table = page.split('id="retention-table"')[1].split("</table>")[0]
        assert table.count("<tr>") == 1 + sum(entry.about == "visitor" for entry in REGISTRY)
        assert word in page


def test_admins_see_the_inventory_with_live_counts(seeded, make_staff):
    client = seeded.test_client()
    sign_in(client, make_staff("ada", roles=("admin",)))
    page = client.get("/staff/privacy").get_data(as_text=True)
    assert 'id="inventory"' in page and "staff_sessions" in page


def test_old_staff_sessions_invitations_and_audit_entries_are_purged(seeded, make_staff):
    from sqlalchemy import func, select

    from service.auth.models import AuditEntry, StaffSession

    clock.freeze(dt.datetime(2026, 1, 1, 12))
    client = seeded.test_client()
    sign_in(client, make_staff("old", roles=("editor",)))
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession)) >= 1
        clock.advance(dt.timedelta(days=31))
        run_all()
        assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        assert entries >= 1
        clock.advance(dt.timedelta(days=2 * 365))
        run_all()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
