"""HTTP benchmark through the production path: wrk against nginx (the shipped site file,
TLS, its micro-cache) in front of gunicorn with the production configuration on
PostgreSQL and Redis.

    .venv/bin/python deploy/bench/web.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/pause_bench]
                                         [--redis-url redis://127.0.0.1:6379/15] [--seconds 10]

Two reference rows: nginx serving a static file as large as the home page (the physical
limit) and a bare Flask "hello world" through the same nginx -> gunicorn path. Then the
home page and a module overview for first visits (no cookie: nginx's micro-cache), a
module step for a first visit (a page with a form: Python), the same step for a
returning reader with progress in their session, the booking slot list, and an
assessment answer (POST), at 16 and 64 connections, as a Markdown table with requests
per second, the ratios to the reference rows, p50/p95/p99 latency and errors (the
median of interleaved rounds). Then each gunicorn worker's resident memory, and staff
sign-in with a wrong password. Needs Debian's wrk and nginx.
"""

from __future__ import annotations

import argparse
import grp
import http.cookiejar
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(150):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def wrk(url: str, connections: int, seconds: int, script: Path, extra_env: dict | None = None) -> dict:
    result = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                            capture_output=True, text=True, env={**os.environ, **(extra_env or {})}, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    subprocess.run([*flask, "seed", "--demo"], cwd=ROOT, env={**environment, "PAUSE_ENV": "testing"}, check=True,
                   capture_output=True)


def _opener(jar: http.cookiejar.CookieJar):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the benchmark's own self-signed certificate
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                       urllib.request.HTTPSHandler(context=context))


def cookie_and_token(base: str, path: str, jar: http.cookiejar.CookieJar | None = None) -> tuple[str, str]:
    """A session cookie and the CSRF token of the form on that page, as a browser gets them."""
    jar = http.cookiejar.CookieJar() if jar is None else jar
    page = _opener(jar).open(base + path).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return "; ".join(f"{item.name}={item.value}" for item in jar), token


def returning_reader(base: str) -> str:
    """The cookie of a reader without a key who marked a step done: progress in the session."""
    jar = http.cookiejar.CookieJar()
    _, token = cookie_and_token(base, "/self-help/understanding-your-thoughts/thoughts-are-not-actions", jar)
    _opener(jar).open(base + "/self-help/understanding-your-thoughts/thoughts-are-not-actions/done",
                      data=urllib.parse.urlencode({"csrf_token": token}).encode()).read()
    return "; ".join(f"{item.name}={item.value}" for item in jar)


