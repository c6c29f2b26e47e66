"""The thirteen findings of the security review (issue 14), each as a scenario that failed
on the code reviewed and holds now. Real databases (SQLite and PostgreSQL), a real SMTP
server, a real nginx; nothing of ours is mocked."""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import LargeBinary, select

from booking import services as booking_services
from booking.models import Booking, ReminderMail
from content import publishing
from content.sanitize import clean_source, render_markdown
from service import crypto
from service.addresses import checked_address, mail_address
from service.auth import services as auth_services
from service.auth.models import StaffMember, StaffSession
from service.clock import clock
from service.crisis.models import UrgentCase
from service.db import db
from service.outbox import OutboxMessage
from service.routing import local_path_or
from tests.booking.conftest import first_free_slot, therapist  # noqa: F401 - the fixture
from tests.booking.test_booking import book_through_the_pages
from tests.conftest import audit_actions, csrf_token_from, every_row, sign_in
from tests.service.test_anonymous_keys import create_key_through_the_page
from tests.service.test_staff_auth import post_password

ROOT = Path(__file__).resolve().parents[2]
BAD_ADDRESS = "john.doe@[gmail.com"


def outbox_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def subjects(app) -> list[str]:
    return [row.subject for row in outbox_rows(app)]


def staff_row(app, staff_id: int) -> StaffMember:
    with app.app_context():
        row = db.session.get(StaffMember, staff_id)
        db.session.expunge(row)
        return row


