"""HTTP benchmark: wrk against gunicorn with the production configuration on PostgreSQL
and Redis.

    .venv/bin/python deploy/bench/web.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/pause_bench]
                                         [--redis-url redis://127.0.0.1:6379/15] [--seconds 10]

Measures the home page, a module step, the booking page's slot list, an assessment
answer (POST), and a bare Flask "hello world" under the same gunicorn configuration as
the ceiling, at 16 and 64 connections, and prints a Markdown table with requests per
second, the ratio to hello world, p50/p95/p99 latency and errors (the median of three
interleaved rounds). Then staff sign-in
with a wrong password: how many answers computed an argon2id hash and how many the
throttle turned away first, and the cost of one hash. Needs Debian's wrk.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
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


def cookie_and_token(base: str, path: str) -> tuple[str, str]:
    """A session cookie and the CSRF token of the form on that page, as a browser gets them."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + path).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return "; ".join(f"{item.name}={item.value}" for item in jar), token


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
    # Plain HTTP straight to gunicorn: production cookies are Secure, so the benchmark
    # reads pages as a first-time visitor would, and posts with a session made here.
    app_port, hello_port = free_port(), free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
    servers = [
        subprocess.Popen([*gunicorn, "service:create_app()"], cwd=ROOT,
                         env={**environment, "PAUSE_ENV": "testing", "PAUSE_BIND": f"127.0.0.1:{app_port}"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([*gunicorn, "hello:app"], cwd=HERE, env={**environment, "PAUSE_BIND": f"127.0.0.1:{hello_port}"},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_for(app_port)
        wait_for(hello_port)
        base = f"http://127.0.0.1:{app_port}"
        page = urllib.request.urlopen(base + "/booking/?language=en").read().decode()  # noqa: S310 - our own server
        assert "/booking/book?" in page, "the demo therapist's slots are listed"
        cookie, body = assessment_post(base)
        report = HERE / "report.lua"
        targets = [
            ("hello world (ceiling)", f"http://127.0.0.1:{hello_port}/", report, None),
            ("home page", base + "/", report, None),
            ("module step", base + "/self-help/understanding-your-thoughts/noticing-patterns", report, None),
            ("booking slot list", base + "/booking/?language=en", report, None),
            ("assessment answer (POST)", base + "/check/wellbeing/1", HERE / "post.lua",
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
            ceiling = None
            for name, *_ in targets:
                measured = sorted(runs[name, connections], key=lambda run: run["requests"] / run["seconds"])
                numbers = measured[len(measured) // 2]
                rate = numbers["requests"] / numbers["seconds"]
                ceiling = ceiling or rate
                errors = sum(run["errors"] for run in measured)
                rows.append(f"| {name} | {connections} | {rate:,.0f} | {rate / ceiling:.2f} | {numbers['p50_ms']:.1f} "
                            f"| {numbers['p95_ms']:.1f} | {numbers['p99_ms']:.1f} | {errors} |")
        print(f"Median of {arguments.rounds} rounds of {arguments.seconds} s per target.\n")
        print("| target | connections | requests/s | × hello world | p50 ms | p95 ms | p99 ms | errors |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(rows))

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


if __name__ == "__main__":
    main()
