"""Scale-out, as deployed: two gunicorn instances with the production configuration, one
PostgreSQL, one Redis, behind a real nginx with the shipped site file over HTTPS
(self-signed for the test). Sessions, staff sessions and rate limits hold across the
instances, a booking race through nginx still ends with one booking, and a scheduler on
each server still runs each job once. nginx serves the static files and its own error
pages, with the same headers as the app's pages."""

from __future__ import annotations

import grp
import http.cookiejar
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import DATA_KEY, POSTGRES_URL, csrf_token_from, on_postgres

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-instance-test-secret-key-0123456789"
pytestmark = pytest.mark.skipif(not on_postgres(), reason="scale-out runs on PostgreSQL and Redis")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client of its own (cookies), speaking HTTPS to nginx."""

    def __init__(self, base: str) -> None:
        self.base = base
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  urllib.request.HTTPSHandler(context=context), NoRedirect)

    def open(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            response = self.opener.open(self.base + path, data=body, timeout=30)
            return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, dict(answer.headers), answer.read().decode()


# One deployment for the file: starting it (a database, two gunicorns, nginx) is most of
# each test's time. The tests use different parts of it; the last one stops the servers.
@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("deployment")
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_binary).exists():
        pytest.fail("The scale-out test needs Debian's nginx (apt-get install nginx-light).")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS pause_scaleout WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE pause_scaleout"))
    admin.dispose()
    database_url = POSTGRES_URL.rsplit("/", 1)[0] + "/pause_scaleout"
    environment = {**os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": database_url,
                   "PAUSE_SECRET_KEY": SECRET, "PAUSE_DATA_KEY": DATA_KEY, "PAUSE_REDIS_URL": "redis://127.0.0.1:6379/13",
                   "PAUSE_TRUSTED_PROXIES": "1", "PAUSE_WORKERS": "1", "PAUSE_THREADS": "8",
                   "PAUSE_BASE_URL": "https://localhost"}
    subprocess.run(["redis-cli", "-n", "13", "FLUSHDB"], check=True, capture_output=True)
    flask = [sys.executable, "-m", "flask", "--app", "service"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=environment, check=True, capture_output=True)
    # --demo refuses production; seed as production, then add the demo therapist directly.
    subprocess.run([*flask, "seed"], cwd=ROOT, env=environment, check=True, capture_output=True)
    subprocess.run([*flask, "seed", "--demo"], cwd=ROOT, env={**environment, "PAUSE_ENV": "testing"}, check=True,
                   capture_output=True)

    processes, logs = [], []
    ports = [free_port(), free_port()]
    for port in ports:
        log = open(tmp_path / f"instance-{port}.log", "wb")  # noqa: SIM115 - closed in the finally below
        logs.append(log)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "service:create_app()"],
            cwd=ROOT, env={**environment, "PAUSE_BIND": f"127.0.0.1:{port}"}, stdout=log, stderr=subprocess.STDOUT))

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    http_port, https_port = free_port(), free_port()
    site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
        ("server_name pause.example.org;", "server_name localhost;"),
        ("/etc/ssl/pause/", f"{tmp_path}/"), ("/var/log/nginx/", f"{tmp_path}/"), ("/var/cache/nginx/", f"{tmp_path}/"),
        ("server 127.0.0.1:8000;", "".join(f"server 127.0.0.1:{port};" for port in ports)),
        ("/opt/pause/app/", f"{ROOT}/"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    # nginx's workers read the static files as the checkout's owner: started as root, they
    # would otherwise run as nobody, who cannot enter a private (mode 700) clone.
    owner = ROOT.stat()
    (tmp_path / "nginx.conf").write_text(
        f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
        f"worker_processes 1; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n")
    nginx = subprocess.Popen([nginx_binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in [*ports, https_port]:
            wait_for(port)
        yield {"base": f"https://localhost:{https_port}", "http": f"http://127.0.0.1:{http_port}",
               "logs": [tmp_path / f"instance-{port}.log" for port in ports], "database_url": database_url,
               "environment": environment, "access_log": tmp_path / "pause.access.log", "instances": processes,
               "ports": ports}
    finally:
        nginx.terminate()
        for process in processes:
            process.terminate()
        for process in [nginx, *processes]:
            process.wait(timeout=30)
        for log in logs:
            log.close()


def requests_served(log: Path) -> int:
    return sum(" pause.request: " in line for line in log.read_text().splitlines())


def settled_counts(deployment) -> list[int]:
    """Requests served by each instance, once their logs have caught up: an instance
    writes a request's line after its answer, and the deployment is shared by the file's
    tests, so a line of the test before may still be on its way."""
    counts = [requests_served(log) for log in deployment["logs"]]
    for _ in range(20):
        time.sleep(0.25)
        again = [requests_served(log) for log in deployment["logs"]]
        if again == counts:
            break
        counts = again
    return counts


def test_two_instances_behind_nginx_share_sessions_limits_and_bookings(deployment):
    base = deployment["base"]
    browser = Browser(base)

    status, headers, _ = browser.open("/")
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["Referrer-Policy"] == "no-referrer"
    status, headers, _ = Browser(deployment["http"]).open("/self-help/")
    assert status == 301 and headers["Location"].startswith("https://")

    # A visitor's language choice holds whichever instance answers.
    browser.open("/language/fr?next=/")

    def visit_in_french() -> None:
        for _ in range(6):
            assert '<html lang="fr">' in browser.open("/self-help/")[2]

    served_by_both(deployment, visit_in_french)

    # Rate limits count across instances (Redis): the eleventh try is refused.
    token = csrf_token_from(browser.open("/key/")[2])
    answers = [browser.open("/key/open", {"csrf_token": token, "key": "ABCD-EFGH-JKMN-PQRS-TVWX"})[0] for _ in range(11)]
    assert answers == [422] * 10 + [429]

    # Nothing about the client is in nginx's log.
    log = deployment["access_log"].read_text()
    assert "127.0.0.1" not in log and "Python-urllib" not in log and "next=" not in log


def served_by_both(deployment, action) -> None:
    before = [requests_served(log) for log in deployment["logs"]]
    action()
    after = [requests_served(log) for log in deployment["logs"]]
    assert all(later > earlier for earlier, later in zip(before, after, strict=True)), "both instances served"


def test_a_staff_session_holds_on_either_instance(deployment):
    import pyotp

    created = subprocess.run([sys.executable, "-m", "flask", "--app", "service", "staff", "create", "--role", "admin",
                              "ops"], cwd=ROOT, env=deployment["environment"], check=True, capture_output=True, text=True)
    link = re.search(r"(/staff/enrol/[\w-]+)", created.stdout).group(1)
    staff = Browser(deployment["base"])
    page = staff.open(link)[2]
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]+)"', page).group(1)
    password = "a long passphrase for the two instance test"
    assert staff.open(link, {"csrf_token": csrf_token_from(page), "secret": secret, "password": password,
                             "confirm": password, "code": pyotp.TOTP(secret).now()})[0] == 200
    # Enrolment proved both factors: the person is signed in from there.

    def visit_staff_pages() -> None:
        for _ in range(6):
            assert staff.open("/staff/")[0] == 200, "the staff session holds on both instances"

    served_by_both(deployment, visit_staff_pages)


def test_a_booking_race_through_nginx_ends_with_one_booking(deployment):
    page = Browser(deployment["base"]).open("/booking/?language=en")[2]
    path = re.search(r'href="(/booking/book\?[^"]+)"', page).group(1).replace("&amp;", "&")
    # Ten visitors: the per-client booking limit (10 an hour) counts them all, as nginx
    # passes one address for the whole test.
    visitors = [Browser(deployment["base"]) for _ in range(10)]
    tokens = [csrf_token_from(visitor.open(path)[2]) for visitor in visitors]
    together = threading.Barrier(len(visitors))
    outcomes = []

    def attempt(visitor, token):
        together.wait()
        outcomes.append(visitor.open(path, {"csrf_token": token, "modality": "phone", "language": "en",
                                            "contact": "+32 470 00 00 00"})[0])

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(visitors, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [200] + [302] * 9
    engine = create_engine(deployment["database_url"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM bookings WHERE status = 'booked'")).scalar() == 1
    engine.dispose()


def test_schedulers_on_both_servers_run_each_job_once(deployment):
    """Each server of the deployment runs pause-scheduler; the database decides who runs."""
    command = [sys.executable, "-m", "flask", "--app", "service", "scheduler", "--ticks", "1"]
    schedulers = [subprocess.Popen(command, cwd=ROOT, env=deployment["environment"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [scheduler.communicate(timeout=120)[0].decode() for scheduler in schedulers]
    assert [scheduler.returncode for scheduler in schedulers] == [0, 0], outputs
    from service.jobs import JOBS

    engine = create_engine(deployment["database_url"])
    with engine.connect() as connection:
        runs = dict(connection.execute(text("SELECT name, run_count FROM job_locks")).all())
    engine.dispose()
    assert runs == {name: 1 for name in JOBS}


def test_nginx_serves_hashed_static_files_for_a_year_and_its_own_error_pages(deployment):
    browser = Browser(deployment["base"])
    page = browser.open("/")[2]
    style = re.search(r'href="(/static/css/pause\.[0-9a-f]{12}\.css)"', page).group(1)
    before = settled_counts(deployment)
    status, headers, body = browser.open(style)
    assert status == 200 and "--" in body  # the style sheet itself
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert browser.open("/static/css/pause.css")[0] == 404
    assert [requests_served(log) for log in deployment["logs"]] == before, "nginx, not the app, served them"

    # Larger than nginx accepts: its own page, in both languages, with the headers.
    token = csrf_token_from(browser.open("/key/")[2])
    status, headers, body = browser.open("/key/open", {"csrf_token": token, "key": "x" * 100_000})
    assert status == 413 and "too much to send" in body and "trop à envoyer" in body
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY"

    # Both app servers gone: nginx says so, in both languages, and gives the emergency number.
    for instance in deployment["instances"]:
        instance.terminate()
        instance.wait(timeout=30)
    status, headers, body = browser.open("/self-help/")
    assert status == 502 and "unavailable for a moment" in body and "indisponible" in body and "112" in body
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