def from_client(app, address: str):
    """A client whose requests come from `address` (the throttles key on it, hashed)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# 1. One bad address stops all mail: the form side ---------------------------------------------


@pytest.mark.parametrize("address", [BAD_ADDRESS, "a@b", "x@[192.0.2.1]", '"odd local"@example.org',
                                     "two@@example.org", "x@example.org\r\nBcc: y@example.org", "é@exämple.be"])
def test_an_address_that_cannot_make_a_to_header_is_refused_by_the_shared_check(address):
    with pytest.raises(ValueError):
        mail_address(address)
    with pytest.raises(ValueError):
        checked_address(address)


def test_a_good_address_becomes_a_header_ready_address():
    address = mail_address("  Someone.Else@Example.ORG ")
    assert str(address) == "Someone.Else@example.org"
    assert (address.username, address.domain) == ("Someone.Else", "example.org")


def test_the_booking_form_refuses_the_reviewed_malformed_reminder_address_and_keeps_the_rest(seeded, therapist):  # noqa: F811
    slot = first_free_slot(seeded, therapist)
    response = book_through_the_pages(seeded.test_client(), therapist, slot.starts_at, reminder_email=BAD_ADDRESS,
                                      note="kept as typed 81723")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "does not look like an e-mail address" in page and "kept as typed 81723" in page
    with seeded.app_context():
        assert db.session.scalar(select(Booking.id)) is None
    assert outbox_rows(seeded) == []


def test_the_staff_invitation_form_refuses_a_malformed_work_address(app, make_staff):
    admin = app.test_client()
    sign_in(admin, make_staff("ada", roles=("admin",)))
    page = admin.get("/staff/people").get_data(as_text=True)
    response = admin.post("/staff/people", data={"csrf_token": csrf_token_from(page), "username": "newbie",
                                                 "display_name": "New", "email": BAD_ADDRESS, "editor": "y"})
    assert response.status_code == 422
    assert "does not look like an e-mail address" in response.get_data(as_text=True)
    with app.app_context():
        assert auth_services.find_by_username(db.session, "newbie") is None
    with app.app_context(), db.transaction() as session, pytest.raises(auth_services.AccountError):
        auth_services.create_staff(session, "other", "Other", BAD_ADDRESS, {"editor"}, None)


def queue_due_reminder(app, therapist, **fields) -> int:  # noqa: F811
    slot = first_free_slot(app, therapist)
    response = book_through_the_pages(app.test_client(), therapist, slot.starts_at,
                                      reminder_email="canary-reminder-1414@example.net", **fields)
    assert response.status_code == 200
    clock.freeze(slot.starts_at - dt.timedelta(hours=23))
    with app.app_context(), db.transaction() as session:
        assert booking_services.send_due_reminders(session) == 1
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
        assert db.session.scalar(select(ReminderMail.message_id).where(ReminderMail.booking_id == booking_id))
    return booking_id


def test_a_reminder_not_yet_sent_is_erased_with_the_bookings_details(seeded, therapist):  # noqa: F811
    booking_id = queue_due_reminder(seeded, therapist)
    assert [row.sent_at for row in outbox_rows(seeded)] == [None]  # the mail server is down
    clock.advance(dt.timedelta(days=2))
    with seeded.app_context(), db.transaction() as session:
        booking_services.erase_booking_details(session)
    assert outbox_rows(seeded) == []
    assert b"canary-reminder-1414" not in crypto_opened(seeded)
    with seeded.app_context():
        assert db.session.get(Booking, booking_id).sealed_reminder_email is None


def test_cancelling_a_booking_deletes_its_reminder_still_waiting_to_go(seeded, therapist):  # noqa: F811
    booking_id = queue_due_reminder(seeded, therapist)
    clock.freeze(clock.now() - dt.timedelta(days=1))  # before the cut-off, to cancel online
    with seeded.app_context(), db.transaction() as session:
        booking_services.cancel(session, session.get(Booking, booking_id), dt.timedelta(hours=24))
    assert outbox_rows(seeded) == []


def crypto_opened(app) -> bytes:
    """Every sealed value in the database, opened (as the canary test does)."""
    with app.app_context():
        return "\n".join(crypto.unseal(token) for model, name in crypto.sealed_columns()
                         for token in db.session.scalars(select(getattr(model, name)).where(
                             getattr(model, name).is_not(None)))).encode()


# 2. Open redirect ----------------------------------------------------------------------------------

HOSTILE_NEXT = ["/%09/evil.example/x", "/%0a/evil.example", "%0a", "/%0d%0a/evil.example", "/\\evil.example",
                "/%5Cevil.example", "/%2F/evil.example", "/%252F%252Fevil.example", "//evil.example",
                "%01//evil.example", "https://evil.example/", "/%7F/evil.example", "%20//evil.example",
                "javascript:alert(1)", "/%E2%80%AE//evil.example"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_never_sends_a_visitor_to_another_host_nor_answers_500(app, target):
    response = app.test_client().get(f"/language/en?next={target}")
    assert response.status_code == 302
    location = response.headers["Location"]
    # As the browser will read it: a path on this site, whatever else it holds.
    followed = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    assert followed.startswith("/") and not followed.startswith("//")
    assert not urlsplit(followed).netloc and not urlsplit(followed).scheme


def test_the_language_switch_still_goes_back_to_the_page_on_this_site(app):
    response = app.test_client().get("/language/fr?next=/self-help/understanding-your-thoughts?x=1")
    assert response.headers["Location"] == "/self-help/understanding-your-thoughts?x=1"


def test_the_shared_check_reads_next_as_a_browser_does():
    assert local_path_or("/\t/evil.example/x") == "/"
    assert local_path_or("/booking/\n") == "/booking/"
    assert local_path_or(None) == "/"
    assert local_path_or("/%2e%2e/ok") == "/%2e%2e/ok"


# 3. The second factor can be brute-forced -------------------------------------------------------


def post_code(client, code: str):
    page = client.get("/staff/login/code").get_data(as_text=True)
    return client.post("/staff/login/code", data={"csrf_token": csrf_token_from(page), "code": code})


def test_wrong_codes_count_per_account_across_sign_ins_and_lock_the_second_factor(app, make_staff):
    make_staff("ada", roles=("admin",))
    account = make_staff("jo", roles=("editor",))
    for _sign_in in range(2):  # a new password step no longer starts the count again
        client = app.test_client()
        assert post_password(client, account.username, account.password).status_code == 302
        for _ in range(5):
            assert post_code(client, "000000").status_code == 401
    client = app.test_client()
    post_password(client, account.username, account.password)
    assert post_code(client, account.next_code()).status_code == 401, "locked: even the right code is refused"
    assert staff_row(app, account.id).code_locked_until is not None
    assert "signin.code_locked" in audit_actions(app)
    with app.app_context():
        told = [row for row in db.session.scalars(select(OutboxMessage)) if "second factor is locked" in row.subject]
        assert [crypto.unseal(row.sealed_recipient) for row in told] == ["ada@example.org"]
    clock.advance(auth_services.CODE_LOCK)
    client = app.test_client()
    post_password(client, account.username, account.password)
    assert post_code(client, account.next_code()).status_code == 302


def test_the_account_page_limits_code_checks_and_they_count_for_the_account(app, make_staff):
    account = make_staff("kai", roles=("editor",))
    client = app.test_client()
    sign_in(client, account)
    answers = []
    for _ in range(6):
        page = client.get("/staff/account").get_data(as_text=True)
        answers.append(client.post("/staff/account", data={
            "csrf_token": csrf_token_from(page), "current": account.password, "password": "a brand new passphrase 77",
            "confirm": "a brand new passphrase 77", "code": "000000"}).status_code)
    assert answers == [422] * 5 + [429]
    assert staff_row(app, account.id).code_failures == 5


# 4. Anyone can lock a colleague out -------------------------------------------------------------


def test_wrong_passwords_from_one_client_do_not_lock_the_owner_out_on_another(app, make_staff):
    account = make_staff("hal", roles=("editor",))
    colleague = from_client(app, "192.0.2.66")
    for _ in range(5):
        assert post_password(colleague, "hal", "not the password at all").status_code == 401
    assert post_password(colleague, "hal", account.password).status_code == 429
    owner = from_client(app, "198.51.100.7")
    assert post_password(owner, "hal", account.password).status_code == 302


def test_very_many_failures_for_one_account_hit_a_ceiling_that_tells_the_admins(app, make_staff):
    make_staff("ada", roles=("admin",))
    make_staff("hal", roles=("editor",))
    for number in range(10):  # ten clients, five failures each: fifty in all
        client = from_client(app, f"192.0.2.{number + 1}")
        for _ in range(5):
            assert post_password(client, "hal", "not the password at all").status_code == 401
    assert post_password(from_client(app, "198.51.100.99"), "hal", "anything at all here").status_code == 429
    assert post_password(from_client(app, "198.51.100.98"), "hal", "anything at all here").status_code == 429
    assert subjects(app).count("Pause: many failed sign-ins for one staff account") == 1
    assert audit_actions(app).count("signin.account_ceiling") == 1


# 5. Four eyes can be bypassed ---------------------------------------------------------------------

MODULE = "understanding-your-thoughts"


def staff_members(app, *accounts):
    return [db.session.get(StaffMember, account.id) for account in accounts]


def test_whoever_saved_or_submitted_a_version_cannot_publish_it(seeded, make_staff):
    eve, pat, ada = (make_staff("eve", roles=("editor",)), make_staff("pat", roles=("publisher",)),
                     make_staff("ada", roles=("admin",)))
    with seeded.app_context(), db.transaction() as session:
        editor, publisher, _admin = staff_members(seeded, eve, pat, ada)
        draft = publishing.start_draft(session, editor, "module", MODULE)  # eve opens it...
        document = publishing.document_of(draft)
        document["texts"]["en"]["title"] = "Changed by the publisher"
        assert publishing.save_draft(session, publisher, draft, document, "", "en") == []  # ...pat writes it
        publishing.submit_for_review(session, publisher, draft)
        with pytest.raises(publishing.WorkflowError):
            publishing.publish(session, publisher, draft)
        number = draft.number
    with seeded.app_context(), db.transaction() as session:
        publishing.publish(session, session.get(StaffMember, ada.id), publishing.version(session, "module", MODULE,
                                                                                         number))


def test_restoring_an_old_version_needs_a_second_person(seeded, make_staff):
    pat, ada = make_staff("pat", roles=("publisher",)), make_staff("ada", roles=("admin",))
    with seeded.app_context(), db.transaction() as session:
        publisher, admin = staff_members(seeded, pat, ada)
        draft = publishing.start_draft(session, admin, "module", MODULE)
        publishing.submit_for_review(session, admin, draft)
        publishing.publish(session, publisher, draft)
    with seeded.app_context(), db.transaction() as session:
        publisher, admin = staff_members(seeded, pat, ada)
        restored = publishing.roll_back(session, publisher, publishing.version(session, "module", MODULE, 1))
        assert restored.state == publishing.REVIEW
        assert publishing.published_version(session, "module", MODULE).number == 2, "nothing live changed yet"
        with pytest.raises(publishing.WorkflowError):
            publishing.publish(session, publisher, restored)
        publishing.publish(session, admin, restored)
        assert publishing.published_version(session, "module", MODULE).number == 3


# 6. An admin can silently take over an account -----------------------------------------------


def post_people_action(client, path: str):
    page = client.get("/staff/people").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token_from(page)})


def test_a_new_enrolment_link_no_longer_takes_over_an_enrolled_account(app, make_staff):
    ada, theo = make_staff("ada", roles=("admin",)), make_staff("theo", roles=("therapist",))
    admin = app.test_client()
    sign_in(admin, ada)
    response = post_people_action(admin, f"/staff/people/{theo.id}/invite")
    assert response.status_code == 302 and "/staff/enrol/" not in response.get_data(as_text=True)
    with app.app_context(), db.transaction() as session:
        token = auth_services.invite(session, session.get(StaffMember, theo.id), None)
    with app.app_context(), db.transaction() as session, pytest.raises(auth_services.AccountError):
        auth_services.complete_enrolment(session, token, "a takeover passphrase 99", "A" * 32, "000000")


def test_an_account_reset_needs_a_second_admin_ends_sessions_tells_the_owner_and_is_audited(app, make_staff):
    ada, bea = make_staff("ada", roles=("admin",)), make_staff("bea", roles=("admin",))
    theo = make_staff("theo", roles=("therapist",))
    owner = app.test_client()
    sign_in(owner, theo)
    first, second = app.test_client(), app.test_client()
    sign_in(first, ada)
    sign_in(second, bea)

    assert post_people_action(first, f"/staff/people/{theo.id}/reset").status_code == 302
    again = post_people_action(first, f"/staff/people/{theo.id}/reset")  # the same admin cannot approve
    assert again.status_code == 302
    assert owner.get("/staff/").status_code == 200, "nothing changes before a second admin approves"
    assert staff_row(app, theo.id).enrolled_at is not None

    approved = post_people_action(second, f"/staff/people/{theo.id}/reset")
    assert approved.status_code == 200
    link = re.search(r"(/staff/enrol/[A-Za-z0-9_-]+)", approved.get_data(as_text=True)).group(1)
    assert owner.get("/staff/").status_code in (302, 401), "the owner's sessions ended"
    with app.app_context():
        assert db.session.scalar(select(StaffSession.id).where(StaffSession.staff_id == theo.id,
                                                               StaffSession.ended_at.is_(None))) is None
    row = staff_row(app, theo.id)
    assert row.enrolled_at is None and row.password_hash is None and row.totp_secret_sealed is None
    assert post_password(app.test_client(), "theo", theo.password).status_code == 401
    with app.app_context():
        told = [crypto.unseal(message.sealed_recipient) for message in db.session.scalars(select(OutboxMessage))
                if message.subject == "Pause: your staff account was reset"]
    assert told == ["theo@example.org"]
    actions = audit_actions(app)
    assert "staff.reset_requested" in actions and "staff.reset_approved" in actions
    assert app.test_client().get(link).status_code == 200, "the owner can enrol again"


# 7. Secrets in logs ------------------------------------------------------------------------------


def test_the_exception_log_names_the_route_pattern_not_the_path(app, captured_logs):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(secret: str):
        raise RuntimeError("boom")

    app.add_url_rule("/test-only/fail/<secret>", "test_only_fail", fail)
    assert app.test_client().get("/test-only/fail/enrol-token-s3cr3t-9917").status_code == 500
    text = "\n".join(captured_logs)
    assert "Exception on /test-only/fail/<secret> [GET]" in text
    assert "s3cr3t-9917" not in text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not shutil.which("nginx"), reason="needs nginx")
def test_nginx_masks_enrolment_and_calendar_tokens_in_its_access_log(tmp_path):
    site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
    log_format = re.search(r"^log_format pause_private .*;$", site, re.M).group(0)
    assert "include /opt/pause/app/deploy/nginx/log-masking.conf;" in site
    port, log = free_port(), tmp_path / "access.log"
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{}}
http {{
    include {ROOT}/deploy/nginx/log-masking.conf;
    {log_format}
    client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path}; fastcgi_temp_path {tmp_path};
    uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
    server {{
        listen 127.0.0.1:{port};
        access_log {log} pause_private;
        location / {{ return 204; }}
    }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g",
                              "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        for path in ("/staff/enrol/SECRETenrol123", "/calendar/SECRETfeed456.ics", "/booking/"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()  # noqa: S310 - local test server
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    written = log.read_text()
    assert "SECRET" not in written
    assert '"GET /staff/enrol/<token>"' in written and '"GET /calendar/<token>.ics"' in written
    assert '"GET /booking/"' in written


# 8. An editor can exhaust the server's memory (sizes) -------------------------------------------
# The assessment part (bounded questions, options, scores; reachable totals as a bounded
# bitset) is proved by tests/self_help/test_scoring.py::
# test_scores_doubling_over_23_questions_are_refused_with_little_memory.


def test_a_content_field_over_its_limit_is_refused_and_nothing_is_saved(seeded, make_staff):
    eve = make_staff("eve", roles=("editor",))
    with seeded.app_context(), db.transaction() as session:
        editor = session.get(StaffMember, eve.id)
        draft = publishing.start_draft(session, editor, "module", MODULE)
        before = draft.document
        document = publishing.document_of(draft)
        document["texts"]["en"]["title"] = "x" * 20_001
        problems = publishing.save_draft(session, editor, draft, document, "", "en")
        assert any("20000" in problem for problem in problems)
        assert publishing.save_draft(session, editor, draft, publishing.document_of(draft), "n" * 501, "en")
        assert draft.document == before


def test_a_therapist_text_over_its_limit_is_refused_not_cut(seeded, therapist):  # noqa: F811
    client = seeded.test_client()
    sign_in(client, therapist.account)
    page = client.get("/staff/appointments/availability").get_data(as_text=True)
    response = client.post("/staff/appointments/availability", data={
        "csrf_token": csrf_token_from(page), "display_name": "Theo", "introduction": "word " * 1000,
        "time_zone": "Europe/Brussels", "session_minutes": "50", "buffer_minutes": "10", "notice_hours": "12",
        "horizon_days": "42", "languages": ["en"], "modalities": ["phone"], "active": "y"})
    assert response.status_code == 422
    assert "the most it can be is 4000" in response.get_data(as_text=True)


# 9. The "links to this site only" rule can be bypassed ---------------------------------------


@pytest.mark.parametrize("link", ["[x](/&#10;/evil.example)", "[x](/&#9;/evil.example)", "[x](/&#13;/evil.example)",
                                  "[x](/&#x5C;evil.example)", "[x](&#32;//evil.example)", "[x](/%2F/evil.example)"])
def test_a_link_is_judged_after_what_browsers_remove(link):
    assert addresses_leaving_the_site(render_markdown(clean_source(link))) == []
    assert addresses_leaving_the_site(render_markdown(link)) == []


def addresses_leaving_the_site(rendered: str) -> list[str]:
    """Each link's address as a browser follows it, if that is not a path on this site."""
    import html

    from service.routing import as_a_browser_reads_it

    followed = [as_a_browser_reads_it(html.unescape(href)) for href in re.findall(r'href="([^"]*)"', rendered)]
    return [href for href in followed if not href.startswith(("#", "tel:"))
            and (not href.startswith("/") or href.startswith("//") or urlsplit(href).netloc)]