def start_nginx(folder: Path, app_port: int, hello_port: int, home_page: bytes) -> tuple[subprocess.Popen, int]:
    """nginx with the shipped site file, plus the two reference locations."""
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
                   check=True, capture_output=True)
    (folder / "static-home.html").write_bytes(home_page)
    http_port, https_port = free_port(), free_port()
    site = (ROOT / "deploy" / "nginx" / "pause.conf").read_text()
    references = (f"upstream bench_hello {{ server 127.0.0.1:{hello_port}; keepalive 16; }}\n")
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl;"), ("listen [::]:443 ssl http2;", ""),
        ("server_name pause.example.org;", "server_name localhost;"),
        ("/etc/ssl/pause/", f"{folder}/"), ("/var/log/nginx/", f"{folder}/"), ("/var/cache/nginx/", f"{folder}/"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("/opt/pause/app/", f"{ROOT}/"),
        ("    location / {\n", "    location = /bench/static.html {\n"
                              f"        alias {folder}/static-home.html;\n"
                              "        include " + str(ROOT) + "/deploy/nginx/security-headers.conf;\n"
                              "        access_log off;\n    }\n"
                              "    location = /bench/hello {\n        proxy_pass http://bench_hello/;\n"
                              "        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n"
                              "        access_log off;\n    }\n"
                              "    location / {\n"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (folder / "site.conf").write_text(references + site)
    owner = ROOT.stat()
    (folder / "nginx.conf").write_text(
        f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"
        f"worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {folder}/body; "
        f"proxy_temp_path {folder}/proxy; include {folder}/site.conf; }}\n")
    checked = subprocess.run([nginx_binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                             capture_output=True, text=True)
    if checked.returncode:
        raise SystemExit(checked.stderr)
    nginx = subprocess.Popen([nginx_binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(https_port)
    return nginx, https_port


def worker_memory(master: int) -> list[int]:
    """Resident memory of each worker of a gunicorn master, in MiB."""
    sizes = []
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) // 1024)
    return sizes


def assessment_post(base: str) -> tuple[str, str]:
    """A session cookie and a form body answering question 1 of the wellbeing check."""
    cookie, token = cookie_and_token(base, "/check/wellbeing/1")
    return cookie, urllib.parse.urlencode({"csrf_token": token, "answer": "never", "go": "next"})


def sign_in_post(base: str) -> tuple[str, str]:
    """A session cookie and a sign-in form with a wrong password for a made-up account."""
    cookie, token = cookie_and_token(base, "/staff/login")
    return cookie, urllib.parse.urlencode({"csrf_token": token, "username": "bench-nobody",
                                           "password": "not the password, long enough"})


def argon2id_milliseconds() -> float:
    sys.path.insert(0, str(ROOT))
    from service.hashing import anonymous_key_digest

    started = time.perf_counter()
    for number in range(10):
        anonymous_key_digest(f"BENCH{number:020d}")
    return (time.perf_counter() - started) * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/pause_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15",
                        help="rate-limit storage, as in production; emptied first")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per target; the median is shown")
    arguments = parser.parse_args()
    import redis

    redis.Redis.from_url(arguments.redis_url).flushdb()
    environment = {**os.environ, "PAUSE_ENV": "production", "PAUSE_DATABASE_URL": arguments.database_url,
                   "PAUSE_REDIS_URL": arguments.redis_url,
                   "PAUSE_SECRET_KEY": "bench-secret-key-0123456789abcdef", "PAUSE_DATA_KEY": Fernet.generate_key().decode(),
                   "PAUSE_SMTP_PORT": "1"}
    prepare_database(arguments.database_url, environment)
    app_port, hello_port = free_port(), free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
    servers = [
        subprocess.Popen([*gunicorn, "service:create_app()"], cwd=ROOT,
                         env={**environment, "PAUSE_BIND": f"127.0.0.1:{app_port}", "PAUSE_TRUSTED_PROXIES": "1"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([*gunicorn, "hello:app"], cwd=HERE, env={**environment, "PAUSE_BIND": f"127.0.0.1:{hello_port}"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    folder = Path(tempfile.mkdtemp(prefix="pause-bench-"))
    try:
        wait_for(app_port)
        wait_for(hello_port)
        home = urllib.request.urlopen(f"http://127.0.0.1:{app_port}/").read()  # noqa: S310 - our own server
        nginx, https_port = start_nginx(folder, app_port, hello_port, home)
        servers.append(nginx)
        base = f"https://localhost:{https_port}"
        page = _opener(http.cookiejar.CookieJar()).open(base + "/booking/?language=en").read().decode()
        assert "/booking/book?" in page, "the demo therapist's slots are listed"
        cookie, body = assessment_post(base)
        reader = returning_reader(base)
        report = HERE / "report.lua"
        step = base + "/self-help/understanding-your-thoughts/noticing-patterns"
        targets = [
            ("static file, size of the home page (nginx)", base + "/bench/static.html", report, None),
            ("hello world (nginx -> gunicorn)", base + "/bench/hello", report, None),
            ("home page, first visit", base + "/", report, None),
            ("module overview, first visit", base + "/self-help/understanding-your-thoughts", report, None),
            ("module step, first visit (a form: Python)", step, report, None),
            ("module step, returning reader (session)", step, HERE / "get.lua",
             {"BENCH_COOKIE": reader, "BENCH_REPORT": str(report)}),
            ("booking slot list, first visit", base + "/booking/?language=en", report, None),
            ("assessment answer (POST, session)", base + "/check/wellbeing/1", HERE / "post.lua",
             {"BENCH_BODY": body, "BENCH_COOKIE": cookie, "BENCH_REPORT": str(report)}),
        ]
        # This machine is shared and its speed comes and goes by the minute: each target is
        # measured in several rounds, interleaved so that slow moments fall on all targets
        # alike, and the round with the median throughput is reported (errors: all rounds).
        runs: dict[tuple[str, int], list[dict]] = {}
        for round_number in range(arguments.rounds):
            for connections in (16, 64):
                for name, url, script, extra in targets:
                    if round_number == 0:
                        # Warm-up, not measured: the first requests of each worker compile
                        # templates and fill the page caches, as on any server after a start.
                        wrk(url, connections, 2, script, extra)
                    runs.setdefault((name, connections), []).append(
                        wrk(url, connections, arguments.seconds, script, extra))
        rows = []
        for connections in (16, 64):
            chosen = {}
            for name, *_ in targets:
                measured = sorted(runs[name, connections], key=lambda run: run["requests"] / run["seconds"])
                chosen[name] = (measured[len(measured) // 2], sum(run["errors"] for run in measured))
            rates = {name: numbers["requests"] / numbers["seconds"] for name, (numbers, _) in chosen.items()}
            static, hello = rates[targets[0][0]], rates[targets[1][0]]
            for name, (numbers, errors) in chosen.items():
                rate = rates[name]
                rows.append(f"| {name} | {connections} | {rate:,.0f} | {rate / static:.2f} | {rate / hello:.2f} "
                            f"| {numbers['p50_ms']:.1f} | {numbers['p95_ms']:.1f} | {numbers['p99_ms']:.1f} "
                            f"| {errors} |")
        print(f"Median of {arguments.rounds} rounds of {arguments.seconds} s per target.\n")
        print("| target | connections | requests/s | × static file | × hello world | p50 ms | p95 ms | p99 ms "
              "| errors |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(rows))
        print(f"\nResident memory of each Pause worker after the run: "
              f"{', '.join(f'{size} MiB' for size in worker_memory(servers[0].pid))}")

        # Staff sign-in is slow on purpose: argon2id, at most 4 hashes at once per
        # process, and throttles (per client, per account) that answer before any hash.
        cookie, body = sign_in_post(base)
        numbers = wrk(base + "/staff/login", 16, arguments.seconds, HERE / "signin.lua",
                      {"BENCH_BODY": body, "BENCH_COOKIE": cookie})
        hash_ms = argon2id_milliseconds()
        print()
        print("| staff sign-in, wrong password, 16 connections | requests/s | hashed (401) | throttled (429) "
              "| other | p50 ms | p99 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print(f"| one client, one account | {numbers['requests'] / numbers['seconds']:,.0f} | {numbers['hashed']} "
              f"| {numbers['throttled']} | {numbers['other']} | {numbers['p50_ms']:.1f} | {numbers['p99_ms']:.1f} |")
        print(f"\nargon2id (m=19 MiB, t=2, p=1): {hash_ms:.0f} ms a hash; with 4 at once a process computes at "
              f"most {4000 / hash_ms:,.0f} a second, whatever the load.")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
