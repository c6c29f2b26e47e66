"""Live text sessions scaled out, as deployed: two instances (each its page workers and
its event-stream server, the production configuration), one PostgreSQL, one Redis, and
a real nginx with the shipped site file and live location over HTTPS. The visitor
reaches the portal only through instance A, the therapist only through instance B: each
message posted on one instance reaches the other participant's stream on the other
instance by Redis pub/sub, well before the stream's own 15-second look."""

from __future__ import annotations

import datetime as dt
import grp
import json
import os
import pwd
import queue
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import DATA_KEY, POSTGRES_URL, csrf_token_from, on_postgres, staff_maker
from tests.deploy.test_two_instances import Browser, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-two-instance-test-secret-0123456789"
REDIS_DB = "14"
pytestmark = pytest.mark.skipif(not on_postgres(), reason="scale-out runs on PostgreSQL and Redis")


def site_for(name: str, https_port: int, page_port: int, live_port: int, tmp: Path, first: bool) -> str:
    """The shipped site file for one instance: its own upstreams and port, HTTPS only."""
    site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
    head, _redirect, https = site.split("server {")
    site = head + "server {" + https
    live = (ROOT / "deploy" / "nginx" / "live.conf").read_text().replace("http://pause_live;",
                                                                          f"http://pause_live_{name};")
    (tmp / f"live-{name}.conf").write_text(live)
    for old, new in (
        ("upstream pause_app {", f"upstream pause_app_{name} {{"), ("http://pause_app;", f"http://pause_app_{name};"),
        ("upstream pause_live {", f"upstream pause_live_{name} {{"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{page_port};"),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{live_port};"),
        ("/opt/pause/app/deploy/nginx/live.conf", f"{tmp}/live-{name}.conf"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
        ("server_name pause.example.org;", "server_name localhost;"),
        ("/etc/ssl/pause/", f"{tmp}/"), ("/var/log/nginx/pause.", f"{tmp}/{name}."), ("/var/cache/nginx/", f"{tmp}/"),
        ("/opt/pause/app/", f"{ROOT}/"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    if not first:
        # The maps, the log format and the page cache are the http block's, declared once.
        site = site[site.index(f"upstream pause_app_{name}"):]
    return site


@pytest.fixture
def two_instances(tmp_path):
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS pause_live_scaleout WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE pause_live_scaleout"))
    admin.dispose()
    database_url = POSTGRES_URL.rsplit("/", 1)[0] + "/pause_live_scaleout"
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    environment = {**os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": database_url,
                   "PAUSE_SECRET_KEY": SECRET, "PAUSE_DATA_KEY": DATA_KEY, "PAUSE_REDIS_URL": redis_url,
                   "PAUSE_TRUSTED_PROXIES": "1", "PAUSE_WORKERS": "1", "PAUSE_THREADS": "8",
                   "PAUSE_LIVE_THREADS": "20", "PAUSE_BASE_URL": "https://localhost"}
    subprocess.run(["redis-cli", "-n", REDIS_DB, "FLUSHDB"], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "service", "db", "upgrade"], cwd=ROOT, env=environment,
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    processes, logs, sites, bases, log_paths = [], [], [], {}, {}
    for index, name in enumerate(("a", "b")):
        page_port, live_port, https_port = free_port(), free_port(), free_port()
        for kind, config, bind in (("pages", "deploy/gunicorn.conf.py", f"PAUSE_BIND=127.0.0.1:{page_port}"),
                                   ("live", "deploy/gunicorn-live.conf.py", f"PAUSE_LIVE_BIND=127.0.0.1:{live_port}")):
            path = tmp_path / f"{name}-{kind}.log"
            log = open(path, "wb")  # noqa: SIM115 - closed in the finally below
            logs.append(log)
            log_paths[f"{name}-{kind}"] = path
            key, value = bind.split("=")
            processes.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", config,
                                               "service:create_app()"], cwd=ROOT, env={**environment, key: value},
                                              stdout=log, stderr=subprocess.STDOUT))
            processes[-1].port = page_port if kind == "pages" else live_port
        sites.append(site_for(name, https_port, page_port, live_port, tmp_path, index == 0))
        bases[name] = f"https://localhost:{https_port}"
    (tmp_path / "sites.conf").write_text("\n".join(sites))
    owner = ROOT.stat()  # nginx's workers write its page cache here, as the checkout's owner
    (tmp_path / "nginx.conf").write_text(
        f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
        f"worker_processes 1; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/sites.conf; }}\n")
    nginx = subprocess.Popen([nginx_binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for process in processes:
            wait_for(process.port)
        for base in bases.values():
            wait_for(int(base.rsplit(":", 1)[1]))
        yield {"bases": bases, "logs": log_paths, "database_url": database_url,
               "settings": {"env": "production", "database_url": database_url, "secret_key": SECRET,
                            "data_keys": (DATA_KEY,), "redis_url": redis_url}}
    finally:
        nginx.terminate()
        for process in processes:
            process.terminate()
        for process in [nginx, *processes]:
            process.wait(timeout=30)
        for log in logs:
            log.close()


def chat_appointment_starting_soon(settings: dict):
    """A therapist (enrolled as the invitation would) and a text-chat booking five minutes
    from now, written directly: the gunicorn processes run on the real clock."""
    from booking.models import Booking
    from booking.services import profile_for_staff
    from service import create_app
    from service.auth.models import StaffMember
    from service.db import db
    from service.hashing import anonymous_key_digest
    from service.visitor.services import format_key, generate_key, normalise_key

    app = create_app(settings)
    account = staff_maker(app)("theo", roles=("therapist",))
    key = generate_key()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with app.app_context(), db.transaction() as session:
        profile = profile_for_staff(session, session.get(StaffMember, account.id))
        profile.modalities, profile.languages = "chat", "en"
        session.flush()
        booking = Booking(therapist_id=profile.id, reference="LIVE2INST", key_digest=anonymous_key_digest(
            normalise_key(key)), anonymous_key_id=None, status="booked", modality="chat", language="en",
            starts_at=now + dt.timedelta(minutes=5), ends_at=now + dt.timedelta(minutes=55), session_day=now.date(),
            sealed_note=None, sealed_contact=None, sealed_reminder_email=None, sealed_therapist_message=None,
            sealed_calendar_title=None, created_at=now, reminded_day_before_at=None, reminded_hour_before_at=None,
            details_erased_at=None, reduced_at=None)
        session.add(booking)
    with app.app_context():
        db.engine.dispose()
    return account, format_key(normalise_key(key))


class Stream:
    """A participant's event stream, read in a thread: (arrival time, event, data)."""

    def __init__(self, browser: Browser, path: str) -> None:
        self.events: queue.Queue = queue.Queue()
        request = urllib.request.Request(browser.base + path,  # noqa: S310 - https to the test's nginx
                                         headers={"Accept": "text/event-stream"})
        self.response = browser.opener.open(request, timeout=60)
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "event" in fields:
                        self.events.put((time.monotonic(), fields["event"], json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":") and ": " in line:
                    key, value = line.split(": ", 1)
                    fields[key] = value
        except (OSError, ValueError, AttributeError, ssl.SSLError):  # closed by the test
            return

    def wait_for_text(self, wanted: str, seconds: float) -> float:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                arrived, kind, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if kind == "message" and data["text"] == wanted:
                return arrived
        raise AssertionError(f"{wanted!r} did not arrive within {seconds} s")

    def close(self) -> None:
        self.response.close()


def requests_in(log: Path, pattern: str) -> int:
    return sum(pattern in line for line in log.read_text().splitlines())


def test_visitor_on_one_instance_and_therapist_on_the_other(two_instances):
    import pyotp

    bases, logs = two_instances["bases"], two_instances["logs"]
    account, key = chat_appointment_starting_soon(two_instances["settings"])

    visitor = Browser(bases["a"])
    page = visitor.open("/booking/manage")[2]
    assert visitor.open("/booking/manage", {"csrf_token": csrf_token_from(page), "key": key})[0] == 302
    page = visitor.open("/booking/manage")[2]
    assert 'id="open-text-session"' in page
    status, headers, _ = visitor.open("/live/open", {"csrf_token": csrf_token_from(page)})
    assert status == 302 and headers["Location"].endswith("/live/")
    visitor_token = csrf_token_from(visitor.open("/live/")[2])

    therapist = Browser(bases["b"])
    page = therapist.open("/staff/login")[2]
    assert therapist.open("/staff/login", {"csrf_token": csrf_token_from(page), "username": account.username,
                                           "password": account.password})[0] == 302
    page = therapist.open("/staff/login/code")[2]
    code = pyotp.TOTP(account.secret).at(time.time() + 30)  # the enrolment's code is spent
    assert therapist.open("/staff/login/code", {"csrf_token": csrf_token_from(page), "code": code})[0] == 302
    page = therapist.open("/staff/appointments/LIVE2INST")[2]
    status, headers, _ = therapist.open("/staff/live/appointment/LIVE2INST", {"csrf_token": csrf_token_from(page)})
    assert status == 302
    live_path = re.search(r"(/staff/live/\d+)$", headers["Location"]).group(1)
    therapist_token = csrf_token_from(therapist.open(live_path)[2])

    visitor_stream = Stream(visitor, "/live/events")
    therapist_stream = Stream(therapist, live_path + "/events")
    try:
        # Both streams have made their first look (the opening statement).
        for stream in (visitor_stream, therapist_stream):
            assert stream.events.get(timeout=20)[1] == "state"
        sent = time.monotonic()
        assert visitor.open("/live/say", {"csrf_token": visitor_token, "body": "Posted on instance A"})[0] == 302
        # The stream's own look comes every 15 seconds: an arrival within 5 is the wake-up.
        assert therapist_stream.wait_for_text("Posted on instance A", 5) - sent < 5
        sent = time.monotonic()
        assert therapist.open(live_path + "/say", {"csrf_token": therapist_token,
                                                   "body": "Answered on instance B"})[0] == 302
        assert visitor_stream.wait_for_text("Answered on instance B", 5) - sent < 5
        # Without JavaScript, the frame on B shows what was written on A.
        assert "Posted on instance A" in therapist.open(live_path + "/frame")[2]
    finally:
        visitor_stream.close()
        therapist_stream.close()

    # Each participant was served by their own instance only, the streams by the
    # event-stream servers, the posts by the page workers.
    assert requests_in(logs["a-live"], "GET /live/events") >= 1
    assert requests_in(logs["b-live"], "GET /staff/live/<int:live_id>/events") >= 1
    assert requests_in(logs["a-pages"], "POST /live/say") == 1 and requests_in(logs["b-pages"], "POST /live/say") == 0
    assert requests_in(logs["b-pages"], "POST /staff/live/<int:live_id>/say") == 1
    assert requests_in(logs["a-pages"], "/staff/") == 0