def test_a_local_link_still_works_and_keeps_its_address():
    assert 'href="/booking/"' in render_markdown("[book](/booking/)")


def test_script_blocks_are_removed_whole_not_left_as_visible_text():
    for source in ("Hello <script>alert('owned')</script> there", "Hello <SCRIPT type=x>alert('owned')</SCRIPT > there",
                   "Hello &lt;script&gt;alert('owned')&lt;/script&gt; there", "Hello <style>p{}</style> there"):
        assert "alert" not in clean_source(source) and "p{}" not in clean_source(source)
        if "<" in source:  # an escaped one is prose on the page, not a tag
            assert "alert" not in render_markdown(source) and "p{}" not in render_markdown(source)
    assert clean_source("Hello <script>alert(1)</script> there") == "Hello  there"


def test_a_therapist_introduction_cannot_link_away_through_a_hidden_newline(seeded, therapist):  # noqa: F811
    client = seeded.test_client()
    sign_in(client, therapist.account)
    page = client.get("/staff/appointments/availability").get_data(as_text=True)
    client.post("/staff/appointments/availability", data={
        "csrf_token": csrf_token_from(page), "display_name": "Theo",
        "introduction": "See [my page](/&#10;/evil.example) <script>alert('x')</script>",
        "time_zone": "Europe/Brussels", "session_minutes": "50", "buffer_minutes": "10", "notice_hours": "12",
        "horizon_days": "42", "languages": ["en", "fr"], "modalities": ["phone", "video"], "active": "y",
        **{f"window-{day}-0-start": "09:00" for day in range(5)}, **{f"window-{day}-0-end": "17:00" for day in range(5)}})
    public = seeded.test_client().get("/booking/?language=en").get_data(as_text=True)
    assert "my page" in public
    # No link leaves the site: even the quick exit goes through /exit on this site.
    assert addresses_leaving_the_site(public) == []
    assert "alert(" not in public


