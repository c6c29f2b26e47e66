"""Fault injection under load (issue 20): the production setup (gunicorn with
deploy/gunicorn.conf.py behind the shipped nginx site over HTTPS, PostgreSQL, Redis, the
scheduler, an SMTP server) under a steady mixed load (page views, self-check, bookings),
while faults are injected one after the other.

    .venv/bin/python deploy/bench/faults.py [--seconds 8]      (or: make faults)

PostgreSQL and Redis are servers of this script's own (a private cluster made with
initdb on a free port, a redis-server on a free port: tests/support/), so freezing
their processes hurts no one. The SMTP server is aiosmtpd, in this process.

For each scenario it prints the answers the visitors got (all, the translated 503,
anything else that was not a page: a plain 500, nginx's 502/504, no answer), the
slowest answer, the data lost or duplicated (bookings answered to the visitor and their
rows; mail queued and mail received), and the recovery time (from the end of the fault
until /healthz answers 200 again through nginx, or until the last mail arrived).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import grp
import http.client
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess  # nosec B404 - this script's own servers, fixed arguments
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from tests.support.private_postgres import PrivatePostgres, free_port  # noqa: E402
from tests.support.private_redis import PrivateRedis  # noqa: E402

SECRET = "faults-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway portal of this script
DATA_KEY = Fernet.generate_key().decode()
PAGES = ("/", "/help-now", "/self-help/understanding-your-thoughts/noticing-patterns", "/check/",
         "/booking/?language=en", "/about")
SLOW = 3.0
REFUSED = [0]  # booking forms answered with a page but no booking, over the whole run


# A visitor: one keep-alive HTTPS connection to nginx, from an address of its own ----------


class Visitor:
    def __init__(self, port: int, source: str) -> None:
        self.port, self.source, self.cookies = port, source, {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # this script's own self-signed certificate
        self.connection = None

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Host": "localhost", "Accept-Language": "fr"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context,
                                                              timeout=40, source_address=(self.source, 0))
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    return 0, {}, ""
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, content = cookie.partition("=")
                self.cookies[key.strip()] = content
        return response.status, {name.lower(): value for name, value in response.getheaders()}, text


@dataclass
class Answer:
    at: float
    seconds: float
    status: int
    kind: str  # page, translated-503, plain-500, nginx, none, other
    path: str = ""


def classify(status: int, headers: dict, text: str) -> str:
    if status == 0:
        return "none"
    if status in (200, 302, 303, 422):
        return "page"
    if status == 503 and "tel:112" in text and "content-security-policy" in headers and 'lang="fr"' in text:
        return "translated-503"
    if status == 500 and "Internal Server Error" in text:
        return "plain-500"
    if status in (502, 504) or (status == 503 and "_errors" in text):
        return "nginx"
    return f"other-{status}"


class Load:
    """Page readers, a self-check reader and a booker, all the time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.bookings: list[dict] = []  # what the visitors were told
        self.refused = 0
        self.stalls: Counter = Counter()
        self.health: list[tuple[float, int]] = []
        self.booking_sources = iter(f"127.0.{third}.{fourth}" for third in range(2, 200) for fourth in range(1, 250))
        self.threads = [threading.Thread(target=self.read, args=(f"127.0.1.{n}",), daemon=True) for n in range(1, 5)]
        self.threads.append(threading.Thread(target=self.book, daemon=True))
        self.threads.append(threading.Thread(target=self.probe, daemon=True))

    def probe(self) -> None:
        """/healthz through nginx every 50 ms: when the portal is back."""
        visitor = Visitor(self.port, "127.0.0.250")
        while not self.stopping.is_set():
            started = time.monotonic()
            self.health.append((started, visitor.request("GET", "/healthz")[0]))
            time.sleep(0.05)

    def back_after(self, moment: float, within: float = 30) -> float | None:
        """Seconds from `moment` to the first /healthz 200 that was asked at or after it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for asked, status in list(self.health):
                if asked >= moment and status == 200:
                    return max(asked - moment, 0.0)
            time.sleep(0.1)
        return None

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def _note(self, started: float, status: int, headers: dict, text: str, path: str = "") -> str:
        kind = classify(status, headers, text)
        self.answers.append(Answer(started, time.monotonic() - started, status, kind, path))
        return kind

    def read(self, source: str) -> None:
        visitor = Visitor(self.port, source)
        while not self.stopping.is_set():
            for path in PAGES:
                started = time.monotonic()
                self._note(started, *visitor.request("GET", path), path=path)
                time.sleep(0.05)

    def book(self) -> None:
        """One booking after another, each from a new visitor (the limit is 10 an hour per
        client); a booking whose answer was not a page is sent again, the same form, until
        it is (at most 40 s), as a visitor would."""
        while not self.stopping.is_set():
            try:
                self._book_once()
            except Exception as error:  # noqa: BLE001 - counted and shown; the booker carries on
                self.stalls[f"booker error {type(error).__name__}"] += 1
                time.sleep(0.5)

    def _book_once(self) -> None:
        visitor = Visitor(self.port, next(self.booking_sources))
        started = time.monotonic()
        status, headers, text = visitor.request("GET", "/booking/?language=en")
        if self._note(started, status, headers, text, "booking list") != "page":
            time.sleep(0.5)
            return
        links = re.findall(r'href="(/booking/book\?[^"]+)"', text)
        if not links:
            self.stalls["no free time listed"] += 1
            time.sleep(0.5)
            return
        link = links[len(self.bookings) * 7 % len(links)].replace("&amp;", "&")
        started = time.monotonic()
        status, headers, text = visitor.request("GET", link)
        if self._note(started, status, headers, text, "booking form") != "page" or 'name="attempt"' not in text:
            self.stalls[f"booking form {status}"] += 1
            time.sleep(0.5)
            return
        form = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1),
                "attempt": re.search(r'name="attempt" type="hidden" value="([^"]+)"', text).group(1),
                "modality": "phone", "language": "en", "note": "", "contact": "+32 470 12 34 56",
                "reminder_email": "", "calendar_title": ""}
        deadline = time.monotonic() + 40
        told = None
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, headers, text = visitor.request("POST", link, form)
            kind = self._note(started, status, headers, text, "booking post")
            if kind == "page":
                found = re.search(r'id="booking-key"><code>([0-9A-Z-]+)</code>', text)
                if found:
                    told = found.group(1)
                else:
                    self.refused += 1  # the slot was taken meanwhile, or the form refused
                break
            time.sleep(0.5)
        self.bookings.append({"attempt": form["attempt"], "key": told, "at": time.monotonic()})
        time.sleep(1.0)


# The scenarios --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    answers: list[Answer] = field(default_factory=list)
    lost: str = "0"
    duplicated: str = "0"
    recovery: str = "-"


class MailServer:
    """aiosmtpd, slowed down a little per recipient so a round of mail takes a while."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.received: list[tuple[float, str]] = []
        self.recipients_asked: list[str] = []
        self.up = threading.Event()
        self.up.set()
        server = self

        class Handler:
            async def handle_RCPT(self, _server, _session, envelope, address, _options):
                if not server.up.is_set():
                    return "421 4.3.2 service not available"
                server.recipients_asked.append(address)
                await asyncio.sleep(0.1)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, _server, _session, envelope):
                server.received.extend((time.monotonic(), address) for address in envelope.rcpt_tos)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def count(self, prefix: str) -> Counter:
        return Counter(address for _, address in self.received if address.startswith(prefix))


