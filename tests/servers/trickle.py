"""A TCP proxy that passes a real server's answers on, at full speed or a byte at a time.

Used in front of Dovecot to play a server (or a network) that trickles: with `slow`
set, what the server sends reaches the client one byte every `every` seconds, which
never trips a per-read timeout. After `give_up` seconds of trickling the proxy cuts
the connection, so a client without a deadline of its own still ends, late (and the
test that shows it fails instead of hanging). What the client sends passes at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class TrickleProxy:
    """Listens on a free loopback port and forwards each connection to `upstream`."""

    def __init__(self, upstream: tuple[str, int], every: float = 1.0, give_up: float = 40.0):
        self.upstream = upstream
        self.every = every
        self.give_up = give_up
        self.slow = False
        self.trickled = 0  # bytes sent one at a time, over every connection
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        # A timeout, so that the loop sees `stop`: closing a socket does not wake a
        # thread blocked in accept() on it.
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            for args in ((client, server, False), (server, client, True)):
                threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        trickling_since: float | None = None
        try:
            while not self._stop.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if not (answers and self.slow):
                    sink.sendall(data)
                    continue
                for byte in data:
                    if trickling_since is None:
                        trickling_since = time.monotonic()
                    if time.monotonic() - trickling_since > self.give_up:
                        return
                    if self._stop.wait(self.every):
                        return
                    sink.sendall(bytes([byte]))
                    self.trickled += 1
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def trickle_proxy(host: str, port: int, **options: float) -> Iterator[TrickleProxy]:
    proxy = TrickleProxy((host, port), **options)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
