"""The onion service, as deployed: Debian's tor accepts the shipped torrc, and every
visitor journey works through the real nginx with the shipped onion site file, over plain
HTTP with the onion host name, in front of gunicorn with the production configuration.
Under the onion address: no HSTS, no redirect to https, a session cookie without
`Secure` (which a browser keeps on an http origin), no absolute link to our clear-web
site, and the quick exit. The HTTPS site announces the onion address (Onion-Location)."""

from __future__ import annotations

import grp
import http.client
import http.cookiejar
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DATA_KEY, csrf_token_from, on_postgres

# nginx, tor's configuration and a portal of its own (on SQLite): nothing here depends on
# the suite's database, so it runs once, in the SQLite suite.
pytestmark = pytest.mark.skipif(on_postgres(), reason="runs once, in the SQLite suite")

ROOT = Path(__file__).resolve().parents[2]
ONION = "pausetestonion" + "a" * 38 + "2345.onion"  # 56 characters of base 32, like a v3 address
CLEAR_WEB = "https://pause.example.org"
QUICK_EXIT = "https://www.bbc.com/weather"
SECRET = "onion-test-secret-key-0123456789abcdef"


def tor_binary() -> str:
    found = shutil.which("tor") or "/usr/sbin/tor"
    if not Path(found).exists():
        pytest.fail("The onion test needs Debian's tor (apt-get install tor; .ci/run installs it).")
    return found


def test_debians_tor_accepts_the_shipped_torrc():
    checked = subprocess.run([tor_binary(), "--verify-config", "-f", str(ROOT / "deploy" / "tor" / "torrc")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "Configuration was valid" in checked.stdout, checked.stdout + checked.stderr
    torrc = (ROOT / "deploy" / "tor" / "torrc").read_text()
    assert "HiddenServicePort 80 127.0.0.1:8081" in torrc
    assert "listen 127.0.0.1:8081 proxy_protocol;" in (ROOT / "deploy" / "nginx" / "pause-onion.conf").read_text()


def test_the_onion_headers_are_the_sites_headers_without_hsts():
    def directives(name: str) -> list[str]:
        text = (ROOT / "deploy" / "nginx" / name).read_text()
        return [line for line in text.splitlines() if line.startswith("add_header")]

    site = directives("security-headers.conf")
    assert [line for line in site if "Strict-Transport-Security" not in line] == directives("onion-headers.conf")
    assert len(site) == len(directives("onion-headers.conf")) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
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


class TorBrowser:
    """A browser reaching http://<onion>/ as tor would hand it to nginx: a TCP connection
    to the local onion port that starts with a PROXY protocol line naming its circuit,
    then HTTP with the onion name as Host. Its cookie jar, like a browser's, never sends a
    `Secure` cookie over http, so a journey with a form fails if the cookie has the flag."""

    def __init__(self, port: int, circuit: int) -> None:
        self.cookies = http.cookiejar.CookieJar()

        class CircuitConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                self.sock.sendall(f"PROXY TCP6 fc00:dead:beef:4dad::{circuit:x} ::1 {circuit} 80\r\n".encode())

        class CircuitHandler(urllib.request.HTTPHandler):
            def http_open(self, request):
                return self.do_open(CircuitConnection, request)

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), CircuitHandler,
                                                  NoRedirect)
        self.set_cookies: list[str] = []

    def open(self, path: str, data: dict | None = None, host: str = ONION):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            response = self.opener.open(f"http://{host}{path}", data=body, timeout=30)
            status, headers, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as answer:
            status, headers, text = answer.code, answer.headers, answer.read().decode()
        self.set_cookies += headers.get_all("Set-Cookie") or []
        return status, headers, text

    def follow(self, path: str, data: dict | None = None):
        """A post (or get) and the page its redirect leads to, as a browser shows it."""
        status, headers, text = self.open(path, data)
        for _ in range(5):
            if status not in (301, 302, 303):
                break
            location = headers["Location"]
            assert location.startswith("/"), f"{path} redirects off the onion site: {location}"
            status, headers, text = self.open(location)
        return status, headers, text


LINK = re.compile(r'(?:href|src|action)="([^"]*)"')


def assert_onion_page(headers, text: str) -> None:
    """What every page under the onion address must hold to."""
    assert "Strict-Transport-Security" not in headers
    assert "Onion-Location" not in headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert CLEAR_WEB not in text and "pause.example.org" not in text
    for link in LINK.findall(text):
        assert link.startswith(("/", "#", "tel:", "sms:")) or link == QUICK_EXIT, link