class Portal:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.folder = Path(tempfile.mkdtemp(prefix="pause-faults-"))
        self.postgres = PrivatePostgres().start()
        self.redis = PrivateRedis().start()
        self.mail = MailServer()
        self.processes: list[subprocess.Popen] = []
        self.environment = {
            **os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": self.postgres.url,
            "PAUSE_SECRET_KEY": SECRET, "PAUSE_DATA_KEY": DATA_KEY, "PAUSE_REDIS_URL": self.redis.url(8),
            "PAUSE_TRUSTED_PROXIES": "1", "PAUSE_WORKERS": "2", "PAUSE_THREADS": "4",
            "PAUSE_BASE_URL": "https://localhost", "PAUSE_SMTP_HOST": "127.0.0.1",
            "PAUSE_SMTP_PORT": str(self.mail.port)}
        flask = [sys.executable, "-m", "flask", "--app", "service"]
        for command, env in ((["db", "upgrade"], {}), (["seed"], {}), (["seed", "--demo"], {"PAUSE_ENV": "testing"})):
            subprocess.run([*flask, *command], cwd=ROOT, env={**self.environment, **env}, check=True,  # nosec B603
                           capture_output=True)
        self.app_port = free_port()
        self.gunicorn = self._start([sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
                                     "service:create_app()"], {"PAUSE_BIND": f"127.0.0.1:{self.app_port}"}, "gunicorn")
        self.scheduler = self.start_scheduler()
        self.https_port = self._start_nginx()
        for port in (self.app_port, self.https_port):
            _wait_for(port)

    def _start(self, command: list[str], env: dict, name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - kept open as long as the process
        process = subprocess.Popen(command, cwd=ROOT, env={**self.environment, **env},  # nosec B603
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_scheduler(self) -> subprocess.Popen:
        return self._start([sys.executable, "-m", "flask", "--app", "service", "scheduler", "--interval", "5"], {},
                           "scheduler")

    def _start_nginx(self) -> int:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # nosec B603 B607
                        "-subj", "/CN=localhost", "-keyout", str(self.folder / "privkey.pem"),
                        "-out", str(self.folder / "fullchain.pem")], check=True, capture_output=True)
        http_port, https_port = free_port(), free_port()
        site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
        for old, new in (
            ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
            ("server_name pause.example.org;", "server_name localhost;"),
            ("/etc/ssl/pause/", f"{self.folder}/"), ("/var/log/nginx/", f"{self.folder}/"),
            ("/var/cache/nginx/", f"{self.folder}/"),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{self.app_port};"), ("/opt/pause/app/", f"{ROOT}/"),
        ):
            site = site.replace(old, new)
        (self.folder / "site.conf").write_text(site)
        owner = ROOT.stat()
        (self.folder / "nginx.conf").write_text(
            f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
            f"worker_processes 1; pid {self.folder}/nginx.pid; error_log {self.folder}/error.log;\n"
            "events { worker_connections 512; }\n"
            f"http {{ include /etc/nginx/mime.types; client_body_temp_path {self.folder}/body; "
            f"proxy_temp_path {self.folder}/proxy; include {self.folder}/site.conf; }}\n")
        self._start([nginx, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), "-g", "daemon off;"], {},
                    "nginx")
        return https_port

    def queue_mail(self, prefix: str, count: int, urgent: bool = False) -> None:
        from service import create_app, outbox
        from service.db import db

        app = create_app({"env": "testing", "database_url": self.postgres.url, "secret_key": SECRET,
                          "data_keys": (DATA_KEY,), "instance_path": str(self.folder / "instance")})
        with app.app_context():
            with db.transaction() as session:
                for number in range(count):
                    outbox.queue(session, f"{prefix}{number:02d}@example.org", "Pause: a note", "A note.",
                                 urgent=urgent)
            db.engine.dispose()

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.mail.controller.stop()
        self.redis.close()
        self.postgres.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_for(port: int) -> None:
    import socket

    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def bookings_check(portal: Portal, load: Load, since: float) -> tuple[str, str]:
    """Bookings told to visitors that have no row (lost), and rows no visitor was told of
    (held for no one) or told twice (duplicated)."""
    from sqlalchemy import create_engine, text

    from service.hashing import anonymous_key_digest
    from service.visitor.services import normalise_key

    told = [booking for booking in load.bookings if booking["at"] >= since]
    engine = create_engine(portal.postgres.url)
    with engine.connect() as connection:
        digests = Counter(bytes(row[0]) for row in connection.execute(text(
            "SELECT key_digest FROM bookings WHERE status = 'booked' AND key_digest IS NOT NULL "
            "AND created_at >= :started"), {"started": portal.started}))
    engine.dispose()
    known = {anonymous_key_digest(normalise_key(booking["key"])) for booking in load.bookings if booking["key"]}
    lost = sum(1 for booking in told if booking["key"] and not digests[anonymous_key_digest(normalise_key(
        booking["key"]))])
    unanswered = sum(1 for booking in told if not booking["key"])
    duplicated = sum(count - 1 for count in digests.values() if count > 1)
    held_for_no_one = sum(1 for digest in digests if digest not in known)
    return (f"{lost} of {len(told)} bookings" + (f" ({unanswered} never answered)" if unanswered else ""),
            f"{duplicated} bookings, {held_for_no_one} held for no one (whole run)")


