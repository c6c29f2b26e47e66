"""gunicorn for the live sessions' event streams only: nginx sends /live/events and
/staff/live/<id>/events here (deploy/nginx/live.conf), and everything else to the page
workers (deploy/gunicorn.conf.py).

A stream is held open for minutes and spends nearly all of it asleep, waiting for a
wake-up (Redis pub/sub) or its 15-second look in the database. One process with many
threads holds them: a sleeping thread costs memory (measured in the README, "Live text
sessions") and no CPU, and the page workers keep all their threads for pages, however
many streams are open. The same Flask app and the same code check who may read a
session, so there is no second framework to keep in step.
"""

import gc
import os

bind = os.environ.get("PAUSE_LIVE_BIND", "127.0.0.1:8001")
worker_class = "gthread"
# One process: the streams do almost no work, and one process needs one Redis
# subscription and one small database pool.
workers = int(os.environ.get("PAUSE_LIVE_WORKERS", 1))
# One thread per open stream: 1,000 participants and room to spare.
threads = int(os.environ.get("PAUSE_LIVE_THREADS", 1200))
worker_connections = threads + 100
timeout = 30
graceful_timeout = 5
keepalive = 5
max_requests = 0  # a restart would drop every stream at once; the browsers would reconnect anyway
accesslog = None
errorlog = "-"
loglevel = "info"
forwarded_allow_ips = "127.0.0.1"
limit_request_line = 4094
limit_request_fields = 60
# The page server on the same host keeps gunicorn's default control socket.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """As for the page workers: keep the long-lived objects out of full collections."""
    gc.collect()
    gc.freeze()
