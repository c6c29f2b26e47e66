"""gunicorn for Pause: threaded workers sized from the cores, no access log (the app
logs method, route, status and duration itself, never an address)."""

import multiprocessing
import os

bind = os.environ.get("PAUSE_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("PAUSE_WORKERS", multiprocessing.cpu_count() * 2 + 1))
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