# 10. "Forget me" leaves the key's bookings ----------------------------------------------------


def test_forgetting_a_key_cancels_its_future_bookings_and_erases_their_details_and_reminders(
        seeded, therapist):  # noqa: F811
    visitor = seeded.test_client()
    create_key_through_the_page(visitor)
    slot = first_free_slot(seeded, therapist)
    response = book_through_the_pages(visitor, therapist, slot.starts_at, use_my_key="y",
                                      reminder_email="canary-forget-1010@example.net",
                                      calendar_title="canary-title-1010")
    assert response.status_code == 200
    booked_at = clock.now()
    clock.freeze(slot.starts_at - dt.timedelta(hours=23))
    with seeded.app_context(), db.transaction() as session:
        assert booking_services.send_due_reminders(session) == 1
    # The visitor forgets the key in the same visit (days later it would have ended on the
    # server), while the appointment is still ahead and its reminder still queued.
    clock.freeze(booked_at + dt.timedelta(minutes=1))

    page = visitor.get("/key/forget").get_data(as_text=True)
    assert visitor.post("/key/forget", data={"csrf_token": csrf_token_from(page)}).status_code == 200

    with seeded.app_context():
        booking = db.session.scalar(select(Booking))
        assert booking.status == "cancelled"
        assert (booking.sealed_note, booking.sealed_contact, booking.sealed_reminder_email,
                booking.sealed_calendar_title) == (None, None, None, None)
    assert outbox_rows(seeded) == []
    with seeded.app_context(), db.transaction() as session:
        assert booking_services.send_due_reminders(session) == 0
    assert slot.starts_at in {free.starts_at for free in first_free_slots(seeded, therapist)}, "the time is free"