def run_scenarios(portal: Portal, seconds: float) -> list[Result]:
    load = Load(portal.https_port)
    load.start()
    # Warm-up, not measured: the first requests of each worker load templates and caches.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (len(load.answers) > 50 and all(
            answer.kind == "page" for answer in load.answers[-20:])):
        time.sleep(0.5)
    time.sleep(3)
    results = []

    def window(name: str, fault) -> Result:
        import redis

        redis.Redis.from_url(portal.redis.url(8)).flushdb()  # a fresh hour of rate limits
        time.sleep(1)
        started = time.monotonic()
        ended = fault()
        back = load.back_after(ended)
        time.sleep(1)
        result = Result(name, [answer for answer in load.answers if answer.at >= started])
        result.recovery = f"{back:.2f} s" if back is not None else "not within 30 s"
        result.lost, result.duplicated = bookings_check(portal, load, started)
        return result

    def steady() -> float:
        time.sleep(seconds)
        return time.monotonic()

    def frozen_database() -> float:
        frozen = portal.postgres.freeze()
        time.sleep(seconds)
        portal.postgres.thaw(frozen)
        return time.monotonic()

    def ended_sessions() -> float:
        from sqlalchemy import create_engine, text

        engine = create_engine(portal.postgres.url)
        for _ in range(3):
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                        "pid <> pg_backend_pid() AND backend_type = 'client backend'"))
            time.sleep(seconds / 3)
        engine.dispose()
        return time.monotonic()

    def restarted_database() -> float:
        time.sleep(seconds / 2)
        portal.postgres.restart()
        ended = time.monotonic()
        time.sleep(seconds / 2)
        return ended

    def frozen_redis() -> float:
        portal.redis.freeze()
        time.sleep(seconds)
        portal.redis.thaw()
        return time.monotonic()

    for name, fault in (("no fault", steady), (f"PostgreSQL frozen (SIGSTOP, {seconds} s)", frozen_database),
                        ("sessions ended (pg_terminate_backend ×3)", ended_sessions),
                        ("PostgreSQL fast restart", restarted_database),
                        (f"Redis frozen (SIGSTOP, {seconds} s)", frozen_redis)):
        print(f"  {name} ...", flush=True)
        results.append(window(name, fault))

    for name, fault in (("scheduler killed mid-round (20 mails)", "kill"),
                        ("PostgreSQL restarted mid-round (20 mails)", "restart"),
                        ("mail server down 20 s (urgent retry)", "smtp")):
        print(f"  {name} ...", flush=True)
        results.append(mail_window(portal, load, name, fault))
    load.stop()
    REFUSED[0] = load.refused
    if load.stalls:
        print(f"  booker: {dict(load.stalls)}", flush=True)
    return results


