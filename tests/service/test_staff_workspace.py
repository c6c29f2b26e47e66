"""The staff home says what needs me now; duty counsellors claim, hold, take over, note,
flag and find cases; the roster is told first; admins' pages read in words and local time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import select

from service.auth.models import AuditEntry, StaffMember
from service.clock import clock
from service.crisis.models import UrgentCase
from service.db import db
from service.jobs import run_all
from tests.conftest import audit_actions, csrf_token_from, every_row, sign_in
from tests.service.test_urgent_contact import PHONE, case_code, request_contact


def signed_in(app, account):
    client = app.test_client()
    sign_in(client, account)
    return client


def reference_in(page: str) -> str:
    return re.search(r'href="/staff/duty/([0-9A-F]{6})"', page).group(1)


def post(client, address: str, page: str | None = None, **data):
    token = csrf_token_from(client.get(page or "/staff/account").get_data(as_text=True))
    return client.post(address, data={"csrf_token": token, **data})


def test_the_home_lists_urgent_requests_with_their_waiting_time_and_counts_them_in_the_title(seeded, make_staff):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))
    duty = signed_in(seeded, make_staff("dora", roles=("duty",)))
    request_contact(seeded.test_client())
    clock.advance(dt.timedelta(minutes=12))
    home = duty.get("/staff/").get_data(as_text=True)
    assert "<title>(1) Pause</title>" in home
    assert 'http-equiv="refresh"' not in home, "refreshing by itself is the staff member's choice (WCAG 2.2.1)"
    home = duty.get("/staff/?refresh=on").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="60">' in home
    assert '<meta http-equiv="refresh" content="60">' in duty.get("/staff/").get_data(as_text=True), "remembered"
    section = home[home.index('id="attention-urgent-requests"'):]
    assert "waiting 12 min" in section[:section.index("</section>")]
    assert 'http-equiv="refresh"' not in duty.get("/staff/duty/").get_data(as_text=True), "only the home refreshes"
    french = duty.get("/staff/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "12 min" in french and "Demandes urgentes" in french


def test_a_therapist_sees_only_their_sections_and_an_editor_sees_drafts_and_decisions(seeded, make_staff):
    therapist = signed_in(seeded, make_staff("theo", roles=("therapist",)))
    home = therapist.get("/staff/").get_data(as_text=True)
    assert 'id="attention-sessions-today"' in home and 'id="attention-urgent-requests"' not in home
    assert "<title>Pause</title>" in home


def test_a_reason_for_sending_back_reaches_the_author_on_the_home_and_beside_the_version(seeded, make_staff):
    editor = signed_in(seeded, make_staff("eddie", roles=("editor",)))
    publisher = signed_in(seeded, make_staff("pia", roles=("publisher",)))
    item = "/staff/content/page/about"
    assert post(editor, f"{item}/draft", item).status_code == 302
    number = re.search(r"/versions/(\d+)/edit", editor.get(item).get_data(as_text=True)).group(1)
    assert post(editor, f"{item}/versions/{number}/submit", item).status_code == 302
    waiting = publisher.get("/staff/").get_data(as_text=True)
    assert 'id="attention-review"' in waiting and "eddie" in waiting.split('id="attention-review"')[1][:800]
    assert post(publisher, f"{item}/versions/{number}/send-back", item,
                reason="The second paragraph needs the phone number again.").status_code == 302
    home = editor.get("/staff/").get_data(as_text=True)
    decisions = home.split('id="attention-decisions"')[1].split("</section>")[0]
    assert "was sent back by pia" in decisions and "The second paragraph needs the phone number again." in decisions
    assert "The second paragraph needs the phone number again." in editor.get(item).get_data(as_text=True)


def test_a_claimed_case_shows_who_holds_it_and_taking_it_over_is_explicit(seeded, make_staff):
    dora = signed_in(seeded, make_staff("dora", roles=("duty",)))
    sam = signed_in(seeded, make_staff("sam", roles=("duty",)))
    request_contact(seeded.test_client())
    reference = reference_in(dora.get("/staff/duty/").get_data(as_text=True))
    case_page = f"/staff/duty/{reference}"
    post(dora, f"{case_page}/acknowledge", case_page)
    queue = sam.get("/staff/duty/").get_data(as_text=True)
    assert "Held by dora" in queue
    page = sam.get(case_page).get_data(as_text=True)
    assert 'id="held-note"' in page and "Take over this request" in page and 'name="outcome"' not in page
    refused = post(sam, f"{case_page}/close", case_page, outcome="talked")
    assert "dora holds this request" in sam.get(refused.headers["Location"]).get_data(as_text=True)
    with seeded.app_context():
        assert db.session.scalar(select(UrgentCase)).state == "acknowledged"
    post(sam, f"{case_page}/take-over", case_page)
    assert "You (sam)" in sam.get(case_page).get_data(as_text=True)
    assert "Held by sam" in dora.get("/staff/duty/").get_data(as_text=True)
    assert "case.taken_over" in audit_actions(seeded)


def test_a_shown_contact_stays_shown_for_the_visit_and_is_audited_once_per_visit(seeded, make_staff):
    account = make_staff("dora", roles=("duty",))
    dora = signed_in(seeded, account)
    request_contact(seeded.test_client())
    reference = reference_in(dora.get("/staff/duty/").get_data(as_text=True))
    case_page = f"/staff/duty/{reference}"
    assert PHONE not in dora.get(case_page).get_data(as_text=True)
    post(dora, f"{case_page}/reveal", case_page)
    post(dora, f"{case_page}/attempt", case_page, result="no-answer")
    for _ in range(3):
        assert PHONE in dora.get(case_page).get_data(as_text=True), "still shown after an action and a reload"
    assert audit_actions(seeded).count("case.contact_viewed") == 1
    other = signed_in(seeded, make_staff("sam", roles=("duty",)))
    assert PHONE not in other.get(case_page).get_data(as_text=True), "shown to the one who asked only"
    again = signed_in(seeded, account)  # a new visit
    assert PHONE not in again.get(case_page).get_data(as_text=True)
    post(again, f"{case_page}/reveal", case_page)
    assert audit_actions(seeded).count("case.contact_viewed") == 2


def test_notes_are_sealed_and_erased_with_the_case_risk_and_call_back_are_kept(seeded, make_staff):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))
    dora = signed_in(seeded, make_staff("dora", roles=("duty",)))
    request_contact(seeded.test_client())
    reference = reference_in(dora.get("/staff/duty/").get_data(as_text=True))
    case_page = f"/staff/duty/{reference}"
    post(dora, f"{case_page}/notes", case_page, note="canary-note-4410 asked for an evening call")
    post(dora, f"{case_page}/risk", case_page, risk="on")
    post(dora, f"{case_page}/callback", case_page, day="2026-11-20", time="18:30")
    assert b"canary-note-4410" not in every_row(seeded), "sealed at rest"
    page = dora.get(case_page).get_data(as_text=True)
    assert "Flagged" in page and "18:30" in page  # Brussels, as typed
    with seeded.app_context():
        case = db.session.scalar(select(UrgentCase))
        assert case.callback_at == dt.datetime(2026, 11, 20, 17, 30) and case.risk_flag
    post(dora, f"{case_page}/reveal", case_page)
    assert "canary-note-4410" in dora.get(case_page).get_data(as_text=True)
    assert post(dora, f"{case_page}/callback", case_page, day="2026-02-30", time="25:61").status_code == 302
    post(dora, f"{case_page}/close", case_page, outcome="talked")
    clock.advance(dt.timedelta(hours=25))
    with seeded.app_context():
        run_all()
        assert db.session.scalar(select(UrgentCase)).sealed_notes is None


def test_a_case_is_found_by_the_code_the_visitor_reads_out(seeded, make_staff):
    dora = signed_in(seeded, make_staff("dora", roles=("duty",)))
    code = case_code(request_contact(seeded.test_client(), channel="message", contact=""))
    found = post(dora, "/staff/duty/lookup", "/staff/duty/", code=code.lower().replace("-", " "))
    assert found.status_code == 302 and re.fullmatch(r"/staff/duty/[0-9A-F]{6}", found.headers["Location"])
    wrong = post(dora, "/staff/duty/lookup", "/staff/duty/", code="ABCD-EFGH-JKMN-PQRS-TVWX")
    assert wrong.status_code == 422 and "No request has that code" in wrong.get_data(as_text=True)
    junk = post(dora, "/staff/duty/lookup", "/staff/duty/", code="hello")
    assert junk.status_code == 422 and "That is not a case code" in junk.get_data(as_text=True)


def test_the_counsellor_on_the_roster_is_told_first_then_the_admins(seeded, make_staff, mail_server):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))  # 10:00 in Brussels
    dora = make_staff("dora", roles=("duty",))
    make_staff("sam", roles=("duty",))
    make_staff("adam", roles=("admin",))
    lead = signed_in(seeded, make_staff("lead", roles=("duty",)))
    response = post(lead, "/staff/duty/roster", "/staff/duty/roster", person=str(dora.id), day="2026-11-20",
                    start="08:00", end="16:00")
    assert response.status_code == 302
    assert "On duty now: Dora." in lead.get("/staff/duty/roster").get_data(as_text=True)
    refused = post(lead, "/staff/duty/roster", "/staff/duty/roster", person=str(dora.id), day="junk", start="8",
                   end="")
    assert refused.status_code == 422 and 'value="junk"' in refused.get_data(as_text=True)
    request_contact(seeded.test_client())
    with seeded.app_context():
        run_all()
        assert mail_server.recipients() == ["dora@example.org"]
        clock.advance(dt.timedelta(minutes=10))
        run_all()
        assert mail_server.recipients()[1:] == ["dora@example.org"], "the first escalation: to those on duty"
        clock.advance(dt.timedelta(minutes=20))
        run_all()
        assert "adam@example.org" in mail_server.recipients()[2:], "then the admins"


def test_the_status_page_tells_the_truth_when_the_team_could_not_be_told(seeded, make_staff, mail_server):
    make_staff("dora", roles=("duty",))
    mail_server.stop()
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))
    visitor = seeded.test_client()
    code = case_code(request_contact(visitor))

    def status() -> str:
        page = visitor.get("/help-now/contact/status").get_data(as_text=True)
        return visitor.post("/help-now/contact/status", data={"csrf_token": csrf_token_from(page), "code": code}
                            ).get_data(as_text=True)

    assert 'id="notice-waiting"' in status()
    with seeded.app_context():
        run_all()
    assert 'id="notice-failed"' in status() and "112" in status()
    mail_server.start()
    clock.advance(dt.timedelta(minutes=5))
    with seeded.app_context():
        run_all()
    assert "the counsellors have been told" in status()


def test_times_are_shown_in_the_staff_members_own_zone(seeded, make_staff):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))
    dora = signed_in(seeded, make_staff("dora", roles=("duty",)))
    request_contact(seeded.test_client())
    assert "10:00" in dora.get("/staff/duty/").get_data(as_text=True)  # Brussels by default
    assert post(dora, "/staff/account/time-zone", time_zone="America/New_York").status_code == 302
    assert "04:00" in dora.get("/staff/duty/").get_data(as_text=True)
    post(dora, "/staff/account/time-zone", time_zone="Mars/Olympus")
    with seeded.app_context():
        assert db.session.scalar(select(StaffMember).where(StaffMember.username == "dora")).time_zone == \
            "America/New_York"


def test_invitations_are_mailed_and_enrolment_signs_the_person_in(seeded, make_staff, mail_server):
    import pyotp

    admin = signed_in(seeded, make_staff("ada", roles=("admin",)))
    invited = post(admin, "/staff/people", "/staff/people", username="nina", display_name="Nina", email="nina@example.org",
                   editor="y")
    assert invited.status_code == 200 and 'id="invitation-mailed"' in invited.get_data(as_text=True)
    with seeded.app_context():
        run_all()
    assert mail_server.recipients() == ["nina@example.org"]
    link = re.search(r"(/staff/enrol/[A-Za-z0-9_-]+)", mail_server.text()).group(1)
    newcomer = seeded.test_client()
    page = newcomer.get(link).get_data(as_text=True)
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]+)"', page).group(1)
    done = newcomer.post(link, data={"csrf_token": csrf_token_from(page), "password": "a long enough passphrase 77",
                                     "confirm": "a long enough passphrase 77", "secret": secret,
                                     "code": pyotp.TOTP(secret).at(clock.timestamp())})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.get_data(as_text=True)
    assert newcomer.get("/staff/").status_code == 200, "signed in straight away"
    people = admin.get("/staff/people").get_data(as_text=True)
    nina = people[people.index("<td>nina</td>"):].split("</tr>")[0]
    assert "Authenticator app set up" in nina and "Never" not in nina
    assert "Writes and changes self-help modules" in people


def test_the_audit_log_reads_in_words_and_exports_as_csv(seeded, make_staff):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0))
    admin = signed_in(seeded, make_staff("ada", roles=("admin", "duty")))
    request_contact(seeded.test_client())
    reference = reference_in(admin.get("/staff/duty/").get_data(as_text=True))
    post(admin, f"/staff/duty/{reference}/close", f"/staff/duty/{reference}", outcome="referred")
    page = admin.get("/staff/audit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    table = page.split('id="audit-table"')[1].split("</table>")[0]
    assert "case.closed" not in table and "ada a clôturé une demande urgente" in table
    assert "Orienté vers un autre service" in table and "10:00" in table
    export = admin.get("/staff/audit.csv?action=case.closed")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[1][0].startswith("2026-11-20 10:0") and rows[1][2] == "closed an urgent request"
    assert "audit.exported" in audit_actions(seeded)
    with seeded.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.exported")) is not None


def test_a_draft_survives_an_expired_session_and_comes_back_after_signing_in(seeded, make_staff):
    account = make_staff("eddie", roles=("editor",))
    editor = signed_in(seeded, account)
    item = "/staff/content/page/about"
    post(editor, f"{item}/draft", item)
    edit = re.search(r'href="(/staff/content/page/about/versions/\d+/edit)"',
                     editor.get(item).get_data(as_text=True)).group(1)
    page = editor.get(edit).get_data(as_text=True)
    fields = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    fields.update({name: body for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page)})
    fields["texts-en-body"] = "canary-draft-8801 a long paragraph typed for an hour"
    clock.advance(dt.timedelta(minutes=31))  # the idle timeout passes while typing
    lost = editor.post(edit, data={**fields, "action": "save"})
    assert lost.status_code == 302 and lost.headers["Location"] == "/staff/login"
    assert b"canary-draft-8801" not in every_row(seeded), "held sealed, not in clear"
    back = sign_in(editor, account)
    assert back.headers["Location"] == edit, "back to the page that was being written"
    restored = editor.get(edit).get_data(as_text=True)
    assert "canary-draft-8801 a long paragraph typed for an hour" in restored
    assert "canary-draft-8801" not in editor.get(edit).get_data(as_text=True), "given back once, then the draft rules"