def first_free_slots(app, therapist):  # noqa: F811
    from booking.models import TherapistProfile

    with app.app_context():
        return booking_services.free_slots_for(db.session, db.session.get(TherapistProfile, therapist.profile_id))


# 11. Leaks in the calendar file and mail ------------------------------------------------------


def test_the_calendar_title_is_sealed_and_the_ics_names_nothing(seeded, therapist):  # noqa: F811
    slot = first_free_slot(seeded, therapist)
    client = seeded.test_client()
    response = book_through_the_pages(client, therapist, slot.starts_at, calendar_title="canary-title-1111")
    assert b"canary-title-1111" not in every_row(seeded)
    assert b"canary-title-1111" in crypto_opened(seeded)
    ics = client.post("/booking/appointment.ics", data={"csrf_token": csrf_token_from(
        response.get_data(as_text=True))}).get_data(as_text=True)
    assert "SUMMARY:canary-title-1111" in ics
    identifiers = "\n".join(line for line in ics.splitlines() if line.startswith(("PRODID", "UID")))
    assert "pause" not in identifiers.lower()
    assert len(re.findall(r"^(PRODID|UID):", ics, re.M)) == 2


def test_reminders_come_from_a_neutral_sender(seeded, therapist, mail_server):  # noqa: F811
    from service.jobs import deliver_mail

    queue_due_reminder(seeded, therapist)
    with seeded.app_context():
        assert deliver_mail() == 1
    sender = re.search(r"^From: (.*)$", mail_server.text(), re.M).group(1)
    assert "pause" not in sender.lower()
    assert sender.startswith("Appointments <")


