"""A redis-server of the test's own on a free port, which the test may freeze (SIGSTOP)
without stalling anyone else's tests."""

from __future__ import annotations

import shutil
import signal
import subprocess  # nosec B404 - the test's own server, fixed arguments
import tempfile
import time
from pathlib import Path

from tests.support.private_postgres import free_port


class PrivateRedis:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("no redis-server")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pause-redis-"))
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 8) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(  # nosec B603
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