def mail_window(portal: Portal, load: Load, name: str, fault: str) -> Result:
    prefix = f"{fault}-"
    started = time.monotonic()
    if fault == "smtp":
        portal.mail.up.clear()
        portal.queue_mail(prefix, 1, urgent=True)  # a duty alert
        time.sleep(20)
        portal.mail.up.set()
        ended = time.monotonic()
        expected = 1
    else:
        expected = 20
        portal.queue_mail(prefix, expected)
        # Mid-round: five sent, the sixth in the middle of its SMTP conversation.
        deadline = time.monotonic() + 60
        while sum(1 for address in portal.mail.recipients_asked if address.startswith(prefix)) < 6 \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        if fault == "kill":
            portal.scheduler.kill()
            portal.scheduler.wait(10)
            portal.scheduler = portal.start_scheduler()
        else:
            portal.postgres.restart()
        ended = time.monotonic()
    deadline = time.monotonic() + 90
    while len(portal.mail.count(prefix)) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)  # a message sent twice would arrive by now
    counts = portal.mail.count(prefix)
    arrivals = [at for at, address in portal.mail.received if address.startswith(prefix)]
    result = Result(name, [answer for answer in load.answers if answer.at >= started])
    result.lost = f"{expected - len(counts)} of {expected} mails"
    result.duplicated = f"{sum(count - 1 for count in counts.values())} mails"
    result.recovery = (f"{max(arrivals) - ended:.1f} s to the last mail" if arrivals and len(counts) == expected
                       else "not all mail within 90 s")
    return result


def table(results: list[Result]) -> str:
    lines = ["| scenario | answers | translated 503 | home, help-now not 200 | plain 500 | nginx 502/504 "
             f"| no answer | other | slowest | over {SLOW:.0f} s | lost | duplicated | recovery |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in results:
        kinds = Counter(answer.kind for answer in result.answers)
        other = sum(count for kind, count in kinds.items() if kind.startswith("other"))
        slowest = max((answer.seconds for answer in result.answers), default=0)
        slow = sum(1 for answer in result.answers if answer.seconds > SLOW)
        help_first = sum(1 for answer in result.answers if answer.path in ("/", "/help-now") and answer.status != 200)
        lines.append(f"| {result.name} | {len(result.answers)} | {kinds['translated-503']} | {help_first} "
                     f"| {kinds['plain-500']} "
                     f"| {kinds['nginx']} | {kinds['none']} | {other} | {slowest:.2f} s | {slow} | {result.lost} "
                     f"| {result.duplicated} | {result.recovery} |")
    return "\n".join(lines)


def main() -> None:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per command
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="how long each fault lasts")
    arguments = parser.parse_args()
    print("Starting a private PostgreSQL, Redis, SMTP server, gunicorn (deploy/gunicorn.conf.py, 2 workers × 4 "
          "threads), the scheduler and nginx (the shipped site, HTTPS) ...", flush=True)
    portal = Portal(arguments.seconds)
    try:
        results = run_scenarios(portal, arguments.seconds)
    finally:
        portal.close()
    print(f"\nFaults under load, {dt.date.today().isoformat()}: 4 readers, 1 booker, through nginx.\n")
    print(f"(bookings whose form was refused, the slot taken meanwhile: {REFUSED[0]})\n")
    print(table(results))


if __name__ == "__main__":
    main()
