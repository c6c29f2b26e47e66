"""Live text sessions benchmark: many sessions at once through nginx, on PostgreSQL and Redis.

    .venv/bin/python deploy/bench/live.py [--sessions 500] [--seconds 60] [--every 5]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/pause_bench_live]
        [--redis-url redis://127.0.0.1:6379/14]

Starts the production layout: the page workers (deploy/gunicorn.conf.py), the event-stream
server (deploy/gunicorn-live.conf.py) and nginx with the shipped site file (and its
deploy/nginx/live.conf), plain HTTP for the benchmark (PAUSE_ENV=testing, so cookies are
not Secure, as in deploy/bench/web.py). Makes N walk-in sessions already picked up (one
visitor and one counsellor each: 2N participants), opens every participant's event
stream, then has each participant send a message every `--every` seconds for
`--seconds` seconds (through the same form post the page's script uses), starting at
random moments so the sends spread out.

Reports: delivery latency from the send to its arrival on the other participant's
stream (p50, p99, max), messages lost (acknowledged by the server but never shown to the
other side), duplicates (one message shown twice to one participant), resident memory of
every process, and the home page's throughput (wrk, through nginx) while the sessions
run against the same measured just before, with none.
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import json
import os
import pwd
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SECRET = "live-bench-secret-key-0123456789abcdef"  # noqa: S105 - a throw-away benchmark database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def wait_for_answers(port: int, path: str = "/healthz", seconds: int = 300) -> None:
    """The masters listen at once; their workers answer only once the app is loaded,
    which on a busy machine takes tens of seconds. Any answer from the app will do."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5):  # noqa: S310
                return
        except urllib.error.HTTPError as answer:
            if answer.code < 500:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{path} was never answered")


def prepare_database(url: str, environment: dict) -> None:
    from sqlalchemy import create_engine, text

    admin_url, name = url.rsplit("/", 1)
    admin = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    flask = [sys.executable, "-m", "flask", "--app", "service"]
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=environment, check=True, capture_output=True)


