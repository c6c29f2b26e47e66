"""A message thread across the deployment: a visitor writes on one instance, the
counsellor answers on the other, and the visitor reads the answer on either. Each
instance is spoken to directly, as nginx would (X-Forwarded-Proto: https), so the test
knows which one served each step."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import urllib.request

import pyotp
from sqlalchemy import create_engine, text

from tests.conftest import csrf_token_from
from tests.deploy.test_two_instances import ROOT, Browser, NoRedirect, deployment, pytestmark  # noqa: F401


class SecureOverLoopback(http.cookiejar.DefaultCookiePolicy):
    """nginx ends TLS in front of the instances; behind it the secure cookies travel over
    plain HTTP on the loopback, as they do here."""

    def return_ok_secure(self, cookie, request):
        return True


class Instance(Browser):
    """A client of one instance, with a cookie jar that may be shared with another."""

    def __init__(self, port: int, jar: http.cookiejar.CookieJar) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        self.opener.addheaders = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "127.0.0.1"),
                                  ("Host", "localhost")]


def jar() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=SecureOverLoopback())


def enrolled_counsellor(deployment, browser: Instance) -> None:  # noqa: F811
    created = subprocess.run([sys.executable, "-m", "flask", "--app", "service", "staff", "create", "--role",
                              "counsellor", "cleo"], cwd=ROOT, env=deployment["environment"], check=True,
                             capture_output=True, text=True)
    link = re.search(r"(/staff/enrol/[\w-]+)", created.stdout).group(1)
    page = browser.open(link)[2]
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]+)"', page).group(1)
    password = "a long passphrase for the talk test"
    assert browser.open(link, {"csrf_token": csrf_token_from(page), "secret": secret, "password": password,
                               "confirm": password, "code": pyotp.TOTP(secret).now()})[0] == 200
    # Enrolment proved both factors: the person is signed in from there.


def test_a_visitor_writes_on_one_instance_and_the_counsellor_answers_on_the_other(deployment):  # noqa: F811
    first_port, second_port = deployment["ports"]
    visitor_jar = jar()
    on_first, on_second = Instance(first_port, visitor_jar), Instance(second_port, visitor_jar)

    page = on_first.open("/talk/")[2]
    status, _headers, started = on_first.open("/talk/", {"csrf_token": csrf_token_from(page),
                                                         "body": "Written on the first instance."})
    assert status == 200 and 'id="anonymous-key"' in started
    public_id = re.search(r'href="/talk/([A-Za-z0-9_-]{22})"', started).group(1)

    counsellor = Instance(second_port, jar())
    enrolled_counsellor(deployment, counsellor)
    inbox = counsellor.open("/staff/messages/")[2]
    assert f"/staff/messages/{public_id}" in inbox
    page = counsellor.open(f"/staff/messages/{public_id}")[2]
    assert "Written on the first instance." in page
    token = csrf_token_from(page)
    assert counsellor.open(f"/staff/messages/{public_id}/claim", {"csrf_token": token})[0] == 302
    assert counsellor.open(f"/staff/messages/{public_id}/reply",
                           {"csrf_token": token, "body": "Answered on the second instance."})[0] == 302

    for instance in (on_first, on_second):
        status, _headers, thread = instance.open(f"/talk/{public_id}")
        assert status == 200 and "Answered on the second instance." in thread
    engine = create_engine(deployment["database_url"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM conversation_messages")).scalar() == 2
        assert b"Written on the first" not in repr(connection.execute(
            text("SELECT sealed_body FROM conversation_messages")).all()).encode()
    engine.dispose()