@pytest.fixture(scope="module")
def onion_site(tmp_path_factory):
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_binary).exists():
        pytest.fail("The onion test needs Debian's nginx (apt-get install nginx-light).")
    folder = tmp_path_factory.mktemp("onion")
    environment = {**os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": f"sqlite:///{folder}/pause.db",
                   "PAUSE_SECRET_KEY": SECRET, "PAUSE_DATA_KEY": DATA_KEY, "PAUSE_REDIS_URL": "",
                   "PAUSE_TRUSTED_PROXIES": "1", "PAUSE_WORKERS": "1", "PAUSE_THREADS": "4",
                   "PAUSE_BASE_URL": CLEAR_WEB, "PAUSE_ONION_HOST": ONION, "PAUSE_QUICK_EXIT_URL": QUICK_EXIT}
    flask = [sys.executable, "-m", "flask", "--app", "service"]
    for command, env in ((["db", "upgrade"], environment), (["seed"], environment),
                         (["seed", "--demo"], {**environment, "PAUSE_ENV": "testing"})):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)

    app_port = free_port()
    log = open(folder / "app.log", "wb")  # noqa: SIM115 - closed in the finally below
    app = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "service:create_app()"],
        cwd=ROOT, env={**environment, "PAUSE_BIND": f"127.0.0.1:{app_port}"}, stdout=log, stderr=subprocess.STDOUT)

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
                   check=True, capture_output=True)
    http_port, https_port, onion_port = free_port(), free_port(), free_port()
    replacements = {
        "pause.conf": (
            ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
            ("server_name pause.example.org;", "server_name localhost;"),
            ("/etc/ssl/pause/", f"{folder}/"), ("/var/log/nginx/", f"{folder}/"), ("/var/cache/nginx/", f"{folder}/"),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"), ("/opt/pause/app/", f"{ROOT}/")),
        "pause-onion.conf": (
            ("listen 127.0.0.1:8081 proxy_protocol;", f"listen 127.0.0.1:{onion_port} proxy_protocol;"),
            ("listen 127.0.0.1:8081 proxy_protocol default_server;",
             f"listen 127.0.0.1:{onion_port} proxy_protocol default_server;"),
            ("server_name pause-onion-address.onion;", f"server_name {ONION};"),
            ("/var/log/nginx/", f"{folder}/"), ("/opt/pause/app/", f"{ROOT}/")),
    }
    for name, pairs in replacements.items():
        site = (ROOT / "deploy" / "nginx" / name).read_text()
        for old, new in pairs:
            assert old in site, old
            site = site.replace(old, new)
        (folder / name).write_text(site)
    owner = ROOT.stat()
    (folder / "nginx.conf").write_text(
        f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
        f"worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {folder}/body; "
        f"proxy_temp_path {folder}/proxy; include {folder}/pause.conf; include {folder}/pause-onion.conf; }}\n")
    nginx = subprocess.Popen([nginx_binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in (app_port, onion_port, https_port):
            wait_for(port)
        yield {"onion_port": onion_port, "https": f"https://localhost:{https_port}", "folder": folder}
    finally:
        nginx.terminate()
        app.terminate()
        for process in (nginx, app):
            process.wait(timeout=30)
        log.close()


def test_the_https_site_announces_the_onion_address(onion_site):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    response = opener.open(onion_site["https"] + "/self-help/", timeout=30)
    assert response.headers["Onion-Location"] == f"http://{ONION}/self-help/"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_under_the_onion_address_pages_are_http_without_hsts_and_with_a_cookie_tor_browser_keeps(onion_site):
    browser = TorBrowser(onion_site["onion_port"], circuit=1)
    status, headers, home = browser.open("/")
    assert status == 200, "no redirect to https"
    assert_onion_page(headers, home)
    # The quick exit is on the page and its script loads from nginx, over http, without HSTS.
    # Quick exit goes through /exit on this site (it ends the visit), then to the neutral site.
    assert 'id="quick-exit" href="/exit"' in home
    status, headers, _ = browser.open("/exit")
    assert status in (302, 303) and headers["Location"] == QUICK_EXIT and "Clear-Site-Data" in headers
    assert "Strict-Transport-Security" not in headers
    script = re.search(r'src="(/static/js/pause\.[0-9a-f]{12}\.js)"', home).group(1)
    status, headers, body = browser.open(script)
    assert status == 200 and "window.location.replace" in body and "Strict-Transport-Security" not in headers
    status, headers, _ = browser.open("/static/css/pause.css")
    assert status == 404 and "Strict-Transport-Security" not in headers

    status, headers, page = browser.open("/help-now")
    assert status == 200 and 'href="tel:112"' in page
    assert_onion_page(headers, page)
    status, headers, page = browser.open("/key/")  # a page with a form: the session cookie holds its token
    assert status == 200 and 'name="csrf_token"' in page
    cookies = [cookie for cookie in browser.set_cookies if cookie.startswith("pause-onion=")]
    assert cookies, browser.set_cookies
    for cookie in browser.set_cookies:
        assert "secure" not in cookie.lower() and not cookie.startswith("__Host-"), cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_visitor_journey_works_through_the_onion_service(onion_site):
    browser = TorBrowser(onion_site["onion_port"], circuit=2)

    # The language choice holds (the cookie came back), in Dutch.
    status, _, page = browser.follow("/language/nl?next=/self-help/")
    assert status == 200 and '<html lang="nl">' in page

    # A module: read a step, mark it done, see the progress.
    module = re.search(r'href="(/self-help/[a-z-]+)"', page).group(1)
    status, headers, overview = browser.open(module)
    assert_onion_page(headers, overview)
    step = re.search(rf'href="({module}/[a-z-]+)"', overview).group(1)
    status, headers, step_page = browser.open(step)
    assert status == 200
    assert_onion_page(headers, step_page)
    status, _, after = browser.follow(step + "/done", {"csrf_token": csrf_token_from(step_page)})
    assert status == 200
    assert re.search(r"1 van \d+ stap", browser.open("/self-help/")[2])

    # The self-check, to its result.
    for number in range(1, 30):
        status, headers, question = browser.open(f"/check/wellbeing/{number}")
        if status != 200 or 'name="answer"' not in question:
            break
        assert_onion_page(headers, question)
        # The last option of each question here: "most of the time", and "no" to the crisis question.
        last = re.findall(r'name="answer" id="[^"]+" value="([^"]+)"', question)[-1]
        status, headers, _ = browser.open(f"/check/wellbeing/{number}",
                                          {"csrf_token": csrf_token_from(question), "answer": last, "go": "next"})
        assert status in (302, 303), status
        if "/result" in headers["Location"]:
            break
    status, headers, result = browser.open("/check/wellbeing/result")
    assert status == 200 and "/booking/" in result
    assert_onion_page(headers, result)

    # An anonymous key.
    status, _, keys = browser.open("/key/")
    status, headers, created = browser.follow("/key/new", {"csrf_token": csrf_token_from(keys)})
    assert status == 200 and re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", created)
    assert_onion_page(headers, created)

    # Booking, to the key and back into the appointment with it.
    status, headers, choose = browser.open("/booking/?language=en&modality=video")
    assert_onion_page(headers, choose)
    slot = re.search(r'href="(/booking/book\?therapist=[^"]+)"', choose).group(1).replace("&amp;", "&")
    status, _, form = browser.open(slot)
    assert status == 200, form
    status, headers, booked = browser.follow(slot, {
        "csrf_token": csrf_token_from(form), "modality": "video", "language": "en", "note": "", "contact": "",
        "reminder_email": "", "calendar_title": ""})
    assert status == 200
    assert_onion_page(headers, booked)
    key = re.search(r'id="booking-key"><code>([0-9A-Z-]+)</code>', booked)
    other = TorBrowser(onion_site["onion_port"], circuit=3)
    manage = other.open("/booking/manage")[2]
    status, _, appointment = other.follow("/booking/manage", {"csrf_token": csrf_token_from(manage),
                                                              "key": key.group(1)})
    assert status == 200 and 'id="appointment-state">booked<' in appointment

    # Help now: a region, then a request to be contacted and its status by case code.
    status, _, contact = browser.open("/help-now/contact")
    assert status == 200
    assert_onion_page(*browser.open("/help-now/contact")[1:])
    contact = browser.open("/help-now/contact")[2]
    status, headers, opened = browser.follow("/help-now/contact", {
        "csrf_token": csrf_token_from(contact), "channel": "message", "contact": "", "time_window": "evening",
        "language": "nl", "message": "Graag een bericht"})
    assert status == 200, opened
    assert_onion_page(headers, opened)
    code = re.search(r"<code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})</code>", opened).group(1)
    status_page = other.open("/help-now/contact/status")[2]
    status, _, answer = other.follow("/help-now/contact/status", {"csrf_token": csrf_token_from(status_page),
                                                                   "code": code})
    assert status == 200 and code not in answer

    # Nothing of ours pointed at the clear web, and no cookie had the Secure flag.
    assert all("secure" not in cookie.lower() for cookie in browser.set_cookies + other.set_cookies)


def test_another_host_name_on_the_onion_port_is_not_served(onion_site):
    status, _, _ = TorBrowser(onion_site["onion_port"], circuit=4).open("/", host="someone-else.onion")
    assert status == 404


def test_nginx_logs_no_circuit_and_no_query(onion_site):
    TorBrowser(onion_site["onion_port"], circuit=5).open("/language/en?next=/")
    log = (onion_site["folder"] / "pause-onion.access.log").read_text()
    assert "next=" not in log and "fc00" not in log and "Python-urllib" not in log