# 12. Replies on closed or erased urgent cases -------------------------------------------------


def open_and_close_case(app, make_staff):
    from service.crisis import services as crisis

    duty = make_staff("dina", roles=("duty",))
    with app.app_context(), db.transaction() as session:
        case, _code = crisis.open_case(session, crisis.validate_request(
            "phone", "+32 470 12 34 56", "soon", "en", "canary-urgent-1212", ("en", "fr")), "/staff/duty")
        staff = session.get(StaffMember, duty.id)
        crisis.close(session, staff, case, "talked")
        return case.id, case.reference, duty


def test_a_closed_urgent_case_refuses_a_reply(app, make_staff):
    case_id, reference, duty = open_and_close_case(app, make_staff)
    client = app.test_client()
    sign_in(client, duty)
    page = client.get(f"/staff/duty/{reference}").get_data(as_text=True)
    response = client.post(f"/staff/duty/{reference}/reply", data={"csrf_token": csrf_token_from(page),
                                                                   "reply": "canary-late-reply-1212"},
                           follow_redirects=True)
    assert "can no longer get a reply" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UrgentCase, case_id).sealed_reply is None


def test_erasure_erases_a_sealed_field_left_whatever_erased_at_says(app, make_staff):
    from service.crisis import services as crisis

    case_id, _reference, _duty = open_and_close_case(app, make_staff)
    with app.app_context(), db.transaction() as session:
        case = session.get(UrgentCase, case_id)
        case.erased_at = clock.now()  # marked erased, yet a sealed reply is still there
        case.sealed_reply = crypto.seal("canary-left-behind-1212")
    clock.advance(dt.timedelta(days=2))
    with app.app_context(), db.transaction() as session:
        crisis.erase_closed_cases(session, dt.timedelta(hours=24))
    with app.app_context():
        case = db.session.get(UrgentCase, case_id)
        assert (case.sealed_contact, case.sealed_message, case.sealed_reply) == (None, None, None)


