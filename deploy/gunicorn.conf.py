"""gunicorn for Pause: threaded workers sized from the cores, no access log (the app
logs method, route, status and duration itself, never an address)."""

import gc
import multiprocessing
import os

bind = os.environ.get("PAUSE_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core and one more, to use a core while another waits on the database.
# The work is Python, one core per process at a time (the GIL): the usual 2 × cores + 1
# only added switching between processes and, on 2 cores, doubled the slowest 1 % of
# answers (deploy/bench/web.py; README).
workers = int(os.environ.get("PAUSE_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("PAUSE_THREADS", 4))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycling guards against slow leaks; every restart drops the page caches, so not often.
max_requests = 100000
max_requests_jitter = 10000
# No access log: nginx and the app both log without client addresses.
accesslog = None
errorlog = "-"
loglevel = "info"
# nginx in front sets X-Forwarded-Proto; the app trusts one proxy (PAUSE_TRUSTED_PROXIES=1).
forwarded_allow_ips = "127.0.0.1"
limit_request_line = 4094
limit_request_fields = 60


def post_worker_init(worker) -> None:
    """Everything loaded by now (the app, its libraries, the translations) lives as long as
    the worker. Python's full garbage collections walked all of it, about 150,000 objects
    and 90 ms with every thread of the worker stopped: the slowest of the requests. Frozen
    (kept out of collections), it costs nothing; collections look only at what requests
    make, and objects still freed by reference counting as before."""
    gc.collect()
    gc.freeze()
