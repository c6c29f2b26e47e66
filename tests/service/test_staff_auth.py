"""Staff sign-in: password then TOTP, throttled, with revocable server-side sessions."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from sqlalchemy import select

from service.auth.access import STAFF_COOKIE
from service.auth.models import AuditEntry, RecoveryCode, StaffMember, StaffSession
from service.clock import clock
from service.db import db
from service.hashing import hashes_computed
from tests.conftest import STAFF_PASSWORD, audit_actions, csrf_token_from, sign_in


def staff_cookie(client) -> str | None:
    cookie = client.get_cookie(STAFF_COOKIE)
    return cookie.value if cookie else None


def post_password(client, username: str, password: str):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post("/staff/login", data={"csrf_token": csrf_token_from(page), "username": username,
                                             "password": password})


# Enrolment --------------------------------------------------------------------------------


def test_the_cli_creates_an_admin_and_prints_a_one_time_enrolment_link(app, runner):
    result = runner.invoke(args=["staff", "create", "--role", "admin", "--name", "Ada", "ada"])
    assert result.exit_code == 0, result.output
    link = re.search(r"(/staff/enrol/[\w-]+)", result.output).group(1)
    client = app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "http" not in re.sub(r'xmlns="[^"]+"', "", html.split("<svg")[1].split("</svg>")[0])
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]+)"', html).group(1)
    response = client.post(link, data={"csrf_token": csrf_token_from(html), "secret": secret,
                                       "password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD,
                                       "code": pyotp.TOTP(secret).at(clock.timestamp())})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get(link).status_code == 410, "the link works once"
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode)).all()
        assert len(stored) == 10 and all(code not in row.code_hash for row in stored for code in codes)
        staff = db.session.scalar(select(StaffMember))
        assert staff.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert secret.encode() not in staff.totp_secret_sealed


def test_enrolment_refuses_short_and_common_passwords_and_keeps_the_rest(app, runner):
    result = runner.invoke(args=["staff", "create", "--role", "editor", "bob"])
    link = re.search(r"(/staff/enrol/[\w-]+)", result.output).group(1)
    client = app.test_client()
    html = client.get(link).get_data(as_text=True)
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]+)"', html).group(1)
    for password, message in (("short", "at least 12 characters"), ("password1234", "too common")):
        response = client.post(link, data={"csrf_token": csrf_token_from(html), "secret": secret,
                                           "password": password, "confirm": password,
                                           "code": pyotp.TOTP(secret).at(clock.timestamp())})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page
        assert f'value="{secret}"' in page, "the same secret stays, so the app need not be set up again"


# Sign-in ----------------------------------------------------------------------------------


def test_sign_in_needs_the_password_then_a_code(app, make_staff):
    account = make_staff("carol", roles=("editor",))
    client = app.test_client()
    assert client.get("/staff/").status_code == 302
    response = sign_in(client, account)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert "signin.succeeded" in audit_actions(app)


def test_the_password_alone_does_not_open_staff_pages(app, make_staff):
    account = make_staff("dan", roles=("admin",))
    client = app.test_client()
    assert post_password(client, account.username, account.password).status_code == 302
    assert client.get("/staff/").status_code == 302
    assert client.get("/staff/people").headers["Location"] == "/staff/login"


def test_a_totp_code_is_accepted_once_only(app, make_staff):
    account = make_staff("erin")
    code = account.next_code()
    assert sign_in(app.test_client(), account, code).status_code == 302
    replay = sign_in(app.test_client(), account, code)
    assert replay.status_code == 401
    assert "That code is not right" in replay.get_data(as_text=True)


def test_a_recovery_code_works_once(app, make_staff):
    account = make_staff("fay")
    code = account.recovery_codes[0]
    assert sign_in(app.test_client(), account, code).headers["Location"] == "/staff/"
    assert sign_in(app.test_client(), account, code).status_code == 401
    assert "signin.recovery_code_used" in audit_actions(app)


def test_unknown_user_and_wrong_password_get_the_same_answer(app, make_staff):
    make_staff("gus")
    client = app.test_client()
    before = hashes_computed.value
    unknown = post_password(client, "nobody", "some password here")
    after_unknown = hashes_computed.value
    wrong = post_password(app.test_client(), "gus", "wrong password here")
    assert after_unknown - before == 1 and hashes_computed.value - after_unknown == 1, "one hash each"
    assert unknown.status_code == wrong.status_code == 401

    def without_token(response) -> str:
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    assert without_token(unknown).replace("nobody", "X") == without_token(wrong).replace("gus", "X")
    assert unknown.headers.get("Set-Cookie", "").split("=")[0] == wrong.headers.get("Set-Cookie", "").split("=")[0]


def test_an_account_is_locked_after_five_failures_and_unknown_names_behave_alike(app, make_staff):
    account = make_staff("hal")
    for name in ("hal", "nobody-at-all"):
        client = app.test_client()
        for _ in range(5):
            assert post_password(client, name, "wrong password here").status_code == 401
        before = hashes_computed.value
        locked = post_password(client, name, account.password if name == "hal" else "x" * 12)
        assert locked.status_code == 429
        assert hashes_computed.value == before, "throttled before any hash"
    # Another account is not affected.
    other = make_staff("ida")
    assert post_password(app.test_client(), other.username, other.password).status_code == 302


def test_wrong_codes_are_throttled(app, make_staff):
    account = make_staff("jo")
    client = app.test_client()
    post_password(client, account.username, account.password)
    for _ in range(5):
        page = client.get("/staff/login/code").get_data(as_text=True)
        assert client.post("/staff/login/code", data={"csrf_token": csrf_token_from(page),
                                                      "code": "000000"}).status_code == 401
    page = client.get("/staff/login/code").get_data(as_text=True)
    assert client.post("/staff/login/code", data={"csrf_token": csrf_token_from(page),
                                                  "code": account.next_code()}).status_code == 429


def test_sign_in_issues_a_new_session_id(app, make_staff):
    account = make_staff("kim")
    client = app.test_client()
    post_password(client, account.username, account.password)
    first = staff_cookie(client)
    page = client.get("/staff/login/code").get_data(as_text=True)
    client.post("/staff/login/code", data={"csrf_token": csrf_token_from(page), "code": account.next_code()})
    assert staff_cookie(client) not in (None, first)


# Sessions ---------------------------------------------------------------------------------


def test_logout_ends_the_session_and_the_old_cookie_no_longer_works(app, make_staff):
    account = make_staff("lea")
    client = app.test_client()
    sign_in(client, account)
    stolen = staff_cookie(client)
    page = client.get("/staff/").get_data(as_text=True)
    response = client.post("/staff/logout", data={"csrf_token": csrf_token_from(page)})
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    replay = app.test_client()
    replay.set_cookie(STAFF_COOKIE, stolen)
    assert replay.get("/staff/").status_code == 302
    assert "signout" in audit_actions(app)


def test_disabling_an_account_ends_its_sessions_at_once(app, make_staff):
    admin, editor = make_staff("max", roles=("admin",)), make_staff("ned", roles=("editor",))
    admin_client, editor_client = app.test_client(), app.test_client()
    sign_in(admin_client, admin)
    sign_in(editor_client, editor)
    assert editor_client.get("/staff/").status_code == 200
    page = admin_client.get("/staff/people").get_data(as_text=True)
    asked = admin_client.post(f"/staff/people/{editor.id}/disable", data={"csrf_token": csrf_token_from(page)})
    assert asked.status_code == 200 and editor_client.get("/staff/").status_code == 200, "asked first, nothing done"
    response = admin_client.post(f"/staff/people/{editor.id}/disable", data={"csrf_token": csrf_token_from(page),
                                                                             "confirmed": "yes"})
    assert response.status_code == 302
    assert editor_client.get("/staff/").status_code == 302
    assert post_password(app.test_client(), editor.username, editor.password).status_code == 401
    with app.app_context():
        assert all(row.ended_at for row in db.session.scalars(select(StaffSession).where(
            StaffSession.staff_id == editor.id)))
    assert "staff.disabled" in audit_actions(app)


def test_idle_timeout_after_thirty_minutes(app, make_staff):
    account = make_staff("oli")
    client = app.test_client()
    clock.freeze(clock.now())
    sign_in(client, account)
    clock.advance(dt.timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200
    clock.advance(dt.timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200, "activity keeps the session alive"
    clock.advance(dt.timedelta(minutes=31))
    assert client.get("/staff/").status_code == 302


def test_absolute_lifetime_of_twelve_hours(app, make_staff):
    account = make_staff("pia")
    client = app.test_client()
    clock.freeze(clock.now())
    sign_in(client, account)
    signed_in_at = clock.now()
    for _ in range(30):
        clock.advance(dt.timedelta(minutes=29))
        response = client.get("/staff/")
        if response.status_code != 200:
            break
    assert response.status_code == 302
    assert dt.timedelta(hours=12) < clock.now() - signed_in_at <= dt.timedelta(hours=12, minutes=29)


def test_the_page_tells_when_the_session_will_end(app, make_staff):
    account = make_staff("quin")
    client = app.test_client()
    sign_in(client, account)
    page = client.get("/staff/").get_data(as_text=True)
    assert 'id="session-banner"' in page and "data-ends-at=" in page


def test_password_change_needs_the_current_password_and_a_code(app, make_staff):
    account = make_staff("rui")
    client = app.test_client()
    sign_in(client, account)
    page = client.get("/staff/account").get_data(as_text=True)
    new = "a brand new long passphrase 77"
    refused = client.post("/staff/account", data={"csrf_token": csrf_token_from(page), "current": account.password,
                                                  "password": new, "confirm": new, "code": "123456"})
    assert refused.status_code == 422
    accepted = client.post("/staff/account", data={"csrf_token": csrf_token_from(page), "current": account.password,
                                                   "password": new, "confirm": new, "code": account.next_code()})
    assert accepted.status_code == 302
    assert post_password(app.test_client(), account.username, new).status_code == 302


def test_audit_log_is_append_only(app, make_staff):
    import pytest

    from service.audit import AuditLogIsAppendOnly

    make_staff("sam")
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).first()
        entry.action = "tampered"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEntry)).first())
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()


def test_an_admin_invites_someone_and_changes_their_roles(app, make_staff):
    admin = make_staff("una", roles=("admin",))
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/staff/people").get_data(as_text=True)
    response = client.post("/staff/people", data={"csrf_token": csrf_token_from(page), "username": "vic",
                                                  "display_name": "Vic", "email": "vic@example.org",
                                                  "editor": "y"})
    link = re.search(r'id="enrolment-link">[^<]*(/staff/enrol/[\w-]+)<', response.get_data(as_text=True)).group(1)
    assert app.test_client().get(link).status_code == 200
    with app.app_context():
        vic = db.session.scalar(select(StaffMember).where(StaffMember.username == "vic"))
        assert vic.role_names == {"editor"} and vic.enrolled_at is None
    client.post(f"/staff/people/{vic.id}/roles", data={"csrf_token": csrf_token_from(page), "editor": "y",
                                                       "publisher": "y"})
    with app.app_context():
        assert db.session.get(StaffMember, vic.id).role_names == {"editor", "publisher"}
    refused = client.post(f"/staff/people/{admin.id}/roles", data={"csrf_token": csrf_token_from(page),
                                                                   "editor": "y"}, follow_redirects=True)
    assert "cannot remove your own admin role" in refused.get_data(as_text=True)
    assert {"staff.created", "staff.invited", "staff.roles_changed"} <= set(audit_actions(app))