# 13. Sealed values carry the exact second of each save ----------------------------------------


def test_a_sealed_value_holds_no_time(app):
    key = app.config["PAUSE"].data_keys[0]
    with app.app_context():
        token = crypto.seal("a private reflection")
        assert crypto.unseal(token) == "a private reflection"
    with pytest.raises(InvalidToken):
        Fernet(key).extract_timestamp(token)  # not a Fernet token: no timestamp in it
    assert token[:1] == crypto.VERSION and token[1:5] == crypto.key_id(key)
    # Twelve bytes of nonce, the text and a 16-byte tag: nothing else, so no time.
    assert len(token) == 1 + 4 + 12 + len("a private reflection") + 16


def test_a_value_sealed_before_with_fernet_still_opens_and_rotation_turns_it_into_aes_gcm(app, runner):
    from self_help.models import ExerciseAnswer

    key = app.config["PAUSE"].data_keys[0]
    with app.app_context():
        legacy = Fernet(key).encrypt(b"written last year")
        assert crypto.unseal(legacy) == "written last year"
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    new = Fernet.generate_key().decode()
    rotating = crypto.Keyring((new, key))
    resealed = rotating.reseal(legacy)
    assert resealed[:1] == crypto.VERSION and crypto.Keyring((new,)).open(resealed) == "written last year"
    assert ExerciseAnswer in {model for model, _name in crypto.sealed_columns()}


def test_sealed_columns_come_from_model_metadata_and_crypto_imports_no_domain_package():
    import service.models  # noqa: F401 - every model known
    from service.db import Base

    found = {(model.__tablename__, name) for model, name in crypto.sealed_columns()}
    marked = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
              if column.info.get("sealed")}
    assert found == marked
    binary_sealed = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
                     if isinstance(column.type, LargeBinary) and "sealed" in column.name}
    assert binary_sealed <= found, "every column named sealed is marked sealed"
    assert ("bookings", "sealed_calendar_title") in found
    tree = ast.parse((ROOT / "service" / "crypto.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and name.split(".")[0] in ("booking", "content", "self_help")}
    assert not {name for name in imported if name and name.startswith(("service.auth", "service.crisis",
                                                                       "service.outbox", "service.visitor"))}
