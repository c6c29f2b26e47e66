"""A TCP forwarder the test can cut and restore: the database really goes away and
comes back, as it does when a server restarts, without stopping the shared server."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.stalled = False
        self.attempts = 0  # connections clients have opened, forwarded or not
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.attempts += 1
            if self.stalled:
                with self._lock:
                    self._connections.append(client)  # held open, never answered
                continue
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.up = False
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                    connection.close()
                except OSError:
                    pass
            self._connections.clear()

    def stall(self) -> None:
        """Drop the open connections, then take new ones and never answer: a server that
        hangs, or a network that loses every packet, rather than one that refuses."""
        self.cut()
        self.stalled = True

    def restore(self) -> None:
        self.cut()  # and hang up on the connections held while stalled
        self.up, self.stalled = True, False

    def close(self) -> None:
        self.cut()
        self.listener.close()