def make_sessions(environment: dict, count: int) -> tuple[list[tuple[int, str, str]], str]:
    """N walk-in sessions, each picked up by one of N/10 counsellors. Returns, per session,
    (live id, visitor cookie as name=value, staff cookie value), and the staff cookie's name."""
    import datetime as dt

    from service import create_app
    from service.auth import sessions as staff_sessions
    from service.auth.access import cookie_name
    from service.auth.models import StaffMember, StaffRole
    from service.clock import clock
    from service.conversations import live
    from service.db import db

    saved = dict(os.environ)
    os.environ.update(environment)
    app = create_app()
    os.environ.clear()
    os.environ.update(saved)
    # Each visitor's session is stored on the server the way the app stores it
    # (service/sessions.py): the cookie holds only the random id.
    interface = app.session_interface
    made = []
    with app.app_context():
        with db.transaction() as session:
            live.set_staffed_hours(session, "en", [(day, dt.time(0), dt.time(23, 59)) for day in range(7)])
            counsellors, tokens = [], []
            for number in range(max(1, count // 10)):
                staff = StaffMember(username=f"bench{number}", display_name=f"Bench {number}",
                                    email=f"bench{number}@example.org", password_hash=None, totp_secret_sealed=None,
                                    created_at=clock.now(), enrolled_at=clock.now(), disabled_at=None)
                staff.roles = [StaffRole(role="counsellor")]
                session.add(staff)
                session.flush()
                counsellors.append(staff)
                tokens.append(staff_sessions.start(session, staff, staff_sessions.SIGNED_IN))
            for number in range(count):
                walk_in = live.join_walk_in(session, "en", "", None, clock.now())
                holder = number % len(counsellors)
                live.pick_up(session, counsellors[holder], walk_in.id, clock.now())
                made.append((walk_in.id, walk_in.id, tokens[holder]))
        with app.test_request_context():
            name, visitor_name = cookie_name(), interface.get_cookie_name(app)
            for index, (live_id, _, token) in enumerate(made):
                sid = interface._generate_sid(interface.sid_length)
                interface._upsert_session(None, interface.session_class({"live_session": live_id}, sid=sid), sid)
                made[index] = (live_id, f"{visitor_name}={sid}", token)
    return made, name


# A small HTTP/1.1 client on asyncio: 2 connections per participant (the stream and a
# keep-alive connection for its posts), as a browser holds them.


async def read_head(reader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ": " in line:
            key, value = line.split(": ", 1)
            headers.setdefault(key.lower(), []).append(value) if key.lower() == "set-cookie" else \
                headers.__setitem__(key.lower(), value)
    return status, headers


async def read_body(reader, headers) -> bytes:
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]
    return await reader.readexactly(int(headers.get("content-length", 0)))


class Participant:
    def __init__(self, bench, live_id: int, side: str, cookie: str) -> None:
        self.bench, self.live_id, self.side, self.cookie = bench, live_id, side, cookie
        self.page = "/live/" if side == "visitor" else f"/staff/live/{live_id}"
        self.events = "/live/events" if side == "visitor" else f"/staff/live/{live_id}/events"
        self.say = "/live/say" if side == "visitor" else f"/staff/live/{live_id}/say"
        self.token = ""
        self.connected = asyncio.Event()
        self.seen: set[int] = set()
        self.last_id = 0

    def request(self, method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Cookie: {self.cookie}", extra]
        if body:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        return ("\r\n".join(line for line in lines if line) + "\r\n\r\n").encode() + body

    async def start(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
        writer.write(self.request("GET", self.page))
        status, headers = await read_head(reader)
        page = (await read_body(reader, headers)).decode()
        assert status == 200, (self.page, status)
        for cookie in headers.get("set-cookie", []):
            name_value = cookie.split(";", 1)[0]
            name = name_value.split("=", 1)[0]
            self.cookie = "; ".join([part for part in self.cookie.split("; ") if not part.startswith(name + "=")]
                                    + [name_value])
        self.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self.post_connection = (reader, writer)

    async def listen(self) -> None:
        """As a browser's EventSource: when the stream ends or breaks, reconnect after the
        server's retry time, sending Last-Event-ID."""
        while True:
            try:
                await self.listen_once()
            except (ConnectionError, asyncio.IncompleteReadError, AssertionError, ValueError):
                pass
            self.bench.reconnections += 1
            await asyncio.sleep(1.5)

    async def listen_once(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
        self.stream_writer = writer
        resume = f"\r\nLast-Event-ID: {self.last_id}" if self.last_id else ""
        writer.write(self.request("GET", self.events + "?after=0", extra="Accept: text/event-stream" + resume))
        status, headers = await read_head(reader)
        assert status == 200 and headers.get("content-type", "").startswith("text/event-stream"), status
        chunked = headers.get("transfer-encoding") == "chunked"
        buffer = ""
        while True:
            if chunked:
                size_line = await reader.readline()
                if not size_line:
                    return
                size = int(size_line.strip(), 16)
                data = (await reader.readexactly(size + 2))[:-2]
                if size == 0:
                    return
            else:
                data = await reader.read(65536)
                if not data:
                    return
            buffer += data.decode()
            while "\n\n" in buffer:
                event, buffer = buffer.split("\n\n", 1)
                self.on_event(event)

    def on_event(self, event: str) -> None:
        fields = {}
        for line in event.split("\n"):
            if line and not line.startswith(":") and ": " in line:
                key, value = line.split(": ", 1)
                fields[key] = value
        if fields.get("event") == "state":
            self.connected.set()
        if fields.get("event") != "message":
            return
        arrived = time.time()
        message_id = int(fields["id"])
        if message_id in self.seen:
            self.bench.duplicates += 1
            return
        self.seen.add(message_id)
        self.last_id = max(self.last_id, message_id)
        text = json.loads(fields["data"])["text"]
        match = re.match(r"bench (\d+) (visitor|staff) (\d+) (\d+\.\d+)$", text)
        if match and match.group(2) != self.side:
            self.bench.delivered[(int(match.group(1)), match.group(2), int(match.group(3)))] = \
                arrived - float(match.group(4))

    async def talk(self, until: float, every: float) -> None:
        await asyncio.sleep(random.uniform(0, every))  # noqa: S311 - spreading load, not security
        reader, writer = self.post_connection
        number = 0
        while time.time() < until:
            started = time.time()
            text = f"bench {self.live_id} {self.side} {number} {started:.6f}"
            body = f"csrf_token={self.token}&body={text.replace(' ', '+')}".encode()
            try:
                writer.write(self.request("POST", self.say, body, extra="Accept: application/json"))
                status, headers = await read_head(reader)
                await read_body(reader, headers)
            except (ConnectionError, asyncio.IncompleteReadError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
                self.bench.errors += 1
                continue
            if status == 204:
                self.bench.acknowledged.add((self.live_id, self.side, number))
            else:
                self.bench.errors += 1
                self.bench.failed_statuses[status] = self.bench.failed_statuses.get(status, 0) + 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
            number += 1
            await asyncio.sleep(max(0.0, every - (time.time() - started)))


class Bench:
    def __init__(self, port: int) -> None:
        self.port = port
        self.delivered: dict[tuple, float] = {}
        self.acknowledged: set[tuple] = set()
        self.duplicates = 0
        self.errors = 0
        self.reconnections = 0
        self.failed_statuses: dict[int, int] = {}


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk_home(port: int, seconds: int) -> float:
    result = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
                            capture_output=True, text=True, check=True)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/pause_bench_live")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("The benchmark needs Debian's wrk (make wrk).")
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    tmp = Path(tempfile.mkdtemp(prefix="pause-live-bench-"))
    environment = {**os.environ, "PAUSE_ENV": "testing", "PAUSE_DATABASE_URL": arguments.database_url,
                   "PAUSE_SECRET_KEY": SECRET, "PAUSE_DATA_KEY": Fernet.generate_key().decode(),
                   "PAUSE_REDIS_URL": arguments.redis_url, "PAUSE_TRUSTED_PROXIES": "1",
                   # One address (127.0.0.1) stands for every participant: the per-client
                   # limit would count them all together.
                   "PAUSE_LIVE_CLIENT_RATE_LIMIT": "1000000 per minute"}
    subprocess.run(["redis-cli", "-u", arguments.redis_url, "FLUSHDB"], check=True, capture_output=True)
    prepare_database(arguments.database_url, environment)
    made, staff_cookie = make_sessions(environment, arguments.sessions)

    page_port, live_port, nginx_port = free_port(), free_port(), free_port()
    logs = [open(tmp / name, "wb") for name in ("pages.log", "live.log")]  # noqa: SIM115 - closed below
    pages = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
                              "service:create_app()"], cwd=ROOT, stdout=logs[0], stderr=subprocess.STDOUT,
                             env={**environment, "PAUSE_BIND": f"127.0.0.1:{page_port}"})
    streams = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn-live.conf.py",
                                "service:create_app()"], cwd=ROOT, stdout=logs[1], stderr=subprocess.STDOUT,
                               env={**environment, "PAUSE_LIVE_BIND": f"127.0.0.1:{live_port}"})
    site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
    site = site.split("server {", 1)[0] + "server {" + site.split("server {", 2)[2]  # no port-80 redirect
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{nginx_port};"), ("listen [::]:443 ssl http2;", ""),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{page_port};"),
                     ("server 127.0.0.1:8001;", f"server 127.0.0.1:{live_port};"),
                     ("/var/log/nginx/", f"{tmp}/"), ("/var/cache/nginx/", f"{tmp}/"), ("/opt/pause/app/", f"{ROOT}/")):
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "ssl_" not in line)
    (tmp / "site.conf").write_text(site)
    # nginx's workers run as the checkout's owner (as in web.py): run as root, they would
    # otherwise be "nobody", who cannot open the cache folder made here.
    owner = ROOT.stat()
    (tmp / "nginx.conf").write_text(
        f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
        f"worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
        "worker_rlimit_nofile 16384; events { worker_connections 8192; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {tmp}/body; "
        f"proxy_temp_path {tmp}/proxy; include {tmp}/site.conf; }}\n")
    nginx = subprocess.Popen([nginx_binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"])
    try:
        for port in (page_port, live_port, nginx_port):
            wait_for(port)
        for _ in range(6):  # each of the page workers, twice
            wait_for_answers(nginx_port)
        wait_for_answers(nginx_port, "/live/events")  # the stream server: 404 without a session
        wrk_home(nginx_port, 2)  # warm-up
        before = wrk_home(nginx_port, arguments.wrk_seconds)
        results = asyncio.run(run_sessions(nginx_port, made, staff_cookie, arguments,
                                           [pages.pid, streams.pid, nginx.pid]))
        results["home_before"] = before
        report(results, arguments)
    finally:
        for process in (nginx, pages, streams):
            process.terminate()
        for process in (nginx, pages, streams):
            process.wait(timeout=30)
        for log in logs:
            log.close()


async def run_sessions(port: int, made, staff_cookie: str, arguments, roots: list[int]) -> dict:
    bench = Bench(port)
    participants = []
    for live_id, visitor_cookie, staff_token in made:
        participants.append(Participant(bench, live_id, "visitor", visitor_cookie))
        participants.append(Participant(bench, live_id, "staff", f"{staff_cookie}={staff_token}"))
    # Connect in batches, as people arrive, rather than 2,000 connections in one instant.
    for start in range(0, len(participants), 50):
        await asyncio.gather(*(participant.start() for participant in participants[start:start + 50]))
    listeners = [asyncio.create_task(participant.listen()) for participant in participants]
    await asyncio.wait_for(asyncio.gather(*(participant.connected.wait() for participant in participants)), 120)
    until = time.time() + arguments.seconds
    talkers = [asyncio.create_task(participant.talk(until, arguments.every)) for participant in participants]
    loop = asyncio.get_running_loop()
    await asyncio.sleep(min(20, arguments.seconds / 3))
    memory = {}
    for root in roots:
        for pid in process_tree(root):
            try:
                memory[pid] = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:90],
                               rss_mib(pid))
            except OSError:
                continue
    during = await loop.run_in_executor(None, wrk_home, port, arguments.wrk_seconds)
    await asyncio.gather(*talkers)
    await asyncio.sleep(10)  # the last messages' delivery
    for task in listeners:
        task.cancel()
    for participant in participants:
        participant.stream_writer.close()
    return {"bench": bench, "home_during": during, "memory": memory, "participants": len(participants)}


