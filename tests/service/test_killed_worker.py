"""A worker killed in the middle of a booking or a publish leaves nothing half-written:
the process really dies (SIGKILL) inside its unit of work, before the commit."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from booking.models import Booking
from content import publishing
from service.auth.models import StaffMember
from service.db import db
from tests.booking.conftest import first_free_slot, therapist  # noqa: F401 - the fixture
from tests.conftest import DATA_KEY

ROOT = Path(__file__).resolve().parents[2]


def die_inside(app, body: str) -> int:
    """Runs `body` in a fresh process inside db.transaction(), then kills that process
    with SIGKILL before the transaction can commit; returns its exit code."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(f"""
        import os, signal, datetime as dt
        from service import create_app
        from service.clock import clock
        from service.db import db
        app = create_app({{"env": "testing", "database_url": {url!r}, "secret_key": "k",
                          "data_keys": ({DATA_KEY!r},), "instance_path": {str(ROOT / "instance")!r}}})
        with app.app_context():
            with db.transaction() as session:
    """) + textwrap.indent(textwrap.dedent(body), " " * 8) + "\n        os.kill(os.getpid(), signal.SIGKILL)\n"
    process = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in process.stderr, process.stderr
    return process.returncode


def test_a_worker_killed_mid_booking_leaves_no_booking(seeded, therapist):  # noqa: F811
    slot = first_free_slot(seeded, therapist)
    day_before = (slot.starts_at - dt.timedelta(days=1)).isoformat()
    code = die_inside(seeded, f"""
        from booking import services
        clock.freeze(dt.datetime.fromisoformat({day_before!r}))
        services.book(session, {therapist.profile_id}, dt.datetime.fromisoformat({slot.starts_at.isoformat()!r}),
                      {{"modality": "video", "language": "en", "note": "half", "contact": "", "reminder_email": ""}})
        session.flush()
    """)
    assert code == -9
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_worker_killed_mid_publish_leaves_the_old_version_live(seeded, make_staff):
    editor, publisher = make_staff("ed", roles=("editor",)), make_staff("pub", roles=("publisher",))
    with seeded.app_context(), db.transaction() as session:
        draft = publishing.start_draft(session, session.get(StaffMember, editor.id), "page", "about")
        document = publishing.document_of(draft)
        document["texts"]["en"]["title"] = "Half published"
        publishing.save_draft(session, session.get(StaffMember, editor.id), draft, document, "", "en")
        publishing.submit_for_review(session, session.get(StaffMember, editor.id), draft)
        number = draft.number
    code = die_inside(seeded, f"""
        from content import publishing
        from service.auth.models import StaffMember
        version = publishing.version(session, "page", "about", {number})
        publishing.publish(session, session.get(StaffMember, {publisher.id}), version)
        session.flush()
    """)
    assert code == -9
    with seeded.app_context():
        assert publishing.published_version(db.session, "page", "about").number == 1
        assert publishing.version(db.session, "page", "about", number).state == "review"
    page = seeded.test_client().get("/about").get_data(as_text=True)
    assert "Half published" not in page