def report(results: dict, arguments) -> None:
    bench = results["bench"]
    latencies = sorted(bench.delivered[key] * 1000 for key in bench.acknowledged if key in bench.delivered)
    lost = len([key for key in bench.acknowledged if key not in bench.delivered])

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else float("nan")

    print(f"\n{arguments.sessions} sessions, {results['participants']} participants, a message every "
          f"{arguments.every:g} s each for {arguments.seconds} s\n")
    print("| messages acknowledged | delivered | lost | duplicates | failed posts | stream reconnections | "
          "p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {len(bench.acknowledged)} | {len(latencies)} | {lost} | {bench.duplicates} | {bench.errors} | "
          f"{bench.reconnections} | "
          f"{statistics.median(latencies) if latencies else float('nan'):.1f} | {percentile(0.99):.1f} | "
          f"{latencies[-1] if latencies else float('nan'):.1f} |")
    if bench.failed_statuses:
        print(f"\nfailed posts by status: {dict(sorted(bench.failed_statuses.items()))}")
    ratio = results["home_during"] / results["home_before"] if results["home_before"] else float("nan")
    print(f"\n| home page, wrk 16 connections | requests/s |\n| --- | --- |\n"
          f"| no session running | {results['home_before']:,.0f} |\n"
          f"| during the sessions | {results['home_during']:,.0f} |\n| ratio | {ratio:.2f} |")
    print("\n| process | resident memory MiB |\n| --- | --- |")
    for _pid, (command, rss) in sorted(results["memory"].items()):
        print(f"| {command} | {rss:.0f} |")


if __name__ == "__main__":
    main()
